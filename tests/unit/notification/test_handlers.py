"""The notification use cases (``functions.notification.handlers``) on in-memory fakes of their ports, with the
real policies and terms: what each stages, what a replay or a redelivery does, a lost race decided again, and
the refusals (no consent, quiet hours, restriction, an erased person). No DynamoDB, no broker: milliseconds.
The real wiring is proven by tests/functional/notification."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import pytest

from events.notification import AlertPageReady, AlertPublished, NotificationDelivered, Recipient
from events.rgpd import RgpdRequestOpened
from functions.core import paging
from functions.core.clock import MADRID
from functions.core.errors import ConflictError, LostRaceError, ValidationError
from functions.core.policy import EmbeddedPolicy
from functions.core.retry import retry_on_conflict
from functions.core.store import Staged, UnitOfWork
from functions.core.terms import Terms
from functions.notification import handlers, service
from functions.notification.handlers import NotificationPorts, PutTemplate, SubmitBulk
from functions.notification.service import NotificationRequest, Subscription
from tests.unit.fakes import FixedClock, events_in
from tests.unit.notification.fakes import FakeNotificationStore, channel, fake_ports
from tests.unit.rgpd_support import rgpd_request

T = TypeVar("T")
T0 = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)  # 10:30 in Madrid
CITIZEN = "c-0001"
EMAIL = "ines@example.org"
PHONE = "+34612345678"
IBI = {"purpose": "service-notifications", "subject": {"es": "IBI {{ year }}"}, "body": {"es": "Hola, {{ name }}."}}
CAMPAIGN = {"purpose": "campaigns", "subject": {"es": "Veranos {{ year }}"}, "body": {"es": "Hola, {{ name }}."}}


@pytest.fixture
def store() -> FakeNotificationStore:
    return FakeNotificationStore()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


@pytest.fixture
def ports(store: FakeNotificationStore, clock: FixedClock, policy: EmbeddedPolicy, terms: Terms) -> NotificationPorts:
    ports = fake_ports(store, clock, policy, terms)
    commit(store, handlers.put_template(template_cmd("ibi", IBI), ports, None))
    commit(store, handlers.put_template(template_cmd("veranos", CAMPAIGN), ports, None))
    store.calls.clear()
    return ports


def commit(store: FakeNotificationStore, done: Staged[T] | UnitOfWork) -> T | None:
    """What the entry point does with a handler's answer: commit its unit (and answer its result)."""
    if isinstance(done, Staged):
        store.commit(done.unit)
        return done.result
    store.commit(done)
    return None


def run(store: FakeNotificationStore, handler: Callable[[], Staged[T] | UnitOfWork]) -> T | None:
    """The kernel's way: decide and commit, deciding again on a lost race (``ctx.run``, ``EventFunction``)."""
    return retry_on_conflict(lambda: commit(store, handler()), backoff=0)


def template_cmd(template_id: str, content: dict[str, Any]) -> PutTemplate:
    return PutTemplate(template_id, content["purpose"], content["subject"], content["body"], "sys-tributos")


def person(
    store: FakeNotificationStore, email: str | None = EMAIL, phone: str | None = None, **parts: Any
) -> dict[str, Any]:
    """A citizen as the projections hold them: C360's contact points, and the parts given (preferences, flags,
    consents), each as of an hour before the test."""
    at = T0 - timedelta(hours=1)
    held = service.merge_contacts({}, email, phone, at) or {}
    for name, value in parts.items():
        if name == "consents":
            for purpose, snapshot in value.items():
                held = service.merge_consent(held, purpose, snapshot, at) or held
        else:
            held = service.merge_part(held, name, value, at) or held
    store.profiles[CITIZEN] = held
    return held


def request(template: str = "ibi", notification_id: str = "ntf-1", **recipient: str) -> NotificationRequest:
    return NotificationRequest(
        notification_id=notification_id,
        template=template,
        recipient=Recipient(**(recipient or {"citizen_id": CITIZEN})),
        personalisation={"name": "Inés", "year": "2026"},
        requested_by="sys-tributos",
    )


# ---- one notification ------------------------------------------------------------------------------------


def test_a_notification_is_decided_rendered_stored_and_announced_in_one_unit(
    ports: NotificationPorts, store: FakeNotificationStore
) -> None:
    # GIVEN a citizen C360 announced an e-mail for WHEN a service notification is requested
    person(store)
    staged = handlers.notify(request(), ports, None)

    # THEN it is accepted on e-mail, rendered in Spanish, with its accepted event, all in the one unit
    doc = staged.result
    assert (doc["status"], doc["channel"], doc["address"], doc["subject"]) == ("accepted", "email", EMAIL, "IBI 2026")
    assert doc["created_at"] == T0.isoformat() and doc["legal_basis"]
    assert [kind for kind, _ in events_in(staged.unit)] == ["es.madrid.pic.notification.accepted.v1"]
    commit(store, staged)
    assert store.notifications["ntf-1"]["status"] == "accepted"


