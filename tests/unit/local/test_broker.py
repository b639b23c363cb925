"""The local Knative Broker: CloudEvent parsing, persistent fan-out, and the delivery decisions.

The store runs on a SQLite file in ``tmp_path``; the dispatcher's HTTP ``send`` is replaced by a fake
that answers with a chosen ``Outcome``, so no subscriber is called.
"""

from __future__ import annotations

import base64
import json
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from local.broker import (
    BrokerStore,
    Dispatcher,
    InvalidCloudEventError,
    Outcome,
    binary_request,
    parse_event,
)
from local.manifests import Delivery, EventPolicy, Trigger, trigger_subject
from local.senders import SenderPolicies

REQUESTED = "es.madrid.pic.consent.change.requested.v1"
CHANGED = "es.madrid.pic.consent.changed.v1"
DLS = "Broker/pic-deadletters"
BINARY = {
    "ce-specversion": "1.0",
    "ce-id": "e-1",
    "ce-source": "/legacy/oficinas",
    "ce-type": REQUESTED,
    "ce-time": "2026-03-01T10:30:00Z",
    "content-type": "application/json",
}


def event(id_: str = "e-1", type_: str = REQUESTED, **extra: Any) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": id_,
        "source": "/legacy/oficinas",
        "type": type_,
        "time": "2026-03-01T10:30:00Z",
        "datacontenttype": "application/json",
        "data": {"citizen_id": "c-1", "purpose": "campaigns"},
        **extra,
    }


def trigger(
    name: str,
    type_: str | None = None,
    broker: str = "pic",
    retry: int = 2,
    dls: str | None = DLS,
    policy: str = "exponential",
) -> Trigger:
    return Trigger(
        name=name,
        broker=broker,
        filters={"type": type_} if type_ else {},
        subscriber=f"svc-{name}",
        subscriber_path="/",
        delivery=Delivery(retry=retry, backoff_policy=policy, backoff_delay=10.0, dead_letter_sink=dls),
    )


# ---------------------------------------------------------------------------
# Parsing CloudEvents
# ---------------------------------------------------------------------------


def test_a_binary_mode_request_becomes_one_structured_event() -> None:
    parsed = parse_event(BINARY, b'{"citizen_id": "c-1"}')
    assert parsed == {
        "specversion": "1.0",
        "id": "e-1",
        "source": "/legacy/oficinas",
        "type": REQUESTED,
        "time": "2026-03-01T10:30:00Z",
        "datacontenttype": "application/json",
        "data": {"citizen_id": "c-1"},
    }


def test_a_structured_mode_request_is_read_from_its_body() -> None:
    body = json.dumps({**event(), "traceparent": "00-" + "a" * 32 + "-" + "b" * 16 + "-01"}).encode()
    parsed = parse_event({"content-type": "application/cloudevents+json"}, body)
    assert parsed["id"] == "e-1" and parsed["data"] == event()["data"]
    assert parsed["traceparent"].startswith("00-aaaa")


def test_binary_data_that_is_not_json_is_kept_as_base64() -> None:
    parsed = parse_event({**BINARY, "content-type": "application/octet-stream"}, b"\x00\x01\xff")
    assert base64.b64decode(parsed["data_base64"]) == b"\x00\x01\xff" and "data" not in parsed


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        # the SDK then reads the body as a structured event, so its message names specversion
        ({k: v for k, v in BINARY.items() if k != "ce-source"}, None),
        ({k: v for k, v in BINARY.items() if k != "ce-type"}, None),
        ({k: v for k, v in BINARY.items() if k != "ce-specversion"}, "specversion"),
        ({**BINARY, "ce-id": " "}, "id"),
        ({**BINARY, "ce-specversion": "0.3"}, "1.0"),
        ({"content-type": "application/json"}, "specversion"),
    ],
    ids=["no-source", "no-type", "no-specversion", "blank-id", "specversion-0.3", "plain-json"],
)
def test_a_request_missing_required_attributes_is_not_a_cloudevent(
    headers: dict[str, str], message: str | None
) -> None:
    with pytest.raises(InvalidCloudEventError, match=message):
        parse_event(headers, b"{}")


def test_a_structured_request_that_is_not_json_is_not_a_cloudevent() -> None:
    with pytest.raises(InvalidCloudEventError):
        parse_event({"content-type": "application/cloudevents+json"}, b"{not json")


