"""Functional: the outbox relay against a real DynamoDB Local and a real HTTP sink — a row the sink can never
take (it cannot be sent as HTTP, or the sink refuses it with a 4xx) is parked after a few attempts with its
reason, and never holds up the rows behind it; rows the sink takes are published once. Each domain's relay
publishes only that domain's rows, with that domain's sender token (re-read when the file is rotated); a 401
(the token, not the row) is retried, never parked; rows left under the old shard keys are adopted."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from functions.core.relay import PARK_AFTER
from local import dynamodb
from local.harness import free_port

pytestmark = pytest.mark.functional

ROOT = Path(__file__).resolve().parents[3]
REGION = "eu-south-2"
RECEIVED: list[str] = []
AUTHORIZATIONS: dict[str, str] = {}

# Runs in its own process: the pynamodb models bind to the endpoint of the environment when imported.
SCRIPT = """
import json, sys
from datetime import UTC, datetime
from functions.core.outbox import OutboxRecord
from functions.core.relay import PARK_AFTER, Relay
from functions.core.tables import create_tables

create_tables()
now = datetime.now(UTC).isoformat()
rows = {"good-1": ("es.madrid.pic.test.v1", "c-1"), "poison": ("es.madrid.pic.test.v1", "c-\\n1"),
        "refused": ("es.madrid.pic.refused.v1", "c-2"), "good-2": ("es.madrid.pic.test.v1", "c-3")}
for n, (row_id, (type_, subject)) in enumerate(rows.items()):
    OutboxRecord(id=row_id, type=type_, source="/pic/consent", subject=subject, time=now, dataschema="/schemas/test",
                 data="{}", created_at=f"{now}-{n}", pending_shard="consent#0", expires_at=2_000_000_000).save()
relay = Relay(sys.argv[1], "consent", token=None)
for _ in range(PARK_AFTER + 2):
    relay.run_once()
relay.drain()
state = {}
for row_id in rows:
    r = OutboxRecord.get(row_id)
    state[row_id] = {"sent": r.sent_at is not None, "parked": r.parked_at is not None, "pending": r.pending_shard,
                     "attempts": r.attempts, "error": r.last_error}
print(json.dumps(state))
"""


class Sink(BaseHTTPRequestHandler):
    """A broker ingress that refuses one event type for good (400) and accepts the rest (202)."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        refused = self.headers.get("ce-type") == "es.madrid.pic.refused.v1"
        unauthenticated = self.headers.get("Authorization") == "Bearer expired"
        if not (refused or unauthenticated):
            RECEIVED.append(self.headers["ce-id"])
            AUTHORIZATIONS[self.headers["ce-id"]] = self.headers.get("Authorization", "")
        self.send_response(401 if unauthenticated else 400 if refused else 202)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


@pytest.fixture
def endpoints(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, str]]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "local")  # DynamoDB Local accepts any credentials
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "local")
    port = free_port()
    process = dynamodb.start(tmp_path / "ddb", port)
    sink = ThreadingHTTPServer(("127.0.0.1", 0), Sink)
    threading.Thread(target=sink.serve_forever, daemon=True).start()
    try:
        dynamodb.wait_ready(f"http://127.0.0.1:{port}", REGION)
        yield f"http://127.0.0.1:{port}", f"http://127.0.0.1:{sink.server_address[1]}/"
    finally:
        sink.shutdown()
        process.terminate()
        process.wait(timeout=30)


def relay_env(dynamodb_endpoint: str) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "PIC_DYNAMODB_ENDPOINT": dynamodb_endpoint,
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "PIC_TABLE_PREFIX": "pic-",
    }