def test_the_same_notification_twice_is_refused_by_the_store(
    ports: NotificationPorts, store: FakeNotificationStore
) -> None:
    # GIVEN a notification stored WHEN the same id is requested again (a redelivered event names the same one)
    person(store)
    commit(store, handlers.notify(request(), ports, None))

    # THEN its commit loses: nothing is stored twice
    with pytest.raises(LostRaceError):
        commit(store, handlers.notify(request(), ports, None))
    assert len(store.notifications) == 1


def test_a_campaign_without_consent_is_not_allowed_and_says_why(
    ports: NotificationPorts, store: FakeNotificationStore
) -> None:
    person(store)
    doc = commit(store, handlers.notify(request("veranos"), ports, None))
    assert doc is not None and (doc["status"], doc["reason"], doc["channel"]) == ("not-allowed", "no-consent", None)
    assert any("6.1.a" in r for r in doc["reasons"]) and doc["body"] is None


def test_a_campaign_with_consent_on_email_goes_by_email(ports: NotificationPorts, store: FakeNotificationStore) -> None:
    person(store, consents={"campaigns": {"granted": True, "channels": ["email"], "text_version": "2026-01"}})
    doc = commit(store, handlers.notify(request("veranos"), ports, None))
    assert doc is not None and (doc["status"], doc["channel"]) == ("accepted", "email")


def test_a_restricted_person_gets_legal_notices_but_no_campaign(
    ports: NotificationPorts, store: FakeNotificationStore
) -> None:
    consents = {"campaigns": {"granted": True, "channels": ["email"], "text_version": "2026-01"}}
    person(store, consents=consents, flags={"restricted": True, "objections": []})
    campaign = commit(store, handlers.notify(request("veranos", "ntf-c"), ports, None))
    notice = commit(store, handlers.notify(request("ibi", "ntf-n"), ports, None))
    assert campaign is not None and (campaign["status"], campaign["reason"]) == ("not-allowed", "restricted")
    assert notice is not None and notice["status"] == "accepted"


def test_quiet_hours_defer_an_sms_to_their_end_with_a_release_marker(
    ports: NotificationPorts, store: FakeNotificationStore
) -> None:
    # GIVEN a citizen who wants SMS only, quiet from 10:00 to 12:00 (it is 10:30 in Madrid)
    quiet = {"channels": ["sms"], "quiet_hours": {"start": "10:00", "end": "12:00"}}
    person(store, email=None, phone=PHONE, preferences=quiet)

    # WHEN notified THEN it is accepted, deferred to 12:00 Madrid (11:00 UTC), with its release marker
    doc = commit(store, handlers.notify(request(), ports, None))
    assert doc is not None and (doc["status"], doc["channel"], doc["reason"]) == ("accepted", "sms", "quiet-hours")
    assert doc["deliver_after"] == datetime(2026, 3, 2, 12, 0, tzinfo=MADRID).isoformat()
    assert store.due == {"ntf-1": doc["deliver_after"]}

    # AND delivery waits for it: the accepted event delivers nothing, the due event sends it
    commit(store, handlers.deliver("ntf-1", ports, None))
    assert channel(ports, "sms").sent == []
    commit(store, handlers.deliver("ntf-1", ports, None, due=True))
    assert [m.address for m in channel(ports, "sms").sent] == [PHONE]


def test_a_person_nothing_reaches_is_not_allowed_no_channel(
    ports: NotificationPorts, store: FakeNotificationStore
) -> None:
    # GIVEN a citizen PIC knows nothing about (no projection: no contact point, not known for the inbox)
    doc = commit(store, handlers.notify(request(), ports, None))
    assert doc is not None and (doc["status"], doc["reason"]) == ("not-allowed", "no-channel")


def test_an_erased_person_is_reached_only_in_app_and_late_events_re_create_nothing(
    ports: NotificationPorts, store: FakeNotificationStore
) -> None:
    # GIVEN a person whose erasure left only its marker
    store.profiles[CITIZEN] = service.marked_erased({}, "rgpd-1", T0 - timedelta(days=1))

    # WHEN C360's announcement from before the erasure arrives late THEN it projects nothing
    run(store, lambda: handlers.project_contacts(CITIZEN, EMAIL, None, T0 - timedelta(days=2), ports))
    assert set(store.profiles[CITIZEN]) == {service.ERASED}

    # AND a legal notice has no e-mail to go to: only the inbox of a person PIC knows
    doc = commit(store, handlers.notify(request(), ports, None))
    assert doc is not None and doc["channel"] == "inapp" and doc["address"] == CITIZEN


