"""The platform's public HTTP API as the signed-in person: the web function's only way to data (a BFF). The client is
the kernel's (``functions/core/api.py``), shared with the other channels."""

from __future__ import annotations

from functions.core.api import TIMEOUT, Api, ApiProblem, ApiUnavailableError

__all__ = ["TIMEOUT", "Api", "ApiProblem", "ApiUnavailableError"]
