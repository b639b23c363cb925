"""NOT's side of campaigns and surveys (issue 16) on in-memory fakes with the real policies: batches decided per
recipient and exactly once per person and campaign, the chosen channel's template, campaign and tags echoed in
every status event; providers' feedback and the blocklist rules (counting windows, redelivery); the one-click
unsubscribe link, headers and its request to CON. The wiring: tests/functional/notification/test_campaigns.py."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import pytest

from events.notification import BatchRecipient, NotificationBatchRequested, Recipient
from functions.core import signed_links
from functions.core.errors import ConflictError, LostRaceError
from functions.core.policy import EmbeddedPolicy
from functions.core.retry import retry_on_conflict
from functions.core.store import Staged, UnitOfWork
from functions.core.terms import Terms
from functions.notification import blocklist, handlers, service, templates
from functions.notification.handlers import Feedback, NotificationPorts, PutTemplate
from functions.notification.service import NotificationRequest
from tests.unit.fakes import FixedClock, events_in
from tests.unit.notification.fakes import FakeNotificationStore, channel, fake_ports

T = TypeVar("T")
T0 = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)  # 10:30 in Madrid: no quiet hours
SOURCE = "/pic/campaign"
TAGS = {"variant": "A", "district": "02"}
GRANTED_EMAIL = {"granted": True, "channels": ["email"], "text_version": "2026-01"}
VERANOS = {"purpose": "campaigns", "subject": {"es": "Veranos {{ year }}"},
           "body": {"es": "Hola, {{ name }}. Baja: {{ unsubscribe_url }}"}}  # fmt: skip
VERANOS_SMS = {"purpose": "campaigns", "subject": {"es": "Veranos"}, "body": {"es": "Veranos {{ year }}"}}
IBI = {"purpose": "service-notifications", "subject": {"es": "IBI"}, "body": {"es": "Hola, {{ name }}."}}
ENCUESTA = {"purpose": "surveys", "subject": {"es": "Encuesta"}, "body": {"es": "Opine: {{ survey_url }}"}}


@pytest.fixture
def store() -> FakeNotificationStore:
    return FakeNotificationStore()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


@pytest.fixture
def ports(store: FakeNotificationStore, clock: FixedClock, policy: EmbeddedPolicy, terms: Terms) -> NotificationPorts:
    ports = fake_ports(store, clock, policy, terms)
    for template_id, content in (("veranos", VERANOS), ("veranos-sms", VERANOS_SMS), ("ibi", IBI),
                                 ("encuesta", ENCUESTA)):  # fmt: skip
        cmd = PutTemplate(template_id, content["purpose"], content["subject"], content["body"], "sys")
        commit(store, handlers.put_template(cmd, ports, None))
    store.calls.clear()
    return ports


def commit(store: FakeNotificationStore, done: Staged[T] | UnitOfWork) -> T | None:
    if isinstance(done, Staged):
        store.commit(done.unit)
        return done.result
    store.commit(done)
    return None


def run(store: FakeNotificationStore, handler: Callable[[], Staged[T] | UnitOfWork]) -> T | None:
    return retry_on_conflict(lambda: commit(store, handler()), backoff=0)


def citizen(
    store: FakeNotificationStore, citizen_id: str, email: str | None = None, phone: str | None = None,
    consents: dict[str, Any] | None = None, channels: list[str] | None = None,
) -> None:  # fmt: skip
    at = T0 - timedelta(hours=1)
    held = service.merge_contacts({}, email or f"{citizen_id}@example.org", phone, at) or {}
    for purpose, snapshot in (consents if consents is not None else {"campaigns": GRANTED_EMAIL}).items():
        held = service.merge_consent(held, purpose, snapshot, at) or held
    if channels:
        held = service.merge_part(held, "preferences", {"language": "es", "channels": channels}, at) or held
    store.profiles[citizen_id] = held


def batch(
    citizens: list[str], batch_id: str = "cmp-1:p0", campaign_id: str | None = "cmp-1", template: str = "veranos",
    **extra: Any,
) -> NotificationBatchRequested:  # fmt: skip
    recipients = [
        BatchRecipient(
            citizen_id=c, personalisation={"name": c, "year": "2026"}, tags={"variant": "A", "district": "02"}
        )
        for c in citizens
    ]
    return NotificationBatchRequested(batch_id=batch_id, template=template, campaign_id=campaign_id,
                                      recipients=recipients, **extra)  # fmt: skip


def send(store: FakeNotificationStore, ports: NotificationPorts, data: NotificationBatchRequested) -> None:
    run(store, lambda: handlers.batch_requested(data, SOURCE, ports, None))


# ---- batches --------------------------------------------------------------------------------------------------


def test_a_batch_decides_each_recipient_and_echoes_the_campaign_and_tags_in_every_status_event(
    ports: NotificationPorts, store: FakeNotificationStore
) -> None:
    # GIVEN two citizens with consent for campaigns by e-mail and one without
    citizen(store, "c-1")
    citizen(store, "c-2")
    citizen(store, "c-3", consents={})

    # WHEN a campaign's page names them
    unit = handlers.batch_requested(batch(["c-1", "c-2", "c-3"]), SOURCE, ports, None)

    # THEN two are accepted by e-mail and one is not allowed (no consent), each id the campaign's and the person's
    events = events_in(unit)
    assert sorted(kind.rsplit(".", 2)[-2] for kind, _ in events) == ["accepted", "accepted", "not-allowed"]
    assert all(data["campaign_id"] == "cmp-1" and data["tags"] == {"variant": "A", "district": "02"}
               for _, data in events)  # fmt: skip
    commit(store, unit)
    note = store.notifications[service.derived_id("campaign", "cmp-1", "c-1")]
    assert (note["status"], note["channel"], note["batch_id"]) == ("accepted", "email", "cmp-1:p0")
    assert store.notifications[service.derived_id("campaign", "cmp-1", "c-3")]["reason"] == "no-consent"

    # AND delivering it echoes them too
    delivered = events_in(handlers.deliver(note["id"], ports, None))
    assert delivered[-1][0].endswith("delivered.v1") and delivered[-1][1]["campaign_id"] == "cmp-1"
    assert delivered[-1][1]["tags"]["variant"] == "A"


def test_a_person_gets_a_campaign_once_whatever_page_or_batch_carries_them_again(
    ports: NotificationPorts, store: FakeNotificationStore
) -> None:
    # GIVEN a campaign's first page was sent to c-1 and c-2
    citizen(store, "c-1")
    citizen(store, "c-2")
    citizen(store, "c-3")
    send(store, ports, batch(["c-1", "c-2"], batch_id="cmp-1:p0"))
    assert len(store.notifications) == 2

    # WHEN a dispatcher restarted after a crash sends another page carrying c-2 again (with c-3), and a
    # different batch id altogether
    unit = handlers.batch_requested(batch(["c-2", "c-3"], batch_id="cmp-1:p0-again"), SOURCE, ports, None)

    # THEN only c-3 is new: c-2 is neither decided again nor announced again
    assert [data["notification_id"] for _, data in events_in(unit)] == [service.derived_id("campaign", "cmp-1", "c-3")]
    commit(store, unit)
    assert len(store.notifications) == 3


def test_a_redelivered_batch_event_stages_nothing(ports: NotificationPorts, store: FakeNotificationStore) -> None:
    citizen(store, "c-1")
    data = batch(["c-1", "c-1"])  # a repeat inside the page too
    send(store, ports, data)
    assert len(store.notifications) == 1
    assert len(store.ledger.staged(handlers.batch_requested(data, SOURCE, ports, None))) == 0


def test_a_race_between_two_batches_keeps_one_notification(
    ports: NotificationPorts, store: FakeNotificationStore
) -> None:
    # GIVEN two pages carrying c-1, decided at once (both found nothing stored)
    citizen(store, "c-1")
    first = handlers.batch_requested(batch(["c-1"], batch_id="a"), SOURCE, ports, None)
    second = handlers.batch_requested(batch(["c-1"], batch_id="b"), SOURCE, ports, None)
    commit(store, first)
    # WHEN the second commits it loses the race; decided again it finds the notification and stages nothing
    with pytest.raises(LostRaceError):
        commit(store, second)
    send(store, ports, batch(["c-1"], batch_id="b"))
    assert len(store.notifications) == 1


def test_without_a_campaign_the_id_is_the_requester_page_and_person(
    ports: NotificationPorts, store: FakeNotificationStore
) -> None:
    citizen(store, "c-1", consents={"surveys": GRANTED_EMAIL})
    send(store, ports, batch(["c-1"], batch_id="srv-9:0", campaign_id=None, template="encuesta"))
    assert service.derived_id("batch", SOURCE, "srv-9:0", "c-1") in store.notifications


def test_the_chosen_channels_template_is_rendered(ports: NotificationPorts, store: FakeNotificationStore) -> None:
    # GIVEN c-1 prefers SMS and consented to campaigns by SMS; c-2 by e-mail
    citizen(store, "c-1", phone="+34612345678", consents={"campaigns": {**GRANTED_EMAIL, "channels": ["sms"]}},
            channels=["sms"])  # fmt: skip
    citizen(store, "c-2")
    send(store, ports, batch(["c-1", "c-2"], channel_templates={"sms": "veranos-sms"}))
    by_sms = store.notifications[service.derived_id("campaign", "cmp-1", "c-1")]
    by_email = store.notifications[service.derived_id("campaign", "cmp-1", "c-2")]
    assert (by_sms["channel"], by_sms["template"], by_sms["body"]) == ("sms", "veranos-sms", "Veranos 2026")
    assert (by_email["channel"], by_email["template"]) == ("email", "veranos")


def test_templates_of_different_purposes_refuse_the_batch_whole(
    ports: NotificationPorts, store: FakeNotificationStore
) -> None:
    citizen(store, "c-1")
    with pytest.raises(service.BatchRefusedError, match="different purposes"):
        handlers.batch_requested(batch(["c-1"], channel_templates={"sms": "ibi"}), SOURCE, ports, None)
    with pytest.raises(service.BatchRefusedError, match="no such template"):
        handlers.batch_requested(batch(["c-1"], template="nope"), SOURCE, ports, None)
    assert store.notifications == {}


def test_a_recipient_whose_personalisation_does_not_fit_is_not_sent_and_the_page_goes_on(
    ports: NotificationPorts, store: FakeNotificationStore
) -> None:
    citizen(store, "c-1")
    citizen(store, "c-2")
    data = batch(["c-1", "c-2"])
    data.recipients[1].personalisation.pop("year")
    send(store, ports, data)
    bad = store.notifications[service.derived_id("campaign", "cmp-1", "c-2")]
    assert (bad["status"], bad["reason"]) == ("not-allowed", "personalisation-invalid")
    assert "personalisation.year" in bad["reasons"][0]
    assert store.notifications[service.derived_id("campaign", "cmp-1", "c-1")]["status"] == "accepted"


def test_a_big_page_commits_ahead_in_transactions_and_reads_little_per_message(
    ports: NotificationPorts, store: FakeNotificationStore
) -> None:
    # GIVEN 250 citizens alike
    names = [f"c-{n:03d}" for n in range(250)]
    for name in names:
        citizen(store, name)
    # WHEN one page names them all
    unit = handlers.batch_requested(batch(names), SOURCE, ports, None)
    # THEN 8 transactions of 30 went ahead and the last 10 wait for the event's own unit; the store was read
    # 4 times (2 templates... here 1, the profiles, what exists) and the policy asked once for everyone alike
    assert store.calls["commit"] == 8
    assert len(events_in(unit)) == 10
    reads = sum(n for kind, n in store.calls.items() if kind.startswith("read:"))
    assert reads == 3, store.calls
    assert len(ports.choices) == 1


# ---- unsubscribe links -------------------------------------------------------------------------------------------


def test_a_campaign_message_carries_its_unsubscribe_link_and_headers(
    ports: NotificationPorts, store: FakeNotificationStore
) -> None:
    citizen(store, "c-1")
    send(store, ports, batch(["c-1"]))
    note = store.notifications[service.derived_id("campaign", "cmp-1", "c-1")]
    assert note["unsubscribe_url"] in note["body"] and "/app/unsubscribe/" in note["unsubscribe_url"]
    token = note["unsubscribe_url"].rsplit("/", 1)[1]
    assert signed_links.verify("unsubscribe", token, 60) == {"n": note["id"]}
    commit(store, handlers.deliver(note["id"], ports, None))
    sent = channel(ports, "email").sent[-1]
    assert sent.list_unsubscribe == note["list_unsubscribe"] and "/v1/unsubscribe/" in sent.list_unsubscribe
    from functions.notification.channels import unsubscribe_headers

    headers = unsubscribe_headers(sent)
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert headers["List-Unsubscribe"] == f"<{note['list_unsubscribe']}>"


def test_a_service_notification_has_no_unsubscribe_link(ports: NotificationPorts, store: FakeNotificationStore) -> None:
    citizen(store, "c-1")
    req = NotificationRequest("ntf-1", "ibi", Recipient(citizen_id="c-1"), {"name": "Inés"}, "sys")
    doc = commit(store, handlers.notify(req, ports, None))
    assert doc is not None and "unsubscribe_url" not in doc and "list_unsubscribe" not in doc


def test_the_unsubscribe_url_is_never_asked_of_nor_taken_from_the_requester() -> None:
    fields = ("name", "unsubscribe_url")
    assert templates.check_personalisation(fields, {"name": "Ana"}) == {"name": "Ana"}
    with pytest.raises(service.PersonalisationError) as refused:
        templates.check_personalisation(fields, {"name": "Ana", "unsubscribe_url": "https://evil.example"})
    assert refused.value.errors and refused.value.errors[0]["code"] == "reserved"


def unsubscribe_token(store: FakeNotificationStore, citizen_id: str = "c-1") -> tuple[str, str]:
    note = store.notifications[service.derived_id("campaign", "cmp-1", citizen_id)]
    return note["id"], note["unsubscribe_url"].rsplit("/", 1)[1]


def test_one_click_unsubscribe_asks_con_to_withdraw_that_purpose_on_that_channel_once(
    ports: NotificationPorts, store: FakeNotificationStore
) -> None:
    # GIVEN a campaign message by e-mail to c-1, who consented to campaigns by e-mail and SMS
    citizen(store, "c-1", phone="+34612345678", consents={"campaigns": {**GRANTED_EMAIL, "channels": ["email", "sms"]}})
    send(store, ports, batch(["c-1"]))
    notification_id, token = unsubscribe_token(store)
    assert handlers.unsubscribe_view(handlers.unsubscribe_target(token, ports)[0])["unsubscribed"] is False

    # WHEN the link is POSTed
    staged = handlers.unsubscribe(token, ports, None)

    # THEN CON is asked to withdraw campaigns on e-mail (it keeps SMS) for c-1, and the engagement is announced
    events = dict(events_in(staged.unit))
    asked = events["es.madrid.pic.consent.change.requested.v1"]
    assert (asked["citizen_id"], asked["purpose"], asked["granted"], asked["channels"]) == ("c-1", "campaigns", False,
                                                                                              ["email"])  # fmt: skip
    assert asked["actor"] == {"kind": "citizen", "id": "c-1", "level": None}
    assert asked["capture_channel"] == "unsubscribe-link" and asked["text_version"] == "2026-01"
    engaged = events["es.madrid.pic.notification.engaged.v1"]
    assert (engaged["kind"], engaged["notification_id"], engaged["campaign_id"]) == ("unsubscribed", notification_id,
                                                                                     "cmp-1")  # fmt: skip
    assert staged.result == {"purpose": "campaigns", "channel": "email", "unsubscribed": True}
    commit(store, staged)

    # AND a second click asks nothing again
    again = handlers.unsubscribe(token, ports, None)
    assert events_in(again.unit) == [] and again.result["unsubscribed"] is True


def test_a_bad_or_foreign_token_is_not_a_valid_link(ports: NotificationPorts, store: FakeNotificationStore) -> None:
    citizen(store, "c-1")
    req = NotificationRequest("ntf-ibi", "ibi", Recipient(citizen_id="c-1"), {"name": "Inés"}, "sys")
    commit(store, handlers.notify(req, ports, None))
    for token in (
        "nonsense",
        signed_links.sign("survey", {"n": "ntf-ibi"}),  # another use's token
        signed_links.sign("unsubscribe", {"n": "ntf-ibi"}),  # a service notification: nothing to drop
        signed_links.sign("unsubscribe", {"n": "ntf-none"}),
    ):
        with pytest.raises(signed_links.LinkInvalidError):
            handlers.unsubscribe(token, ports, None)


# ---- feedback and the blocklist ---------------------------------------------------------------------------------


def delivered_note(store: FakeNotificationStore, ports: NotificationPorts, citizen_id: str, campaign: str) -> str:
    send(store, ports, batch([citizen_id], batch_id=campaign, campaign_id=campaign))
    notification_id = service.derived_id("campaign", campaign, citizen_id)
    commit(store, handlers.deliver(notification_id, ports, None))
    return notification_id


def test_the_blocklist_rules_count_within_their_windows_once_per_notification() -> None:
    at = T0
    state: dict[str, Any] = {}
    # two soft bounces, then one 31 days later: the first has left the window, not blocked
    for n, when in enumerate((at, at + timedelta(days=1), at + timedelta(days=32))):
        state = blocklist.record(state, "soft-bounce", f"n{n}", when) or state
    assert state["blocked"] is None
    # the same notification's bounce again counts nothing (a redelivered webhook)
    assert blocklist.record(state, "soft-bounce", "n2", at + timedelta(days=32)) is None
    # two more within 30 days of the third: three in the window, blocked for campaigns and surveys
    for n in (3, 4):
        state = blocklist.record(state, "soft-bounce", f"n{n}", at + timedelta(days=33)) or state
    assert state["blocked"] == "soft-bounce"
    # a hard bounce is stronger and replaces it; a complaint afterwards does not weaken it
    state = blocklist.record(state, "hard-bounce", "n5", at + timedelta(days=34)) or state
    state = blocklist.record(state, "complaint", "n6", at + timedelta(days=35)) or state
    assert state["blocked"] == "hard-bounce"
    assert blocklist.rules()["hard-bounce"].blocks("service-notifications")
    assert not blocklist.rules()["complaint"].blocks("service-notifications")
    assert blocklist.rules()["complaint"].blocks("surveys")


def test_a_hard_bounce_blocks_the_address_for_the_next_campaign_and_is_announced(
    ports: NotificationPorts, store: FakeNotificationStore
) -> None:
    # GIVEN a campaign message delivered to c-1 by e-mail
    citizen(store, "c-1")
    first = delivered_note(store, ports, "c-1", "cmp-1")

    # WHEN the provider says it hard-bounced
    staged = handlers.feedback(Feedback("ses", first, "bounced", bounce="hard"), ports, None)

    # THEN it is announced as engaged (bounced, hard) with the campaign and tags, and the address is blocked
    [(kind, engaged)] = events_in(staged.unit)
    assert kind == "es.madrid.pic.notification.engaged.v1"
    seen = (engaged["kind"], engaged["bounce"], engaged["channel"], engaged["campaign_id"], engaged["tags"])
    assert seen == ("bounced", "hard", "email", "cmp-1", TAGS)
    assert staged.result["blocked"] == "hard-bounce"
    commit(store, staged)
    assert "c-1@example.org" not in str(store.blocks)  # kept by its blind index only

    # AND the next campaign's message to that address is not allowed, reason blocked
    send(store, ports, batch(["c-1"], batch_id="cmp-2", campaign_id="cmp-2"))
    nxt = store.notifications[service.derived_id("campaign", "cmp-2", "c-1")]
    assert (nxt["status"], nxt["reason"]) == ("not-allowed", "blocked")
    # AND a service notice (a hard bounce blocks every purpose) goes to the in-app inbox instead
    req = NotificationRequest("ntf-ibi", "ibi", Recipient(citizen_id="c-1"), {"name": "Inés"}, "sys")
    doc = commit(store, handlers.notify(req, ports, None))
    assert doc is not None and doc["channel"] == "inapp"


def test_a_complaint_blocks_campaigns_but_not_service_notices(
    ports: NotificationPorts, store: FakeNotificationStore
) -> None:
    citizen(store, "c-1")
    first = delivered_note(store, ports, "c-1", "cmp-1")
    run(store, lambda: handlers.feedback(Feedback("ses", first, "complained"), ports, None))
    send(store, ports, batch(["c-1"], batch_id="cmp-2", campaign_id="cmp-2"))
    assert store.notifications[service.derived_id("campaign", "cmp-2", "c-1")]["reason"] == "blocked"
    req = NotificationRequest("ntf-ibi", "ibi", Recipient(citizen_id="c-1"), {"name": "Inés"}, "sys")
    doc = commit(store, handlers.notify(req, ports, None))
    assert doc is not None and doc["channel"] == "email"


def test_three_soft_bounces_block_and_a_new_address_is_not_blocked(
    ports: NotificationPorts, store: FakeNotificationStore
) -> None:
    citizen(store, "c-1")
    for n in range(3):
        note = delivered_note(store, ports, "c-1", f"cmp-{n}")
        run(store, lambda note=note: handlers.feedback(Feedback("ses", note, "bounced", bounce="soft"), ports, None))  # type: ignore[misc]
    send(store, ports, batch(["c-1"], batch_id="cmp-9", campaign_id="cmp-9"))
    assert store.notifications[service.derived_id("campaign", "cmp-9", "c-1")]["reason"] == "blocked"
    # WHEN C360 announces a new address THEN the block of the old one does not follow the person
    store.profiles["c-1"] = service.merge_contacts(store.profiles["c-1"], "nueva@example.org", None, T0) or {}
    send(store, ports, batch(["c-1"], batch_id="cmp-10", campaign_id="cmp-10"))
    assert store.notifications[service.derived_id("campaign", "cmp-10", "c-1")]["status"] == "accepted"


def test_feedback_redelivered_or_about_nothing_sent(ports: NotificationPorts, store: FakeNotificationStore) -> None:
    citizen(store, "c-1")
    citizen(store, "c-2", consents={})
    note = delivered_note(store, ports, "c-1", "cmp-1")
    click = Feedback("ses", note, "clicked", url="https://www.madrid.es/veranos?utm=x&id=c-1#top")
    staged = handlers.feedback(click, ports, None)
    assert events_in(staged.unit)[0][1]["url"] == "https://www.madrid.es/veranos"
    commit(store, staged)
    # a redelivered webhook: recorded already, nothing staged
    again = handlers.feedback(click, ports, None)
    assert again.result["recorded"] is False and len(store.ledger.staged(again.unit)) == 0
    # a provider's "delivery" is acknowledged, nothing announced
    assert events_in(handlers.feedback(Feedback("ses", note, "delivered"), ports, None).unit) == []
    with pytest.raises(service.NotificationNotFoundError):
        handlers.feedback(Feedback("ses", "ntf-none", "opened"), ports, None)
    send(store, ports, batch(["c-2"], batch_id="x", campaign_id="cmp-x"))
    with pytest.raises(service.FeedbackUnexpectedError):
        handlers.feedback(Feedback("ses", service.derived_id("campaign", "cmp-x", "c-2"), "opened"), ports, None)


def test_feedback_about_a_message_still_being_sent_is_retried_later(
    ports: NotificationPorts, store: FakeNotificationStore
) -> None:
    # GIVEN a campaign message its delivery has claimed (sending) but not yet recorded
    citizen(store, "c-1")
    send(store, ports, batch(["c-1"]))
    notification_id = service.derived_id("campaign", "cmp-1", "c-1")
    store.notifications[notification_id]["status"] = "sending"
    # WHEN the provider's feedback arrives THEN it is a conflict (409: the provider retries), nothing written
    with pytest.raises(ConflictError, match="still being sent"):
        handlers.feedback(Feedback("ses", notification_id, "opened"), ports, None)


def test_the_link_previews_as_a_placeholder_and_only_campaigns_and_surveys_may_use_it(
    ports: NotificationPorts, store: FakeNotificationStore
) -> None:
    shown = handlers.preview("veranos", None, "es", ports)
    assert shown["body"] == "Hola, ((name)). Baja: ((unsubscribe_url))"
    notice = PutTemplate("aviso", "service-notifications", {"es": "Aviso"}, {"es": "Baja: {{ unsubscribe_url }}"}, "s")
    with pytest.raises(service.TemplateError, match="unsubscribe"):
        handlers.put_template(notice, ports, None)