def test_an_explicit_address_is_normalised_and_a_campaign_to_one_is_refused(
    ports: NotificationPorts, store: FakeNotificationStore
) -> None:
    notice = commit(store, handlers.notify(request(email="Ines@Example.ORG"), ports, None))
    assert notice is not None and (notice["channel"], notice["address"]) == ("email", "Ines@example.org")
    campaign = commit(store, handlers.notify(request("veranos", "ntf-2", email=EMAIL), ports, None))
    assert campaign is not None and campaign["status"] == "not-allowed"


def test_an_unknown_template_or_missing_field_is_refused(ports: NotificationPorts) -> None:
    with pytest.raises(service.TemplateNotFoundError):
        handlers.notify(request("nope"), ports, None)
    missing = NotificationRequest("ntf-3", "ibi", Recipient(email=EMAIL), {"name": "Inés"}, "sys")
    with pytest.raises(service.PersonalisationError):
        handlers.notify(missing, ports, None)


def test_a_callback_to_a_host_not_allowed_is_refused(ports: NotificationPorts) -> None:
    req = NotificationRequest("ntf-4", "ibi", Recipient(email=EMAIL), {"name": "a", "year": "1"}, "sys",
                              callback_url="https://evil.example.com/cb")  # fmt: skip
    with pytest.raises(ValidationError):
        handlers.notify(req, ports, None)


# ---- delivering ---------------------------------------------------------------------------------------------


def accepted(ports: NotificationPorts, store: FakeNotificationStore, **parts: Any) -> str:
    person(store, **parts)
    commit(store, handlers.notify(request(), ports, None))
    return "ntf-1"


def test_delivery_claims_sends_once_and_records_delivered(
    ports: NotificationPorts, store: FakeNotificationStore
) -> None:
    notification_id = accepted(ports, store)

    # WHEN the accepted event is handled THEN the claim (sending) committed ahead, the message went out, and
    # the unit records delivered with its event
    uow = handlers.deliver(notification_id, ports, "00-trace")
    assert [m.subject for m in channel(ports, "email").sent] == ["IBI 2026"]
    assert store.notifications[notification_id]["status"] == "sending"
    assert [kind for kind, _ in events_in(uow)] == ["es.madrid.pic.notification.delivered.v1"]
    commit(store, uow)
    doc = store.notifications[notification_id]
    assert doc["status"] == "delivered" and doc["attempt"] == 1
    assert [h["status"] for h in doc["history"]] == ["requested", "accepted", "sending", "delivered"]


def test_a_redelivered_event_sends_nothing_more(ports: NotificationPorts, store: FakeNotificationStore) -> None:
    notification_id = accepted(ports, store)
    commit(store, handlers.deliver(notification_id, ports, None))
    assert len(handlers.deliver(notification_id, ports, None)) == 0
    assert len(channel(ports, "email").sent) == 1


def test_of_two_concurrent_deliveries_only_the_claim_that_wins_sends(
    ports: NotificationPorts, store: FakeNotificationStore
) -> None:
    # GIVEN two deliveries that read the notification at the same version
    notification_id = accepted(ports, store)
    held = store.fetch_notification(notification_id)
    real = store.fetch_notification
    store.fetch_notification = lambda _: held  # type: ignore[method-assign]  # both read before either claims
    commit(store, handlers.deliver(notification_id, ports, None))

    # WHEN the second claims on the version it read THEN its claim loses and it sends nothing
    assert len(handlers.deliver(notification_id, ports, None)) == 0
    store.fetch_notification = real  # type: ignore[method-assign]
    assert len(channel(ports, "email").sent) == 1 and store.notifications[notification_id]["status"] == "delivered"


def test_a_claim_whose_worker_died_is_taken_again_after_the_lease(
    ports: NotificationPorts, store: FakeNotificationStore, clock: FixedClock
) -> None:
    notification_id = accepted(ports, store)
    handlers.deliver(notification_id, ports, None)  # claimed and sent, but the outcome never committed
    assert len(handlers.deliver(notification_id, ports, None)) == 0  # within the lease: someone holds it
    clock.advance(seconds=service.SENDING_LEASE.total_seconds() + 1)
    commit(store, handlers.deliver(notification_id, ports, None))
    assert store.notifications[notification_id]["status"] == "delivered"
    assert len(channel(ports, "email").sent) == 2  # at-least-once after a crash, as documented


