"""The local stand-ins' JSON answers (the gateway's own routes, the seed API, the provider sinks, the local Redsys,
the wallet app): one shape for all of them."""

from __future__ import annotations

import json
from typing import Any

from werkzeug.wrappers import Response


def as_json(body: Any, status: int = 200) -> Response:
    """``body`` as ``application/json``; a value JSON cannot hold (a datetime, a path) as its text."""
    return Response(json.dumps(body, default=str), status=status, content_type="application/json")