def test_rows_the_sink_can_never_take_are_parked_and_hold_up_nothing(endpoints: tuple[str, str]) -> None:
    dynamodb_endpoint, sink = endpoints
    env = relay_env(dynamodb_endpoint)
    # GIVEN four pending rows, one with a control character in its subject and one the sink refuses
    # WHEN the relay makes more passes than it allows attempts
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, sink], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    state = json.loads(done.stdout.strip().splitlines()[-1])

    # THEN the good rows were published once each and marked sent
    assert sorted(RECEIVED) == ["good-1", "good-2"]
    assert state["good-1"]["sent"] and state["good-2"]["sent"]
    # AND the two poison rows left the pending index, parked with their reason after three attempts
    for row_id, reason in (("poison", "cannot be sent as HTTP"), ("refused", "sink answered 400")):
        assert state[row_id]["parked"] and not state[row_id]["sent"], state[row_id]
        assert state[row_id]["pending"] is None and state[row_id]["attempts"] == 3
        assert reason in state[row_id]["error"]


DOMAINS_SCRIPT = """
import json, sys
from datetime import UTC, datetime
from pathlib import Path
from functions.core.outbox import OutboxRecord
from functions.core.relay import PARK_AFTER, Relay, TokenFile
from functions.core.tables import create_tables

create_tables()
now = datetime.now(UTC).isoformat()
rows = {"consent-1": ("/pic/consent", "consent#0"), "notification-1": ("/pic/notification", "notification#0"),
        "consent-old": ("/pic/consent", "2"), "notification-old": ("/pic/notification", "3"),
        "consent-2": ("/pic/consent", "consent#0")}
for n, (row_id, (source, shard)) in enumerate(rows.items()):
    OutboxRecord(id=row_id, type="es.madrid.pic.test.v1", source=source, subject="c-1", time=now,
                 dataschema="/schemas/test", data="{}", created_at=f"{now}-{n}", pending_shard=shard,
                 expires_at=2_000_000_000).save()
token = Path(sys.argv[2])
token.write_text("expired")
relay = Relay(sys.argv[1], "consent", TokenFile(token))
relay.adopt_legacy_rows()
for _ in range(PARK_AFTER + 1):  # the sink answers 401 to the expired token (failures are recorded at once)
    relay.run_once()
refused = {r: OutboxRecord.get(r).attempts for r in ("consent-1", "consent-old", "consent-2")}
token.write_text("consent-token")  # kubelet rotates the projected token
relay.run_once()
relay.drain()
state = {r: {"sent": OutboxRecord.get(r).sent_at is not None, "parked": OutboxRecord.get(r).parked_at is not None,
             "shard": OutboxRecord.get(r).pending_shard} for r in rows}
print(json.dumps({"refused": refused, "state": state}))
"""


def test_a_domains_relay_publishes_only_its_rows_as_its_sender_and_retries_a_refused_token(
    endpoints: tuple[str, str], tmp_path: Path
) -> None:
    dynamodb_endpoint, sink = endpoints
    RECEIVED.clear()
    # GIVEN pending rows of the consent and notification domains, two under the old shard keys, and a consent
    # relay whose token file holds a token the sink refuses (401)
    # WHEN it adopts the old rows, makes more passes than it allows attempts, then its token is rotated
    done = subprocess.run(
        [sys.executable, "-c", DOMAINS_SCRIPT, sink, str(tmp_path / "token")],
        env=relay_env(dynamodb_endpoint),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])

    # THEN the 401s were retried, not parked, and after the rotation every consent row (the adopted one too)
    # was published once, with the new token
    assert all(attempts == PARK_AFTER + 1 for attempts in result["refused"].values()), result
    assert sorted(RECEIVED) == ["consent-1", "consent-2", "consent-old"]
    assert {AUTHORIZATIONS[r] for r in RECEIVED} == {"Bearer consent-token"}
    state = result["state"]
    assert all(state[r]["sent"] and not state[r]["parked"] for r in ("consent-1", "consent-2", "consent-old"))
    # AND the notification domain's rows were left for its own relay, still pending
    assert state["notification-1"] == {"sent": False, "parked": False, "shard": "notification#0"}
    assert state["notification-old"] == {"sent": False, "parked": False, "shard": "3"}
