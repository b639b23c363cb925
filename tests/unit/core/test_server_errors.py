"""gunicorn's own refusals become problem documents: the writer it calls is replaced once, in the kernel."""

from __future__ import annotations

import json
import socket

import pytest
from gunicorn import util

from functions.core import server_errors


def _parse(raw: bytes) -> tuple[str, dict[str, str], dict[str, object]]:
    head, _, body = raw.partition(b"\r\n\r\n")
    status, *lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, v in (line.split(":", 1) for line in lines)}
    return status, headers, json.loads(body)


@pytest.mark.parametrize(
    ("status", "slug"),
    [(400, "malformed-request"), (414, "uri-too-long"), (431, "header-fields-too-large"), (417, "expectation-failed"),
     (501, "transfer-coding-not-implemented"), (500, "internal")],
)  # fmt: skip
def test_each_server_refusal_is_a_problem_with_its_status(status: int, slug: str) -> None:
    # GIVEN a refusal gunicorn makes before any app runs WHEN it is written
    line, headers, body = _parse(server_errors.response_bytes(status, "what gunicorn said"))

    # THEN a complete HTTP answer with a problem body of that status, and the connection closes
    assert line.startswith(f"HTTP/1.1 {status} ")
    assert headers["content-type"] == "application/problem+json" and headers["connection"] == "close"
    assert int(headers["content-length"]) == len(json.dumps(body).encode())
    assert body == {
        "type": f"/problems/{slug}",
        "title": body["title"],
        "status": status,
        "detail": "what gunicorn said",
    }


def test_a_long_message_is_cut_short() -> None:
    # GIVEN a 414 whose message quotes a 5,000-character request line WHEN written THEN the detail is short
    _, _, body = _parse(server_errors.response_bytes(414, "x" * 5000))
    assert len(str(body["detail"])) == server_errors.DETAIL_CHARS


def test_install_replaces_gunicorns_html_writer(monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN a process running under gunicorn (its util module loaded) with the HTML writer
    monkeypatch.setattr(util, "write_error", util.write_error)
    left, right = socket.socketpair()

    # WHEN the kernel installs its writer and gunicorn refuses a request line
    server_errors.install()
    util.write_error(left, 400, "Bad Request", "Invalid Request Line 'GARBAGE'")
    left.close()

    # THEN what the client reads is a problem, not HTML
    status, headers, body = _parse(right.recv(65536))
    right.close()
    assert status == "HTTP/1.1 400 Bad Request" and headers["content-type"] == "application/problem+json"
    assert body["type"] == "/problems/malformed-request" and "GARBAGE" in str(body["detail"])
