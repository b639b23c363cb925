"""The HTTP server's own refusals as RFC 9457 problems, like every other error PIC answers.

gunicorn answers a request it cannot parse itself, before any app runs: a malformed request line (400), a
URI over ``limit_request_line`` (414), header fields over ``limit_request_fields``/``_field_size`` (431), an
unmet ``Expect`` (417), a transfer coding it does not implement (501). It writes a fixed HTML page through
``gunicorn.util.write_error`` and offers no setting to change it (benoitc/gunicorn#993), so ``install``
puts a problem+json writer in its place, in whichever gunicorn process loads the kernel: the local
gateway's workers, and functions-framework's gunicorn in the cluster. The limits themselves stay
gunicorn's: they bound what a request may hold before anything of PIC reads it.
"""

from __future__ import annotations

import json
import socket
import sys
from http import HTTPStatus

from functions.core.errors import (
    PROBLEM_CONTENT_TYPE,
    ExpectationFailedError,
    ForbiddenError,
    HeaderFieldsTooLargeError,
    MalformedRequestError,
    PicError,
    TransferCodingNotImplementedError,
    UriTooLongError,
)

SERVER_PROBLEMS: dict[int, type[PicError]] = {
    400: MalformedRequestError,
    403: ForbiddenError,
    414: UriTooLongError,
    417: ExpectationFailedError,
    431: HeaderFieldsTooLargeError,
    501: TransferCodingNotImplementedError,
}
DETAIL_CHARS = 300  # gunicorn's message quotes the offending request line: keep it short


def server_problem(status: int, detail: str) -> PicError:
    """The problem for a status the server answers by itself; an unknown status keeps its number."""
    kind = SERVER_PROBLEMS.get(status)
    if kind is not None:
        return kind(detail[:DETAIL_CHARS] or HTTPStatus(status).phrase)
    error = PicError(detail[:DETAIL_CHARS] or "an unexpected error; it was logged")
    error.status = status
    return error


def response_bytes(status: int, detail: str) -> bytes:
    """A whole HTTP/1.1 response carrying the problem; the connection closes after it."""
    body = json.dumps(server_problem(status, detail).to_problem()).encode()
    head = (
        f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\n"
        "Connection: close\r\n"
        f"Content-Type: {PROBLEM_CONTENT_TYPE}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode("latin-1") + body


def write_problem(sock: socket.socket, status_int: int, reason: str, mesg: str) -> None:
    """``gunicorn.util.write_error``'s signature, writing problem+json instead of HTML."""
    from gunicorn import util

    util.write_nonblock(sock, response_bytes(status_int, mesg))


def install() -> None:
    """Make gunicorn answer its own errors as problems, if this process runs under gunicorn."""
    util = sys.modules.get("gunicorn.util")
    if util is not None:
        util.write_error = write_problem  # type: ignore[attr-defined]