def test_binary_requests_carry_attributes_as_ce_headers_and_the_trace_as_traceparent() -> None:
    traceparent = "00-" + "a" * 32 + "-" + "b" * 16 + "-01"
    headers, body = binary_request(event(traceparent=traceparent))
    assert headers["content-type"] == "application/json"
    assert (headers["ce-id"], headers["ce-type"], headers["ce-specversion"]) == ("e-1", REQUESTED, "1.0")
    assert headers["traceparent"] == headers["ce-traceparent"] == traceparent
    assert "ce-data" not in headers and "ce-datacontenttype" not in headers
    assert json.loads(body) == event()["data"]


extension_names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=3, max_size=10).filter(
    lambda n: (
        n
        not in {
            "id",
            "source",
            "type",
            "specversion",
            "time",
            "data",
            "datacontenttype",
            "dataschema",
            "subject",
            "traceparent",
        }
    )
)
json_data = st.dictionaries(
    st.text(max_size=6),
    st.none()
    | st.booleans()
    | st.integers(-(10**6), 10**6)
    | st.text(max_size=8)
    | st.lists(st.integers(-(2**53 - 1), 2**53 - 1), max_size=3),  # I-JSON (RFC 7493): exact in a double
    max_size=5,
)


@settings(max_examples=40, deadline=None)
@given(
    data=json_data,
    extensions=st.dictionaries(
        extension_names,
        st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=12),
        max_size=3,
    ),
)
def test_binary_request_round_trips_through_parse_event(data: dict[str, Any], extensions: dict[str, str]) -> None:
    # GIVEN any event with JSON object data and string extension attributes
    original = {**event(data=data), **extensions}
    original["data"] = data
    # WHEN it is sent in binary mode and read back THEN it is the same event
    assert parse_event(*binary_request(original)) == original


def test_binary_data_round_trips_through_base64() -> None:
    original = {**event(datacontenttype="application/octet-stream"), "data_base64": "AAH/"}
    del original["data"]
    assert parse_event(*binary_request(original)) == original


def test_json_string_data_round_trips() -> None:
    original = event(data="hello")
    headers, body = binary_request(original)
    assert json.loads(body) == "hello"
    assert parse_event(headers, body) == original


# ---------------------------------------------------------------------------
# The store
# ---------------------------------------------------------------------------


@pytest.fixture
def store(tmp_path: Path) -> BrokerStore:
    return BrokerStore(tmp_path / "broker.db")


def deliveries(store: BrokerStore) -> list[tuple[Any, ...]]:
    """What is stored for each delivery (read straight from the SQLite file)."""
    with sqlite3.connect(store.path) as db:
        return db.execute(
            "SELECT trigger, attempt, next_at, claimed_until, last_error FROM deliveries ORDER BY id"
        ).fetchall()


def test_ingest_fans_out_only_to_matching_triggers_of_broker_pic(store: BrokerStore) -> None:
    # GIVEN a trigger for the type, one for everything, one for another type and one on another broker
    triggers = [
        trigger("for-type", REQUESTED),
        trigger("all"),
        trigger("other-type", CHANGED),
        trigger("elsewhere", REQUESTED, broker="pic-deadletters"),
    ]
    # WHEN an event of the type arrives
    fanout = store.ingest(event(), triggers)
    # THEN it is recorded and one delivery waits per matching trigger on broker pic
    assert fanout == 2 and store.pending() == 2
    assert sorted(row[0] for row in deliveries(store)) == ["all", "for-type"]
    assert [e["id"] for e in store.recent_events()] == ["e-1"]
    assert store.recent_events(type_=CHANGED) == []


def test_an_event_no_trigger_wants_is_still_recorded(store: BrokerStore) -> None:
    assert store.ingest(event(type_="es.madrid.pic.nobody.v1"), [trigger("t", REQUESTED)]) == 0
    assert store.pending() == 0 and len(store.recent_events()) == 1


def test_claimed_deliveries_are_leased_to_one_worker(store: BrokerStore) -> None:
    # GIVEN three due deliveries
    for i in range(3):
        store.ingest(event(f"e-{i}"), [trigger("t")])
    # WHEN two are claimed THEN they come with their event and attempt 0, and are not claimed again
    first = store.claim_due(limit=2)
    assert sorted((trig, ev["id"], attempt) for _, trig, ev, attempt in first) == [("t", "e-0", 0), ("t", "e-1", 0)]
    rest = store.claim_due(limit=10)
    assert [ev["id"] for _, _, ev, _ in rest] == ["e-2"]
    assert store.claim_due(limit=10) == []


