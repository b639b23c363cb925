"""The platform's public HTTP API as the signed-in person: how a channel reaches another domain's data (the web
function, a BFF; the assistant's procedures), never by importing it.

Every call carries the session's bearer token and the request's ``traceparent``; the policies decide as for
any client. A problem answer (RFC 9457) becomes ``ApiProblem`` with its status, title, detail and field
errors, which the pages show next to the fields; a transport failure becomes a 503 problem.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests

from functions.core.audit import PURPOSE_HEADER
from functions.core.errors import PicError

TIMEOUT = (2.0, 10.0)  # connect, read: a page waits for the API, not forever


class ApiProblem(PicError):  # noqa: N818 - a problem document, by its RFC 9457 name
    """The API refused (4xx/5xx): its own status, title and field errors, shown as a page."""

    slug = "api-problem"

    def __init__(self, status: int, problem: dict[str, Any]) -> None:
        super().__init__(
            str(problem.get("detail") or problem.get("title") or f"the API answered {status}"),
            errors=problem.get("errors") if isinstance(problem.get("errors"), list) else None,
        )
        self.status = status
        self.body = problem  # the whole document: a domain's own members (e.g. a policy's ``reasons``)
        self.title = str(problem.get("title") or "The request was refused")
        self.slug = str(problem.get("type", "/problems/api-problem")).rsplit("/", 1)[-1] or "api-problem"

    def field_errors(self) -> dict[str, str]:
        """``{field: message}`` from the problem's ``errors`` (the pydantic location's last part)."""
        found: dict[str, str] = {}
        for error in self.errors or []:
            if isinstance(error, dict):
                field = str(error.get("field") or error.get("loc") or "").rsplit(".", 1)[-1]
                found.setdefault(field, str(error.get("message") or error.get("msg") or ""))
        return found


class ApiUnavailableError(PicError):
    status, slug, title = 503, "api-unavailable", "The service is not answering"


@dataclass(frozen=True)
class Api:
    """The API host (``PIC_API_URL``) with one person's token; a ``requests.Session`` for keep-alive."""

    base_url: str
    http: requests.Session

    def call(
        self,
        method: str,
        path: str,
        token: str,
        traceparent: str,
        *,
        body: Any = None,
        params: dict[str, str] | None = None,
        purpose: str = "",
        idempotency_key: str = "",
        extra_headers: dict[str, str] | None = None,
        timeout: tuple[float, float] = TIMEOUT,
    ) -> Any:
        """The JSON answer of ``method path`` (None for 204), or ``ApiProblem``. An agent's ``purpose`` goes in
        the ``Access-Purpose`` header: the policy requires it and the access log records it. An
        ``idempotency_key`` (a form's, sent twice by a double click) makes the write answer once. No ``token``:
        no ``Authorization`` at all (a route open to the ``anonymous`` subject, the assistant's, needs none);
        ``extra_headers``: a route's own (the assistant's ``X-Conversation-Key``); ``timeout``: longer for a call
        known to be slow (the assistant's answer)."""
        headers = {"traceparent": traceparent, "Accept": "application/json", **(extra_headers or {})}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if purpose:
            headers[PURPOSE_HEADER] = purpose
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        try:
            response = self.http.request(
                method, self.base_url.rstrip("/") + path, json=body, params=params, headers=headers, timeout=timeout
            )
        except requests.RequestException as exc:
            raise ApiUnavailableError(f"the API did not answer ({type(exc).__name__})") from exc
        return self._answer(response)

    def download(self, path: str, token: str, traceparent: str) -> requests.Response:
        """A file the API serves (an access export), passed through as it comes, or ``ApiProblem``."""
        headers = {"Authorization": f"Bearer {token}", "traceparent": traceparent}
        try:
            response = self.http.get(self.base_url.rstrip("/") + path, headers=headers, timeout=TIMEOUT)
        except requests.RequestException as exc:
            raise ApiUnavailableError(f"the API did not answer ({type(exc).__name__})") from exc
        if response.status_code >= 400:
            self._answer(response)
        return response

    @staticmethod
    def _answer(response: requests.Response) -> Any:
        if response.status_code == 204 or not response.content:
            if response.status_code >= 400:
                raise ApiProblem(response.status_code, {})
            return None
        try:
            body = response.json()
        except ValueError:
            body = {"detail": f"the API answered {response.status_code} without JSON"}
        if response.status_code >= 400:
            raise ApiProblem(response.status_code, body if isinstance(body, dict) else {})
        return body
