"""A DynamoDB endpoint that behaves like ScyllaDB Alternator where PIC cares: no transactions.

It forwards every DynamoDB JSON request to DynamoDB Local unchanged, except ``TransactWriteItems`` and
``TransactGetItems``, which it answers exactly as Alternator does (``UnknownOperationException:
Unsupported operation ...``, scylladb/scylladb#5064). ``make run`` with ``PIC_LOCAL_STORE=alternator-like``
and the functional tests with ``PIC_TEST_STORE=alternator-like`` run the whole platform on it, with
``PIC_STORE_TRANSACTIONS=emulated`` (ADR 0005). Alternator's other differences (no PITR/backup API,
eventually consistent GSIs as on DynamoDB) do not change PIC's code paths.

Run alone: ``python -m local.alternator_like --port 8001 --upstream http://127.0.0.1:8000``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

UNSUPPORTED = frozenset({"TransactWriteItems", "TransactGetItems"})
HOP_BY_HOP = frozenset({"host", "content-length", "connection", "keep-alive", "transfer-encoding"})
STALE = (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError)  # a kept-alive socket closed


class AlternatorLike(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port: int, upstream: str) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.upstream = upstream
        split = urlsplit(upstream)
        self._host, self._port = split.hostname or "127.0.0.1", split.port or 80
        self._connections = threading.local()  # one kept-alive upstream connection per client connection's thread
        self.refused: list[str] = []

    def forward(self, body: bytes, headers: dict[str, str]) -> tuple[int, bytes, str]:
        """POST to DynamoDB Local on this thread's kept-alive connection (http.client: a forwarded call costs a
        fraction of the CPU it did through requests, and the emulated transactions make many). A kept-alive
        connection the upstream closed meanwhile is opened again once; any other failure is the caller's."""
        reused = getattr(self._connections, "conn", None) is not None
        try:
            return self._post(body, headers)
        except STALE:
            if not reused:
                raise
            return self._post(body, headers)

    def _post(self, body: bytes, headers: dict[str, str]) -> tuple[int, bytes, str]:
        conn = getattr(self._connections, "conn", None)
        if conn is None:
            conn = self._connections.conn = http.client.HTTPConnection(self._host, self._port, timeout=60)
        try:
            conn.request("POST", "/", body=body, headers=headers)
            answer = conn.getresponse()
            return answer.status, answer.read(), answer.getheader("Content-Type", "application/x-amz-json-1.0")
        except (OSError, http.client.HTTPException):
            conn.close()
            self._connections.conn = None
            raise

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def start(self) -> AlternatorLike:
        threading.Thread(target=self.serve_forever, name="alternator-like", daemon=True).start()
        return self


class _Handler(BaseHTTPRequestHandler):
    server: AlternatorLike
    protocol_version = "HTTP/1.1"  # keep-alive, as botocore expects of a DynamoDB endpoint

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        operation = self.headers.get("X-Amz-Target", "").rsplit(".", 1)[-1]
        if operation in UNSUPPORTED:
            self.server.refused.append(operation)
            self._answer(
                400,
                json.dumps(
                    {
                        "__type": "com.amazonaws.dynamodb.v20120810#UnknownOperationException",
                        "message": f"Unsupported operation {operation}",
                    }
                ).encode(),
                "application/x-amz-json-1.0",
            )
            return
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        try:
            status, answer, content_type = self.server.forward(body, headers)
        except (OSError, http.client.HTTPException) as exc:
            self._answer(503, json.dumps({"message": f"upstream unreachable: {exc}"}).encode(), "application/json")
            return
        self._answer(status, answer, content_type)

    def do_GET(self) -> None:  # health probes of the endpoint itself
        self._answer(200, b"healthy: alternator-like", "text/plain")

    def _answer(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the platform logs what matters."""


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m local.alternator_like", description=__doc__)
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--upstream", default="http://127.0.0.1:8000")
    args = parser.parse_args()
    server = AlternatorLike(args.port, args.upstream)
    print(f"alternator-like endpoint on {server.endpoint} -> {args.upstream}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
