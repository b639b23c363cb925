"""Unit: recipients, the policy input, choosing a channel, lifecycle folding, token bucket, signing, zones,
and the projections (CON events and RGPD flags)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from functions.core import webhooks
from functions.core.errors import ConflictError, ValidationError
from functions.core.policy import Decision
from functions.notification import service
from functions.notification.service import CitizenView, Message, StatusEvent, TokenBucket

NOON = datetime(2026, 3, 3, 11, 0, tzinfo=UTC)  # 12:00 in Madrid (CET)


def test_emails_and_mobiles_are_normalised() -> None:
    assert service.normalise_email("Ines.Pinilla@Example.ORG") == "Ines.Pinilla@example.org"
    assert service.normalise_phone("612 345 678") == "+34612345678"
    assert service.normalise_phone("+44 7911 123456") == "+447911123456"


@pytest.mark.parametrize("raw", ["no-at-sign", "a@b", "a@@example.org"])
def test_bad_emails_are_refused_naming_the_field(raw: str) -> None:
    with pytest.raises(service.RecipientError) as raised:
        service.normalise_email(raw)
    assert raised.value.errors and raised.value.errors[0]["field"] == "recipient.email"


@pytest.mark.parametrize("raw", ["12", "+34 912 345 678", "not a number"])
def test_landlines_and_garbage_are_no_sms_recipient(raw: str) -> None:
    with pytest.raises(service.RecipientError):
        service.normalise_phone(raw)


def test_unusable_contact_points_of_a_record_are_none_not_errors() -> None:
    assert service.usable_email("nope") is None and service.usable_phone("91 000") is None
    assert service.usable_phone("612345678") == "+34612345678"


def test_a_citizen_reaches_only_channels_with_a_contact_point() -> None:
    view = CitizenView("c-1", known=True, email="a@example.org")
    assert view.reachable() == ["email", "inapp"]
    assert CitizenView("c-2").reachable() == []
    assert CitizenView("c-3", channels=("push", "fax", "email")).candidates() == ("push", "email")
    assert CitizenView("c-4").candidates() == service.DEFAULT_ORDER


def test_the_policy_input_carries_no_ids_or_addresses() -> None:
    view = CitizenView(
        "c-1", known=True, email="a@example.org", consents={"campaigns": {"granted": True}},
        quiet_hours={"start": "22:00", "end": "08:00"}, restricted=True, objections=("surveys",),
    )  # fmt: skip
    question = service.policy_input(Message("campaigns"), "email", view, view.reachable(), NOON)
    assert question == {
        "purpose": "campaigns",
        "channel": "email",
        "recipient": "citizen",
        "reachable": ["email", "inapp"],
        "citizen": {
            "consents": {"campaigns": {"granted": True}},
            "preferences": {"quiet_hours": {"start": "22:00", "end": "08:00"}},
            "flags": {"restricted": True, "objections": ["surveys"]},
            "blocked": {},
        },
        "now": {"local_time": "12:00"},
        "message": {"kind": "notification"},
    }
    assert "c-1" not in str(question) and "a@example.org" not in str(question)
    direct = service.policy_input(Message("alerts", "alert", "traffic", "minor"), "sms", None, ["sms"], NOON)
    assert direct["recipient"] == "direct" and direct["message"] == {
        "kind": "alert",
        "topic": "traffic",
        "severity": "minor",
    }


def d(allow: bool, code: str, defer: bool = False, reasons: tuple[str, ...] = ("r",)) -> Decision:
    return Decision(allow, list(reasons), {"allow": allow, "defer": defer, "code": code, "legal_basis": "b"})


def test_the_first_allowed_channel_in_order_wins() -> None:
    choice = service.choose([("email", d(False, "no-channel")), ("sms", d(True, "allowed"))], lambda: None)
    assert (choice.allowed, choice.channel, choice.reason) == (True, "sms", None)


def test_a_deferred_channel_is_used_when_none_is_allowed_now() -> None:
    end = NOON + timedelta(hours=8)
    choice = service.choose([("sms", d(False, "deferred", defer=True)), ("email", d(False, "no-consent"))], lambda: end)
    assert (choice.allowed, choice.channel, choice.deliver_after, choice.reason) == (True, "sms", end, "quiet-hours")


def test_no_reachable_channel_is_no_channel_and_a_refusal_names_its_code() -> None:
    only_unreachable = service.choose(
        [("email", d(False, "no-channel")), ("sms", d(False, "no-channel"))], lambda: None
    )
    assert (only_unreachable.allowed, only_unreachable.reason) == (False, "no-channel")
    consent = service.choose([("email", d(False, "no-channel")), ("inapp", d(False, "no-consent"))], lambda: None)
    assert consent.reason == "no-consent"
    assert consent.reasons == ["email: r", "inapp: r"]


def test_quiet_hours_end_is_the_next_end_in_madrid_across_midnight() -> None:
    late = datetime(2026, 3, 3, 22, 30, tzinfo=UTC)  # 23:30 in Madrid
    end = service.quiet_hours_end({"start": "22:00", "end": "08:00"}, late)
    assert end is not None and end.astimezone(UTC) == datetime(2026, 3, 4, 7, 0, tzinfo=UTC)
    assert service.quiet_hours_end(None, late) is None


def test_lifecycle_transitions() -> None:
    service.check_transition("requested", "accepted")
    service.check_transition("sending", "temporary-failure")
    service.check_transition("temporary-failure", "sending")
    for current, new in [("delivered", "sending"), ("accepted", "delivered"), ("not-allowed", "accepted")]:
        with pytest.raises(service.IllegalTransitionError):
            service.check_transition(current, new)


def ev(status: str, attempt: int = 0, minute: int = 0) -> StatusEvent:
    return StatusEvent(status, attempt, NOON + timedelta(minutes=minute))


@pytest.mark.parametrize(
    ("events", "expected"),
    [
        ([], "requested"),
        ([ev("accepted")], "accepted"),
        (
            [
                ev("delivered", 2, 5),
                ev("accepted"),
                ev("sending", 1, 1),
                ev("temporary-failure", 1, 2),
                ev("sending", 2, 3),
            ],
            "delivered",
        ),
        ([ev("temporary-failure", 1, 2), ev("sending", 2, 3), ev("accepted")], "sending"),
        ([ev("sending", 1, 1), ev("temporary-failure", 1, 2)], "temporary-failure"),
        ([ev("not-allowed"), ev("accepted")], "not-allowed"),
    ],
)
def test_folding_events_in_any_order_gives_the_status(events: list[StatusEvent], expected: str) -> None:
    assert service.fold(events) == expected
    assert service.fold(reversed(events)) == expected


def test_retry_backoff_and_limits_per_channel() -> None:
    assert [service.retry_delay(n) for n in (1, 2, 3, 4)] == [0.5, 1.0, 2.0, 4.0]
    assert service.retry_delay(30) == 300.0
    assert service.retries_left("email", 4) and not service.retries_left("email", 5)
    assert not service.retries_left("push", 3)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_the_token_bucket_allows_a_burst_then_the_rate() -> None:
    clock = Clock()
    bucket = TokenBucket(rate=10, capacity=3, clock=clock)
    assert [bucket.try_take() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.try_take() == pytest.approx(0.1)
    clock.now += 0.1
    assert bucket.try_take() == 0.0
    clock.now += 10
    assert [bucket.try_take() for _ in range(4)][:3] == [0.0, 0.0, 0.0]  # refills to capacity, not beyond


def test_the_token_bucket_waits_briefly_then_asks_the_broker_to_retry() -> None:
    clock = Clock()
    bucket = TokenBucket(rate=1, capacity=1, clock=clock)
    bucket.take(max_wait=2, sleep=clock.sleep)
    bucket.take(max_wait=2, sleep=clock.sleep)  # waits one second
    assert clock.now == pytest.approx(1.0)
    with pytest.raises(ConflictError):
        bucket.take(max_wait=0.5, sleep=clock.sleep)
    with pytest.raises(ValueError):
        TokenBucket(rate=0, capacity=1)


def test_callbacks_are_signed_and_verifiable() -> None:
    body = b'{"id":"ntf-1","status":"delivered"}'
    header = webhooks.sign("s3cret-key-of-16+", 1_700_000_000, body)
    assert header.startswith("t=1700000000,v1=")
    assert webhooks.verify("s3cret-key-of-16+", header, body, now=1_700_000_100)
    assert not webhooks.verify("s3cret-key-of-16+", header, body + b" ", now=1_700_000_100)
    assert not webhooks.verify("another-key-16chars", header, body, now=1_700_000_100)
    assert not webhooks.verify("s3cret-key-of-16+", header, body, now=1_700_001_000)  # too old: replay
    assert not webhooks.verify("s3cret-key-of-16+", "garbage", body, now=1_700_000_000)


def test_a_district_alert_reaches_its_barrios_and_a_barrio_alert_its_district() -> None:
    district = service.alert_zone_keys("traffic", ["01"])
    assert "traffic#01" in district and "traffic#011" in district and "traffic#021" not in district
    assert all(k.startswith("traffic#01") for k in district)
    assert service.alert_zone_keys("traffic", ["011"]) == ["traffic#01", "traffic#011"]
    with pytest.raises(ValidationError):
        service.alert_zone_keys("traffic", ["99"])


def test_derived_ids_are_stable_per_cause() -> None:
    assert service.derived_id("event", "/legacy/x", "1") == service.derived_id("event", "/legacy/x", "1")
    assert service.derived_id("event", "/legacy/x", "1") != service.derived_id("event", "/legacy/y", "1")


def test_the_projection_keeps_the_latest_change_of_each_part() -> None:
    later, earlier = NOON + timedelta(minutes=5), NOON
    parts: dict[str, Any] = {}
    merged = service.merge_part(parts, "flags", {"restricted": True, "objections": []}, later)
    assert merged == {"flags": {"value": {"restricted": True, "objections": []}, "at": later.isoformat()}}
    assert service.merge_part(merged, "flags", {"restricted": False, "objections": []}, earlier) is None  # out of order
    assert service.merge_part(merged, "flags", {"restricted": True, "objections": []}, later) is None  # redelivered
    consents = service.merge_consent(merged, "campaigns", {"granted": True}, later)
    assert consents is not None and consents["consents"]["value"] == {"campaigns": {"granted": True}}
    assert service.merge_consent(consents, "campaigns", {"granted": False}, earlier) is None
    both = service.merge_consent(consents, "surveys", {"granted": False}, earlier)
    assert both is not None and set(both["consents"]["value"]) == {"campaigns", "surveys"}


# ---- the callback allow-list (PIC_CALLBACK_HOSTS) ---------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://avisos.madrid.es/cb", True),
        ("https://AVISOS.madrid.es./cb", True),
        ("https://tributos.ayto.madrid.es:8443/cb", True),
        ("https://madrid.es/cb", False),  # the wildcard is for hosts under it, not the domain itself
        ("https://evilmadrid.es/cb", False),
        ("https://madrid.es.evil.org/cb", False),
        ("http://169.254.169.254/latest/meta-data/", False),
        ("http://127.0.0.1:8181/v1/data", True),
        ("http://user@169.254.169.254/", False),
        ("not a url", False),
    ],
)
def test_callbacks_go_only_to_allowed_hosts(url: str, allowed: bool) -> None:
    assert service.callback_host_allowed(url, "*.madrid.es, 127.0.0.1") is allowed


def test_an_empty_allow_list_allows_no_callback() -> None:
    assert not service.callback_host_allowed("http://127.0.0.1/cb", "")
