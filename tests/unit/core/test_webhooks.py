"""The kernel's signed webhooks (``functions.core.webhooks``): a receiver verifies the sender and the time; a
delivery that fails is a conflict the broker retries. A local HTTP server stands for the receiver."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any, ClassVar

import pytest

from functions.core import webhooks
from functions.core.errors import ConflictError

SECRET = "a-secret-of-16-chars"


class Receiver(BaseHTTPRequestHandler):
    answer = 200
    received: ClassVar[list[tuple[dict[str, str], bytes]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Receiver.received.append((dict(self.headers), body))
        self.send_response(Receiver.answer)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        return


@pytest.fixture
def receiver() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    Receiver.received, Receiver.answer = [], 200
    yield f"http://127.0.0.1:{server.server_port}/hook"
    server.shutdown()


def test_a_webhook_is_signed_with_its_time_and_names_its_cause(receiver: str) -> None:
    webhooks.deliver(receiver, {"debt_id": "fine-1"}, secret=SECRET, event_id="ev-1", now=1_700_000_000)
    ((headers, body),) = Receiver.received
    assert json.loads(body) == {"debt_id": "fine-1"} and headers["X-PIC-Event-Id"] == "ev-1"
    assert webhooks.verify(SECRET, headers["X-PIC-Signature"], body, now=1_700_000_060)
    assert not webhooks.verify(SECRET, headers["X-PIC-Signature"], body + b" ", now=1_700_000_060)
    assert not webhooks.verify("another-secret-16ch", headers["X-PIC-Signature"], body, now=1_700_000_060)
    assert not webhooks.verify(SECRET, headers["X-PIC-Signature"], body, now=1_700_001_000)  # too old: a replay


def test_a_refused_or_unreachable_webhook_is_a_conflict_for_the_broker_to_retry(receiver: str) -> None:
    Receiver.answer = 503
    with pytest.raises(ConflictError):
        webhooks.deliver(receiver, {}, secret=SECRET, event_id="ev-2", now=1)
    with pytest.raises(ConflictError):
        webhooks.deliver("http://127.0.0.1:9/hook", {}, secret=SECRET, event_id="ev-3", now=1)
