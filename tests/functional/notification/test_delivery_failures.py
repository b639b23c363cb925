"""Functional: provider failures — temporary ones retried with backoff up to the channel's limit, then
permanent-failure and a dead letter; permanent refusals recorded at once; signed status callbacks."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any, ClassVar

import pytest

from functions.core.settings import Settings
from functions.core.webhooks import verify
from local.harness import Platform, free_port
from tests.functional.notification_support import (
    IBI_VALUES,
    REQUESTED,
    fresh_template,
    notify,
    send_event,
    sink,
    unique_email,
    wait_status,
)

pytestmark = pytest.mark.functional


def failing_mobile(suffix: str) -> str:
    """A mobile the local SMS sink answers with a fault (…0503: 503, …0400: 400)."""
    return f"+346{uuid.uuid4().int % 10**4:04d}{suffix}"


def test_a_provider_that_keeps_failing_is_retried_up_to_the_limit_then_dead_lettered(platform: Platform) -> None:
    # GIVEN an SMS provider that answers 503 for this number
    template = fresh_template(platform)
    phone = failing_mobile("0503")

    # WHEN a notification is requested
    created = notify(platform, {"template": template, "recipient": {"phone": phone}, "personalisation": IBI_VALUES})
    assert created.status_code == 201, created.text

    # THEN it is tried 4 times (SMS's limit) with temporary failures between, then fails for good
    done = wait_status(platform, created.json()["id"], ("permanent-failure",), timeout=90)
    attempts = [h for h in done["history"] if h["status"] == "sending"]
    assert len(attempts) == 4
    assert [h["status"] for h in done["history"]].count("temporary-failure") == 3
    assert done["reason"] == "retries-exhausted"
    # AND the accepted event is dead-lettered with the delivery-exhausted problem; nothing reached the sink
    letters = platform.wait_for(
        lambda: [d for d in platform.deadletters() if d["event"].get("subject") == created.json()["id"]],
        what="the dead letter",
    )
    assert "delivery-exhausted" in str(letters[0])
    assert sink(platform, "sms", phone) == []


def test_a_permanent_refusal_is_recorded_at_once(platform: Platform) -> None:
    template = fresh_template(platform)
    phone = failing_mobile("0400")
    created = notify(platform, {"template": template, "recipient": {"phone": phone}, "personalisation": IBI_VALUES})
    done = wait_status(platform, created.json()["id"], ("permanent-failure",))
    assert done["reason"] == "provider-refused"
    assert [h["status"] for h in done["history"]].count("sending") == 1


class Receiver(BaseHTTPRequestHandler):
    received: ClassVar[list[tuple[dict[str, str], bytes]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        Receiver.received.append((dict(self.headers), body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", free_port()), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/callbacks"
    server.shutdown()


def test_the_requester_gets_a_signed_callback_with_the_final_status(platform: Platform, receiver: str) -> None:
    # GIVEN a requester that asks for callbacks
    template = fresh_template(platform)
    body = {"template": template, "recipient": {"email": unique_email()}, "personalisation": IBI_VALUES,
            "reference": "REF-77", "callback_url": receiver}  # fmt: skip

    # WHEN the notification is delivered
    created = notify(platform, body)
    wait_status(platform, created.json()["id"])

    # THEN one callback says delivered, with a valid HMAC-SHA256 signature over its body
    found = platform.wait_for(
        lambda: [r for r in Receiver.received if json.loads(r[1])["id"] == created.json()["id"]], what="the callback"
    )
    headers, raw = found[0]
    payload = json.loads(raw)
    assert (payload["status"], payload["reference"], payload["channel"]) == ("delivered", "REF-77", "email")
    secret = Settings.model_validate({}).callback_secret  # the local default (a Secret when deployed)
    assert verify(secret, headers["X-PIC-Signature"], raw, now=int(time.time()))
    assert not verify(secret, headers["X-PIC-Signature"], raw + b"x", now=int(time.time()))


# ---- callbacks only to allowed hosts (PIC_CALLBACK_HOSTS): no server-side request forgery ----------------

METADATA = "http://169.254.169.254/latest/meta-data/iam/security-credentials/"  # a cloud's instance credentials


def test_a_callback_to_a_host_outside_the_allow_list_is_refused_and_nothing_is_sent(platform: Platform) -> None:
    # GIVEN a request whose callback points at an internal address PIC must never call
    email = unique_email()
    body = {"template": fresh_template(platform), "recipient": {"email": email}, "personalisation": IBI_VALUES,
            "callback_url": METADATA}  # fmt: skip

    # WHEN it is posted
    answer = notify(platform, body)

    # THEN a 422 names the field, and no message was sent
    assert answer.status_code == 422, answer.text
    problem = answer.json()
    assert problem["type"] == "/problems/validation"
    assert problem["errors"] == [{"field": "callback_url", "message": "host not allowed"}]
    assert not sink(platform, "mail", email)


def test_an_event_asking_for_a_callback_to_an_unlisted_host_is_dead_lettered_with_the_reason(
    platform: Platform,
) -> None:
    event_id = str(uuid.uuid4())
    email = unique_email()
    data = {"template": fresh_template(platform), "recipient": {"email": email}, "personalisation": IBI_VALUES,
            "callback_url": "http://pic-opa.pic.svc.cluster.local:8181/v1/data"}  # fmt: skip
    send_event(platform, REQUESTED, data, source="/legacy/tributos", event_id=event_id)

    (dead,) = platform.wait_for(
        lambda: [d for d in platform.deadletters() if d["event"]["id"] == event_id], what="the dead letter"
    )
    assert "callback_url" in json.dumps(dead)
    assert not sink(platform, "mail", email)
