"""Structured JSON logs, correlated by the W3C ``traceparent`` of the request or event."""

from __future__ import annotations

import logging
import re
import secrets
from functools import lru_cache

from aws_lambda_powertools import Logger

from functions.core.settings import get_settings

_TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")

# Powertools warns when it runs outside AWS Lambda; PIC runs on Knative on purpose.
logging.getLogger("aws_lambda_powertools").setLevel(logging.ERROR)


@lru_cache(maxsize=1)
def get_logger() -> Logger:
    """The process logger: JSON lines with service, level, message and trace ids."""
    settings = get_settings()
    return Logger(service=settings.service_name, level=settings.log_level, use_rfc3339=True)


def trace_id(traceparent: str | None) -> str | None:
    """The trace id of a valid ``traceparent``, else ``None``."""
    match = _TRACEPARENT.match(traceparent or "")
    if not match or match.group(1) == "0" * 32:  # all-zero trace ids are invalid (W3C Trace Context)
        return None
    return match.group(1)


def ensure_traceparent(traceparent: str | None) -> str:
    """Keep a valid incoming ``traceparent`` (new span id), or start a new trace."""
    tid = trace_id(traceparent) or secrets.token_hex(16)
    return f"00-{tid}-{secrets.token_hex(8)}-01"


def bind_trace(traceparent: str | None) -> str:
    """Attach the trace to every log line of this thread; returns the traceparent to propagate."""
    current = ensure_traceparent(traceparent)
    get_logger().thread_safe_append_keys(trace_id=trace_id(current), traceparent=current)
    return current