def test_a_temporary_failure_is_recorded_and_retried_then_delivered(
    ports: NotificationPorts, store: FakeNotificationStore
) -> None:
    notification_id = accepted(ports, store)
    channel(ports, "email").failures.append(False)
    with pytest.raises(ConflictError, match="failed temporarily"):
        handlers.deliver(notification_id, ports, None)
    assert store.notifications[notification_id]["status"] == "temporary-failure"
    commit(store, handlers.deliver(notification_id, ports, None))
    assert store.notifications[notification_id]["status"] == "delivered"
    assert store.notifications[notification_id]["attempt"] == 2


def test_a_permanent_failure_is_recorded_and_the_channels_limit_dead_letters(
    ports: NotificationPorts, store: FakeNotificationStore
) -> None:
    notification_id = accepted(ports, store)
    channel(ports, "email").failures.append(True)
    commit(store, handlers.deliver(notification_id, ports, None))
    doc = store.notifications[notification_id]
    assert (doc["status"], doc["reason"]) == ("permanent-failure", "provider-refused")

    # AND one that keeps failing temporarily stops at the channel's limit (e-mail: 5 attempts)
    person(store, email="otra@example.org")
    commit(store, handlers.notify(request(notification_id="ntf-9"), ports, None))
    channel(ports, "email").failures.extend([False] * service.RETRY_LIMIT["email"])
    for _ in range(service.RETRY_LIMIT["email"] - 1):
        with pytest.raises(ConflictError):
            handlers.deliver("ntf-9", ports, None)
    with pytest.raises(service.DeliveryExhaustedError):
        handlers.deliver("ntf-9", ports, None)
    assert store.notifications["ntf-9"]["reason"] == "retries-exhausted"


def test_an_inapp_message_commits_with_its_delivered_status(
    ports: NotificationPorts, store: FakeNotificationStore
) -> None:
    notification_id = accepted(ports, store, preferences={"channels": ["inapp"]})
    uow = handlers.deliver(notification_id, ports, None)
    assert handlers.inbox_of(CITIZEN, ports) == []  # not before the unit commits, nor any claim ahead of it
    assert store.notifications[notification_id]["status"] == "accepted"
    assert [kind.split(".")[-2] for kind, _ in events_in(uow)] == ["sending", "delivered"]
    commit(store, uow)
    history = store.notifications[notification_id]["history"]
    assert [h["status"] for h in history] == ["requested", "accepted", "sending", "delivered"]
    (message,) = handlers.inbox_of(CITIZEN, ports)
    assert (message.subject, message.read_at) == ("IBI 2026", None)

    # AND marking it read twice: the first time counts
    run(store, lambda: handlers.mark_read(CITIZEN, notification_id, ports, None))
    first = handlers.inbox_of(CITIZEN, ports)[0].read_at
    assert first == T0
    staged = handlers.mark_read(CITIZEN, notification_id, ports, None)
    assert store.ledger.staged(staged.unit) == []
    with pytest.raises(service.NotificationNotFoundError):
        handlers.mark_read(CITIZEN, "ntf-none", ports, None)


def test_of_two_inapp_deliveries_at_once_one_message_lands(
    ports: NotificationPorts, store: FakeNotificationStore
) -> None:
    notification_id = accepted(ports, store, preferences={"channels": ["inapp"]})
    first = handlers.deliver(notification_id, ports, None)
    second = handlers.deliver(notification_id, ports, None)
    commit(store, first)
    with pytest.raises(LostRaceError):
        commit(store, second)
    run(store, lambda: handlers.deliver(notification_id, ports, None))  # the loser, decided again: nothing to do
    assert len(handlers.inbox_of(CITIZEN, ports)) == 1
    assert store.notifications[notification_id]["status"] == "delivered"


def test_two_marks_read_at_once_one_wins_the_other_decides_again(
    ports: NotificationPorts, store: FakeNotificationStore
) -> None:
    notification_id = accepted(ports, store, preferences={"channels": ["inapp"]})
    commit(store, handlers.deliver(notification_id, ports, None))
    first = handlers.mark_read(CITIZEN, notification_id, ports, None)
    second = handlers.mark_read(CITIZEN, notification_id, ports, None)
    commit(store, first)
    with pytest.raises(LostRaceError):
        commit(store, second)
    again = handlers.mark_read(CITIZEN, notification_id, ports, None)
    assert store.ledger.staged(again.unit) == []