def test_released_claims_are_due_again(store: BrokerStore) -> None:
    # GIVEN a delivery claimed by a process that then died
    store.ingest(event(), [trigger("t")])
    assert len(store.claim_due(limit=1)) == 1 and store.claim_due(limit=1) == []
    # WHEN the broker restarts THEN the delivery is due again (at-least-once)
    BrokerStore(store.path).release_claims()
    assert len(store.claim_due(limit=1)) == 1


def test_a_retry_later_is_not_due_before_its_time(store: BrokerStore) -> None:
    store.ingest(event(), [trigger("t")])
    ((delivery_id, _, _, _),) = store.claim_due(limit=1)
    store.retry_later(delivery_id, attempt=1, at=time.time() + 60, error="503: busy")
    assert store.claim_due(limit=1) == []
    store.retry_later(delivery_id, attempt=2, at=time.time() - 1, error="503: busy")
    ((_, _, _, attempt),) = store.claim_due(limit=1)
    assert attempt == 2 and deliveries(store)[0][4] == "503: busy"


def test_dead_letters_are_kept_with_the_reason_and_can_be_replayed_as_a_fresh_delivery(store: BrokerStore) -> None:
    # GIVEN a delivery that failed for good
    t = trigger("t")
    store.ingest(event(), [t])
    ((delivery_id, _, ev, _),) = store.claim_due(limit=1)
    failed = {**ev, "knativeerrorcode": "400", "knativeerrordata": "YmFk", "knativeerrordest": "http://x/"}
    store.dead_letter(delivery_id, t, failed, 400, "bad", attempts=1)
    assert store.pending() == 0
    (dead,) = store.deadletters()
    assert (dead["trigger"], dead["subscriber"], dead["code"], dead["reason"], dead["attempts"]) == (
        "t",
        "svc-t",
        400,
        "bad",
        1,
    )
    assert dead["event"]["knativeerrorcode"] == "400" and dead["replayed_at"] is None
    # WHEN it is replayed
    replayed = store.replay(dead["id"])
    # THEN a fresh delivery to the same trigger carries the event without the error attributes
    assert replayed == {"id": dead["id"], "trigger": "t", "event_id": "e-1"}
    ((_, trig, again, attempt),) = store.claim_due(limit=1)
    assert (trig, attempt) == ("t", 0)
    assert again == ev and not any(k.startswith("knativeerror") for k in again)
    assert store.deadletters()[0]["replayed_at"] is not None


def test_replaying_an_unknown_dead_letter_is_none(store: BrokerStore) -> None:
    assert store.replay(12345) is None


def test_the_state_survives_a_restart(store: BrokerStore) -> None:
    store.ingest(event(), [trigger("t")])
    assert BrokerStore(store.path).pending() == 1


# ---------------------------------------------------------------------------
# Delivery decisions
# ---------------------------------------------------------------------------


@pytest.fixture
def dispatcher(store: BrokerStore) -> Iterator[Dispatcher]:
    triggers = [
        trigger("retrying", REQUESTED, retry=2),
        trigger("no-dls", REQUESTED, retry=0, dls=None),
        trigger("reply-taker", CHANGED, retry=0),
    ]
    dispatcher = Dispatcher(store, triggers, "http://127.0.0.1:9/", workers=1)
    yield dispatcher
    dispatcher._pool.shutdown(wait=False)


def answer(dispatcher: Dispatcher, monkeypatch: pytest.MonkeyPatch, outcome: Outcome) -> list[tuple[str, str]]:
    """Make the subscriber answer ``outcome``; returns the (trigger, event id) pairs it was sent."""
    sent: list[tuple[str, str]] = []

    def fake_send(trig: Trigger, ev: dict[str, Any]) -> Outcome:
        sent.append((trig.name, ev["id"]))
        return outcome

    monkeypatch.setattr(dispatcher, "send", fake_send)
    return sent


def deliver(dispatcher: Dispatcher, trigger_name: str, ev: dict[str, Any], attempt: int = 0) -> None:
    """Stage one delivery and run it as the dispatcher's loop would (acquire, then deliver releases)."""
    dispatcher.store.ingest(ev, [t for t in dispatcher.all_triggers if t.name == trigger_name])
    claimed = [d for d in dispatcher.store.claim_due(limit=10) if d[1] == trigger_name]
    ((delivery_id, name, claimed_event, _),) = claimed
    assert dispatcher._inflight.acquire(blocking=False)
    dispatcher.deliver(delivery_id, name, claimed_event, attempt)


