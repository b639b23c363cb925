"""A store without ``TransactWriteItems`` (ScyllaDB Alternator, ADR 0005) gets a typed 503, not a 500.

We cannot run Alternator here, so a tiny HTTP server answers the DynamoDB JSON protocol the way
Alternator does for an operation it lacks (scylladb/scylladb#5064); botocore talks to it over real HTTP.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from pynamodb.attributes import UnicodeAttribute
from pynamodb.models import Model

from functions.core import settings, store
from functions.core.errors import StoreUnsupportedError

SEEN: list[str] = []


class AlternatorLike(BaseHTTPRequestHandler):
    """Answers every call as Alternator answers one it does not implement."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        operation = self.headers.get("X-Amz-Target", "").rsplit(".", 1)[-1]
        SEEN.append(operation)
        body = json.dumps(
            {
                "__type": "com.amazonaws.dynamodb.v20120810#UnknownOperationException",
                "message": f"Unsupported operation {operation}",
            }
        ).encode()
        self.send_response(400)
        self.send_header("Content-Type", "application/x-amz-json-1.0")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: pytest shows failures."""


@pytest.fixture
def alternator_endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), AlternatorLike)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    endpoint = f"http://127.0.0.1:{server.server_address[1]}"
    monkeypatch.setenv("PIC_DYNAMODB_ENDPOINT", endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "local")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "local")
    settings.get_settings.cache_clear()
    store.connection.cache_clear()
    yield endpoint
    server.shutdown()
    settings.get_settings.cache_clear()
    store.connection.cache_clear()


def test_a_unit_of_work_on_a_store_without_transactions_is_a_typed_503(alternator_endpoint: str) -> None:
    # GIVEN an item bound to the Alternator-like endpoint
    class Thing(Model):
        Meta = store.model_meta("things")
        id = UnicodeAttribute(hash_key=True)

    uow = store.UnitOfWork()
    uow.put(Thing(id="a"))
    uow.put(Thing(id="b"))

    # WHEN the unit commits
    with pytest.raises(StoreUnsupportedError) as raised:
        uow.commit()

    # THEN the caller gets the documented problem naming the operation, and the store saw one call
    problem = raised.value.to_problem()
    assert problem["status"] == 503
    assert problem["type"] == "/problems/store-unsupported"
    assert problem["operation"] == "TransactWriteItems"
    assert alternator_endpoint in problem["detail"]
    assert SEEN == ["TransactWriteItems"]