def test_a_terminal_status_calls_back_the_requester_only_on_an_allowed_host(
    ports: NotificationPorts, store: FakeNotificationStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PIC_CALLBACK_HOSTS", "tributos.example.org")
    from functions.core.settings import get_settings

    get_settings.cache_clear()
    try:
        req = NotificationRequest("ntf-cb", "ibi", Recipient(email=EMAIL), {"name": "a", "year": "1"}, "sys",
                                  reference="R-1", callback_url="https://tributos.example.org/cb")  # fmt: skip
        commit(store, handlers.notify(req, ports, None))
        event = NotificationDelivered(notification_id="ntf-cb", status="delivered", template="ibi", template_version=1,
                                      purpose="service-notifications", channel="email", changed_at=T0)  # fmt: skip
        callback = handlers.callback_for(event, ports)
        assert callback is not None and callback.url == "https://tributos.example.org/cb"
        assert callback.payload == {"id": "ntf-cb", "reference": "R-1", "status": "delivered", "reason": None,
                                    "channel": "email", "at": T0.isoformat()}  # fmt: skip
        monkeypatch.setenv("PIC_CALLBACK_HOSTS", "other.example.org")
        get_settings.cache_clear()
        assert handlers.callback_for(event, ports) is None  # the allow-list changed since it was accepted
    finally:
        get_settings.cache_clear()


# ---- templates ------------------------------------------------------------------------------------------------


def test_a_template_change_is_a_new_version_and_the_same_content_changes_nothing(
    ports: NotificationPorts, store: FakeNotificationStore
) -> None:
    changed = {**IBI, "body": {"es": "Hola de nuevo, {{ name }}."}}
    saved = run(store, lambda: handlers.put_template(template_cmd("ibi", changed), ports, None))
    assert saved is not None and (saved.template.version, saved.created, saved.changed) == (2, False, True)
    again = handlers.put_template(template_cmd("ibi", changed), ports, None)
    assert not again.result.changed and store.ledger.staged(again.unit) == []
    template, versions = handlers.template_versions("ibi", None, ports)
    assert (template.version, versions) == (2, [1, 2])
    assert handlers.template_versions("ibi", 1, ports)[0].content.body == IBI["body"]
    with pytest.raises(service.NotificationNotFoundError):
        handlers.template_versions("ibi", 9, ports)


def test_two_changes_of_a_template_at_once_make_two_versions(
    ports: NotificationPorts, store: FakeNotificationStore
) -> None:
    # GIVEN two editors who read version 1 WHEN both save THEN the second loses and, decided again, is version 3
    one = handlers.put_template(template_cmd("ibi", {**IBI, "body": {"es": "Uno, {{ name }}."}}), ports, None)
    two = lambda: handlers.put_template(template_cmd("ibi", {**IBI, "body": {"es": "Dos, {{ name }}."}}), ports, None)  # noqa: E731
    stale = two()
    commit(store, one)
    with pytest.raises(LostRaceError):
        commit(store, stale)
    saved = run(store, two)
    assert saved is not None and saved.template.version == 3


def test_a_template_for_an_unknown_purpose_is_refused(ports: NotificationPorts) -> None:
    with pytest.raises(service.TemplateError):
        handlers.put_template(template_cmd("x", {**IBI, "purpose": "nope"}), ports, None)


RECEIPT_FIELDS = {
    "amount": "12,50 EUR",
    "paid_at": "02/03/2026 10:31",
    "debts": "MUL-2026-1",
    "receipt_url": "http://127.0.0.1:8080/app/payments/pay-1/receipt",
    "verification_code": "PIC-0000-0000-0000-0000",
    "verify_url": "http://127.0.0.1:8080/v1/payments/verify/PIC-0000-0000-0000-0000",
}


def test_pic_s_own_templates_need_no_put_and_cannot_be_overwritten(
    ports: NotificationPorts, store: FakeNotificationStore
) -> None:
    # GIVEN a store where nobody has stored pic-payment-receipt WHEN PAY asks for it THEN it is sent, as version 1
    req = NotificationRequest("ntf-9", "pic-payment-receipt", Recipient(email=EMAIL), RECEIPT_FIELDS, "/pic/payment")
    doc = commit(store, handlers.notify(req, ports, None))
    assert doc is not None and (doc["template"], doc["template_version"]) == ("pic-payment-receipt", 1)
    assert doc["status"] == "accepted"
    assert "PIC-0000-0000-0000-0000" in doc["body"]
    template, versions = handlers.template_versions("pic-payment-receipt", None, ports)
    assert versions == [1] and template.readability["index"] == "fernandez-huerta"
    # AND nobody replaces it through the API (it changes with the code that fills it in)
    with pytest.raises(service.TemplateReservedError):
        handlers.put_template(template_cmd("pic-payment-receipt", IBI), ports, None)
    # AND an id under pic- that PIC does not ship is unknown, not someone's to create
    with pytest.raises(service.TemplateNotFoundError):
        handlers.notify(request("pic-nothing"), ports, None)
    with pytest.raises(service.TemplateReservedError):
        handlers.put_template(template_cmd("pic-nothing", IBI), ports, None)


def test_a_preview_shows_placeholders_and_the_clear_language_score(ports: NotificationPorts) -> None:
    shown = handlers.preview("ibi", None, "es", ports)
    assert shown["body"] == "Hola, ((name))." and shown["readability"]["index"] == "fernandez-huerta"
    assert shown["sms_segments"] == 1


# ---- bulk ------------------------------------------------------------------------------------------------------


def test_a_bulk_job_stores_its_chunks_reports_bad_rows_and_decides_each_chunk_once(
    ports: NotificationPorts, store: FakeNotificationStore
) -> None:
    # GIVEN a job of two good rows and two bad ones (an unreadable row, a missing field)
    person(store)
    rows: list[tuple[int, Any]] = [
        (1, {"recipient": {"citizen_id": CITIZEN}, "personalisation": {"name": "Inés", "year": "2026"}}),
        (2, {"recipient": {"email": "luis@example.org"}, "personalisation": {"name": "Luis"}}),
        (3, ValueError("2 values for 3 columns")),
        (4, {"recipient": {"email": "eva@example.org"}, "personalisation": {"name": "Eva", "year": "2026"}}),
    ]
    job = run(store, lambda: handlers.submit_bulk(SubmitBulk("ibi", rows, "sys-tributos"), ports, None))

    # THEN the job answers the malformed rows, one chunk was stored ahead and its event staged with the job
    assert job is not None and (job["total"], job["valid"], job["malformed_count"]) == (4, 2, 2)
    assert [m["row"] for m in job["malformed"]] == [2, 3]
    bulk_id = job["id"]
    assert handlers.bulk_progress(bulk_id, ports)["state"] == "deciding"

    # WHEN the chunk event is handled (twice: a redelivery) THEN two notifications, decided once
    run(store, lambda: handlers.bulk_chunk(bulk_id, 0, ports, None))
    assert len(store.ledger.staged(handlers.bulk_chunk(bulk_id, 0, ports, None))) == 0
    assert sorted(d["bulk_id"] for d in store.notifications.values()) == [bulk_id, bulk_id]
    progress = handlers.bulk_progress(bulk_id, ports)
    assert (progress["state"], progress["accepted"], progress["decided"]) == ("delivering", 2, 2)

    # AND once both are delivered the job is done
    for notification_id in list(store.notifications):
        commit(store, handlers.deliver(notification_id, ports, None))
    assert handlers.bulk_progress(bulk_id, ports)["state"] == "done"


def test_a_bulk_job_needs_a_known_template_and_a_row(ports: NotificationPorts) -> None:
    with pytest.raises(ValidationError):
        handlers.submit_bulk(SubmitBulk("ibi", [], "sys"), ports, None)
    with pytest.raises(service.TemplateNotFoundError):
        handlers.submit_bulk(SubmitBulk("nope", [(1, {})], "sys"), ports, None)


def test_a_chunk_not_readable_yet_is_retried_later(ports: NotificationPorts) -> None:
    with pytest.raises(ConflictError, match="not readable yet"):
        handlers.bulk_chunk("blk-none", 0, ports, None)


# ---- alerts -----------------------------------------------------------------------------------------------------


def subscribe(store: FakeNotificationStore, citizen_id: str, zone: str = "01") -> None:
    store.subscriptions[(citizen_id, f"traffic.{zone}")] = Subscription(citizen_id, f"traffic.{zone}", "traffic",
                                                                        zone, True, T0)  # fmt: skip


def test_an_alert_reaches_the_subscribers_of_its_zone_and_its_district_page_by_page(
    ports: NotificationPorts, store: FakeNotificationStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN three subscribers of traffic in Centro (01) and pages of two
    for n in range(3):
        subscribe(store, f"c-{n}")
    monkeypatch.setattr(handlers, "ALERT_PAGE", 2)
    alert = AlertPublished(topic="traffic", zones=["011"], severity="moderate", text={"es": "Corte en Mayor."})

    # WHEN Movilidad publishes for barrio 011 THEN the alert and one page event per group of keys are staged
    uow = handlers.publish_alert(alert, "/legacy/movilidad", "e-1", ports, None)
    pages = [AlertPageReady.model_validate(data) for _, data in events_in(uow)]
    commit(store, uow)
    assert sorted(k for p in pages for k in p.topic_zones) == ["traffic#01", "traffic#011"]

    # AND walking the pages notifies each subscriber once, in-app (a subscriber is known to PIC)
    todo = list(pages)
    while todo:
        page = todo.pop()
        staged = handlers.alert_page(page, ports, None)
        todo += [AlertPageReady.model_validate(data) for _, data in events_in(staged)]
        commit(store, staged)
    reached = sorted(d["recipient"]["citizen_id"] for d in store.notifications.values())
    assert reached == ["c-0", "c-1", "c-2"]
    assert {d["channel"] for d in store.notifications.values()} == {"inapp"}

    # AND a page walked again (a redelivery) stores nothing twice
    handlers.alert_page(pages[0], ports, None)
    assert len(store.notifications) == 3


def test_an_alert_for_an_undeclared_topic_is_refused(ports: NotificationPorts) -> None:
    alert = AlertPublished(topic="nope", zones=["01"], severity="moderate", text={"es": "x"})
    with pytest.raises(ValidationError):
        handlers.publish_alert(alert, "/legacy/movilidad", "e-1", ports, None)


# ---- projections ----------------------------------------------------------------------------------------------


def test_two_projections_at_once_the_loser_decides_again_on_the_winners_profile(
    ports: NotificationPorts, store: FakeNotificationStore
) -> None:
    # GIVEN a consent and a preferences change read the same profile
    snapshot = {"granted": True, "channels": ["email"], "text_version": "2026-01"}
    consent = lambda: handlers.project_consent(CITIZEN, "campaigns", snapshot, T0, ports)  # noqa: E731
    preferences = lambda: handlers.project_part(CITIZEN, "preferences", {"channels": ["sms"]}, T0, ports)  # noqa: E731
    first, second = consent(), preferences()
    commit(store, first)

    # WHEN the second commits THEN it loses, and decided again it keeps both
    with pytest.raises(LostRaceError):
        commit(store, second)
    run(store, preferences)
    assert {"consents", "preferences"} <= set(store.profiles[CITIZEN])


def test_an_older_subscription_event_changes_nothing(ports: NotificationPorts, store: FakeNotificationStore) -> None:
    live = Subscription(CITIZEN, "traffic.01", "traffic", "01", True, T0)
    run(store, lambda: handlers.project_subscription(live, ports))
    gone = Subscription(CITIZEN, "traffic.01", "traffic", "01", False, T0 - timedelta(minutes=1))
    run(store, lambda: handlers.project_subscription(gone, ports))
    assert store.subscriptions[(CITIZEN, "traffic.01")].live is True


def test_the_profile_shows_a_legal_obligation_by_its_basis_not_as_a_refused_consent(
    ports: NotificationPorts, store: FakeNotificationStore
) -> None:
    # GIVEN the projection holds a (never granted) service-notifications entry and a campaigns consent
    consents = {
        "service-notifications": {"granted": False, "channels": [], "text_version": None},
        "campaigns": {"granted": True, "channels": ["email"], "text_version": "2026-01"},
    }
    person(store, consents=consents, preferences={"channels": ["inapp", "email"]})
    run(store, lambda: handlers.register_push_endpoint(CITIZEN, "https://push.example.org/d", ports, None))

    # WHEN the profile is read THEN service notifications show their legal basis and the citizen's channels
    profile = handlers.profile_of(CITIZEN, ports)
    shown = service.consents_view(profile.view, ports.terms)
    notices = shown["service-notifications"]
    assert notices["requires_consent"] is False and "granted" not in notices
    assert "6.1.c" in notices["legal_basis"] and notices["channels"] == ["inapp", "email"]
    assert shown["campaigns"]["granted"] is True
    assert profile.view.push_endpoint == "https://push.example.org/d"


# ---- data-subject rights ---------------------------------------------------------------------------------------


def opened(right: str) -> RgpdRequestOpened:
    return rgpd_request(right, CITIZEN, T0)


def test_access_exports_the_projection_the_inbox_and_what_was_sent(
    ports: NotificationPorts, store: FakeNotificationStore
) -> None:
    notification_id = accepted(ports, store, preferences={"channels": ["inapp"]})
    commit(store, handlers.deliver(notification_id, ports, None))
    uow = handlers.answer_rights(opened("access"), ports, None)
    ((kind, answer),) = events_in(uow)
    assert kind == "es.madrid.pic.rgpd.domain.answered.v1" and answer["outcome"] == "done"
    export = answer["export"]
    assert [m["purpose"] for m in export["inbox"]] == ["service-notifications"]
    assert [n["id"] for n in export["notifications"]] == [notification_id]


def test_an_erasure_keeps_legal_notices_erases_the_rest_and_leaves_a_marker(
    ports: NotificationPorts, store: FakeNotificationStore
) -> None:
    # GIVEN a legal notice and a campaign delivered in-app, and a subscription
    consents = {"campaigns": {"granted": True, "channels": ["inapp"], "text_version": "2026-01"}}
    person(store, consents=consents, preferences={"channels": ["inapp"]})
    for template, notification_id in (("ibi", "ntf-n"), ("veranos", "ntf-c")):
        commit(store, handlers.notify(request(template, notification_id), ports, None))
        commit(store, handlers.deliver(notification_id, ports, None))
    subscribe(store, CITIZEN)

    # WHEN the person's erasure is answered
    run(store, lambda: handlers.answer_rights(opened("erasure"), ports, None))

    # THEN the campaign (its record and its message) and the subscription are gone, the legal notice kept
    assert set(store.notifications) == {"ntf-n"}
    assert [m.notification_id for m in handlers.inbox_of(CITIZEN, ports)] == ["ntf-n"]
    assert store.subscriptions == {}
    assert set(store.profiles[CITIZEN]) == {service.ERASED}

    # AND the completed request sweeps nothing more (the marker is this erasure's)
    answered = {"consent": T0 + timedelta(seconds=1)}
    run(store, lambda: handlers.sweep_erased("rgpd-1", CITIZEN, answered, ports))
    assert set(store.profiles[CITIZEN]) == {service.ERASED}


# ---- the citizen's timeline -----------------------------------------------------------------------------------


def _timeline(ports: NotificationPorts, limit: int, cursor: str | None = None) -> paging.TimelinePage:
    after = paging.decode(cursor) if cursor else None
    return handlers.citizen_timeline(paging.ReadTimeline(CITIZEN, limit, after), ports)


def test_the_timeline_pages_through_what_was_sent_to_the_citizen_newest_first(
    ports: NotificationPorts, store: FakeNotificationStore, clock: FixedClock
) -> None:
    # GIVEN five notifications to the citizen a minute apart (one refused: no consent to campaigns), one to
    # their e-mail address as such, and one to another citizen
    person(store)
    for n in range(5):
        commit(store, handlers.notify(request("veranos" if n == 2 else "ibi", f"ntf-{n}"), ports, None))
        clock.advance(minutes=1)
    commit(store, handlers.notify(request(notification_id="ntf-mail", email=EMAIL), ports, None))
    commit(store, handlers.notify(request(notification_id="ntf-other", citizen_id="c-0002"), ports, None))
    store.calls.clear()

    # WHEN the timeline is read two at a time, following next_cursor
    pages, cursor = [], None
    while True:
        page = _timeline(ports, 2, cursor)
        pages.append([item["id"] for item in page.items])
        if (cursor := page.next_cursor) is None:
            break

    # THEN the pages hold the citizen's notifications newest first, each once, whatever their status
    assert pages == [["ntf-4", "ntf-3"], ["ntf-2", "ntf-1"], ["ntf-0"]]
    # AND every page is one read of what was sent to the citizen's id (the index orders by id, not time)
    assert store.calls == {"read:sent-to": 3}


def test_a_timeline_item_says_which_channel_status_and_purpose_not_the_message(
    ports: NotificationPorts, store: FakeNotificationStore
) -> None:
    person(store)
    commit(store, handlers.notify(request(notification_id="ntf-a"), ports, None))
    commit(store, handlers.notify(request("veranos", "ntf-b"), ports, None))
    page = _timeline(ports, 20)
    when = T0.isoformat()
    sent = {"template_id": "ibi", "channel": "email", "status": "accepted", "purpose": "service-notifications"}
    refused = {"template_id": "veranos", "channel": None, "status": "not-allowed", "purpose": "campaigns"}
    assert page == paging.TimelinePage(
        [  # created in the same instant: the id breaks the tie, newest-first order as the cursor reads it
            {"id": "ntf-b", **refused, "created_at": when, "updated_at": when},
            {"id": "ntf-a", **sent, "created_at": when, "updated_at": when},
        ],
        None,
    )


def test_a_cursor_within_a_tie_of_creation_times_loses_nothing(
    ports: NotificationPorts, store: FakeNotificationStore
) -> None:
    person(store)
    for n in range(3):
        commit(store, handlers.notify(request(notification_id=f"ntf-{n}"), ports, None))
    first = _timeline(ports, 1)
    second = _timeline(ports, 5, first.next_cursor)
    assert [i["id"] for i in first.items + second.items] == ["ntf-2", "ntf-1", "ntf-0"] and second.next_cursor is None