def free_slots(dispatcher: Dispatcher) -> int:
    taken = 0
    while dispatcher._inflight.acquire(blocking=False):
        taken += 1
    for _ in range(taken):
        dispatcher._inflight.release()
    return taken


def test_a_2xx_answer_delivers_the_event(dispatcher: Dispatcher, monkeypatch: pytest.MonkeyPatch) -> None:
    sent = answer(dispatcher, monkeypatch, Outcome(True, 200, ""))
    deliver(dispatcher, "retrying", event())
    assert sent == [("retrying", "e-1")]
    assert dispatcher.store.pending() == 0 and dispatcher.store.deadletters() == []
    assert free_slots(dispatcher) == 2  # the worker slot was given back


def test_a_reply_event_is_ingested_back_into_the_broker_when_an_event_policy_admits_its_trigger(
    dispatcher: Dispatcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN an EventPolicy on broker pic that admits the replies of Trigger "retrying" (its Knative identity)
    admits = EventPolicy("replies", ("pic",), (trigger_subject("retrying"),))
    dispatcher.reply_policies = SenderPolicies.of("pic", [admits])
    # AND a subscriber that answers with a consent.changed event
    answer(dispatcher, monkeypatch, Outcome(True, 200, "", reply=event("reply-1", CHANGED)))
    deliver(dispatcher, "retrying", event())
    # THEN the reply fans out to the trigger that wants it
    assert [row[0] for row in deliveries(dispatcher.store)] == ["reply-taker"]
    assert dispatcher.store.recent_events()[0]["id"] == "reply-1"


def test_a_reply_no_event_policy_admits_fails_the_delivery_with_the_reason(
    dispatcher: Dispatcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN no EventPolicy admitting a Trigger's replies (deny-all), and a subscriber that replies with an event
    answer(dispatcher, monkeypatch, Outcome(True, 200, "", reply=event("forged-1", CHANGED)))

    # WHEN the delivery is made (no retries left)
    deliver(dispatcher, "reply-taker", event("e-9", CHANGED))

    # THEN the reply is not ingested, and the delivery is dead-lettered as refused, saying why
    assert all(e["id"] != "forged-1" for e in dispatcher.store.recent_events())
    (dead,) = dispatcher.store.deadletters()
    assert dead["code"] == 403 and "reply was refused" in dead["reason"] and "trigger:reply-taker" in dead["reason"]


def test_deliveries_carry_the_dispatchers_token_for_their_subscriber(
    store: BrokerStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a dispatcher that mints a delivery token per subscriber
    dispatcher = Dispatcher(
        store, [trigger("t", REQUESTED)], "http://127.0.0.1:9/", delivery_token=lambda s: f"tok-{s}"
    )
    seen: dict[str, str] = {}

    class Answer:
        status_code, headers, content, text = 200, {}, b"", ""

    def post(url: str, data: bytes, headers: dict[str, str], timeout: float) -> Answer:
        seen.update(headers)
        return Answer()

    monkeypatch.setattr(dispatcher._session(), "post", post)

    # WHEN it delivers
    outcome = dispatcher.send(dispatcher.triggers["t"], event())

    # THEN the request carries the token for that subscriber
    assert outcome.ok and seen["Authorization"] == "Bearer tok-svc-t"
    dispatcher._pool.shutdown(wait=False)


@pytest.mark.parametrize("code", [500, 503, 404, 408, 409, 429, 0])
def test_a_retryable_answer_with_retries_left_is_retried_after_the_backoff(
    dispatcher: Dispatcher, monkeypatch: pytest.MonkeyPatch, code: int
) -> None:
    # GIVEN a trigger with 2 retries and a subscriber failing with a retryable answer
    answer(dispatcher, monkeypatch, Outcome(False, code, "try later"))
    before = time.time()
    # WHEN the first attempt fails
    deliver(dispatcher, "retrying", event())
    # THEN the delivery waits for attempt 1 after the trigger's first backoff, with the error noted
    ((_, attempt, next_at, claimed_until, last_error),) = deliveries(dispatcher.store)
    delay = dispatcher.triggers["retrying"].delivery.delay(0)
    assert attempt == 1 and claimed_until == 0
    assert before + delay <= next_at <= time.time() + delay
    assert last_error == f"{code}: try later"
    assert dispatcher.store.deadletters() == []


def test_a_second_retry_waits_longer(dispatcher: Dispatcher, monkeypatch: pytest.MonkeyPatch) -> None:
    answer(dispatcher, monkeypatch, Outcome(False, 500, "boom"))
    deliver(dispatcher, "retrying", event(), attempt=1)
    ((_, attempt, next_at, _, _),) = deliveries(dispatcher.store)
    assert attempt == 2 and next_at >= time.time() + dispatcher.triggers["retrying"].delivery.delay(1) - 1


def test_a_non_retryable_answer_is_dead_lettered_at_once_with_the_reason(
    dispatcher: Dispatcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a subscriber that refuses the event as malformed
    answer(dispatcher, monkeypatch, Outcome(False, 400, '{"title": "invalid-event"}'))
    # WHEN the first attempt gets a 400
    deliver(dispatcher, "retrying", event())
    # THEN it goes to the dead-letter sink with Knative's error attributes, without retrying
    assert dispatcher.store.pending() == 0
    (dead,) = dispatcher.store.deadletters()
    assert (dead["code"], dead["attempts"], dead["reason"]) == (400, 1, '{"title": "invalid-event"}')
    assert dead["event"]["knativeerrorcode"] == "400"
    assert base64.b64decode(dead["event"]["knativeerrordata"]).decode() == '{"title": "invalid-event"}'
    assert dead["event"]["knativeerrordest"] == "http://127.0.0.1:9/_ksvc/svc-retrying/"
    assert dead["event"]["id"] == "e-1" and dead["event"]["data"] == event()["data"]


def test_a_retryable_answer_after_the_last_retry_is_dead_lettered(
    dispatcher: Dispatcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN the delivery is on its last retry (attempt 2 of a trigger with retry 2)
    answer(dispatcher, monkeypatch, Outcome(False, 503, "unavailable"))
    deliver(dispatcher, "retrying", event(), attempt=2)
    # THEN it is dead-lettered after three attempts in all
    (dead,) = dispatcher.store.deadletters()
    assert (dead["code"], dead["attempts"], dead["event"]["knativeerrorcode"]) == (503, 3, "503")
    assert dispatcher.store.pending() == 0


def test_without_a_dead_letter_sink_an_undeliverable_event_is_dropped(
    dispatcher: Dispatcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    answer(dispatcher, monkeypatch, Outcome(False, 500, "boom"))
    deliver(dispatcher, "no-dls", event())
    assert dispatcher.store.pending() == 0 and dispatcher.store.deadletters() == []
    assert free_slots(dispatcher) == 2


def test_a_delivery_for_a_removed_trigger_is_dead_lettered_with_the_reason(
    dispatcher: Dispatcher, monkeypatch: pytest.MonkeyPatch, store: BrokerStore
) -> None:
    # GIVEN a delivery staged for a trigger that is no longer in the manifests
    sent = answer(dispatcher, monkeypatch, Outcome(True, 200, ""))
    store.ingest(event(), [trigger("gone")])
    ((delivery_id, name, ev, attempt),) = store.claim_due(limit=1)
    assert dispatcher._inflight.acquire(blocking=False)
    # WHEN it is delivered THEN nothing is sent and the event is kept as a dead letter
    dispatcher.deliver(delivery_id, name, ev, attempt)
    assert sent == []
    (dead,) = store.deadletters()
    assert (dead["trigger"], dead["reason"], dead["code"]) == ("gone", "trigger no longer exists", 0)


def test_the_worker_slot_is_given_back_even_when_sending_fails(
    dispatcher: Dispatcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(trig: Trigger, ev: dict[str, Any]) -> Outcome:
        raise RuntimeError("bug in send")

    monkeypatch.setattr(dispatcher, "send", explode)
    with pytest.raises(RuntimeError):
        deliver(dispatcher, "retrying", event())
    assert free_slots(dispatcher) == 2


def test_subscribers_are_reached_through_the_gateway_path_of_their_service(dispatcher: Dispatcher) -> None:
    routed = Trigger(name="x", broker="pic", filters={}, subscriber="pic-consent-events", subscriber_path="/events")
    assert dispatcher.subscriber_url(routed) == "http://127.0.0.1:9/_ksvc/pic-consent-events/events"
