"""The campaign use cases on in-memory fakes, with the real segment engine (DuckDB over Parquet in a temporary
directory) and the embedded Rego policies: the projection (latest event wins, redelivery), saved segments' deltas,
counts per channel against one decision per person, campaigns' validation and lifecycle (four-eyes, the schedule),
the dispatcher's exactly-once pages (a crash between emit and cursor, two dispatchers racing), pacing, pause and
resume, recurring runs, A/B stability and the impact counters."""

from __future__ import annotations

import itertools
import typing
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from events.citizen import CitizenUpdated, ContactPoints, MatchDecision, Profile, SourceLinkChange
from events.consent import Actor, ConsentChanged, ConsentSnapshot, Preferences, PreferencesChanged
from events.notification import NotificationBatchRequested, NotificationDelivered
from events.position import PositionItemUpserted
from events.rgpd import RgpdFlagsChanged
from functions.campaign import columnar, handlers, segments, service
from functions.campaign.audience import RELATION_SECTIONS
from functions.campaign.handlers import CampaignPorts, TemplateInfo
from functions.core.errors import LostRaceError, ValidationError
from functions.core.policy import Policy
from tests.unit.campaign.fakes import NOW, FakeCampaignStore, make_ports
from tests.unit.fakes import FixedClock, event_models

ARGANZUELA_65 = {
    "all": [
        {"district": ["02"]},
        {"age": {"min": 65}},
        {"consent": {"purpose": "campaigns", "channels": ["sms", "email"]}},
    ]
}
MANAGER, OTHER = "agent:ag-cm1", "agent:ag-cm2"


@pytest.fixture
def setup(tmp_path: Path, policy: Policy) -> tuple[CampaignPorts, FakeCampaignStore, FixedClock]:
    return make_ports(tmp_path, policy, **{"camp-b": TemplateInfo("campaigns", ())})


def run(store: FakeCampaignStore, uow: Any) -> None:
    store.commit(uow)


def updated(cid: str, at: datetime, *, email: str | None = "a@example.org", phone: str | None = None,
            district: str | None = "02", birth: date | None = date(1950, 1, 1)) -> CitizenUpdated:  # fmt: skip
    return CitizenUpdated(
        citizen_id=cid,
        link=SourceLinkChange(source="/legacy/padron", local_id=f"P{cid}", change="added"),
        match=MatchDecision(method="new", score=1.0, evidence=[]),
        updated_at=at,
        contact=ContactPoints(email=email, phone=phone),
        profile=Profile(birth_date=birth, district=district),
    )


def consent(
    cid: str, at: datetime, granted: bool = True, channels: tuple[str, ...] = ("email", "sms")
) -> ConsentChanged:
    return ConsentChanged(
        citizen_id=cid, purpose="campaigns", before=ConsentSnapshot(granted=not granted),
        after=ConsentSnapshot(granted=granted, channels=list(channels), text_version="2026-01"), mode="a",
        proof_id="p", capture_channel="web",
        actor=Actor(kind="citizen", id=cid), language="es", text_sha256=None, changed_at=at,
    )  # fmt: skip


def person(p: CampaignPorts, store: FakeCampaignStore, cid: str, *, granted: bool = True, **kw: Any) -> None:
    run(store, handlers.on_citizen_updated(updated(cid, NOW - timedelta(days=1), **kw), p))
    run(store, handlers.on_consent_changed(consent(cid, NOW - timedelta(days=1), granted), p))


def segment(p: CampaignPorts, store: FakeCampaignStore, tree: dict[str, Any] | None = None) -> service.Segment:
    staged = handlers.create_segment(
        service.SegmentPost(name="Arganzuela 65+", filter=tree or ARGANZUELA_65), MANAGER, p
    )
    run(store, staged.unit)
    return staged.result


def campaign(p: CampaignPorts, store: FakeCampaignStore, seg: service.Segment, **extra: Any) -> service.Campaign:
    body = {"name": "Aviso", "segment_id": seg.id, "template": "camp-aviso", **extra}
    staged = handlers.create_campaign(
        handlers.CreateCampaign(service.CampaignPost.model_validate(body), MANAGER, None), p
    )
    run(store, staged.unit)
    return staged.result


def tick(p: CampaignPorts, store: FakeCampaignStore, campaign_id: str) -> list[NotificationBatchRequested]:
    staged = handlers.dispatch_campaign(campaign_id, p)
    events = [e for e in event_models(staged.unit) if isinstance(e, NotificationBatchRequested)]
    run(store, staged.unit)
    return events


# ---- the projection ------------------------------------------------------------------------------------


def test_the_projection_keeps_the_latest_event_per_part_whatever_the_order(setup: Any) -> None:
    p, store, _ = setup
    run(store, handlers.on_citizen_updated(updated("c-1", NOW, email="new@example.org"), p))
    older = handlers.on_citizen_updated(updated("c-1", NOW - timedelta(hours=1), email=None, district="05"), p)
    assert not store.ledger.staged(older)  # older than what both parts hold: nothing staged
    again = handlers.on_citizen_updated(updated("c-1", NOW, email="new@example.org"), p)
    assert not store.ledger.staged(again)  # a redelivery
    run(store, handlers.on_consent_changed(consent("c-1", NOW), p))
    row = store.audience["c-1"].row
    assert row.district == "02" and row.reachable == ("email", "inapp")
    assert row.consents == {"campaigns": {"granted": True, "channels": ["email", "sms"], "text_version": "2026-01"}}


def test_preferences_and_flags_are_projected(setup: Any) -> None:
    p, store, _ = setup
    prefs = PreferencesChanged(
        citizen_id="c-2", before=Preferences(), after=Preferences(language="en", channels=["sms"]),
        actor=Actor(kind="citizen", id="c-2"), changed_at=NOW,
    )  # fmt: skip
    run(store, handlers.on_preferences_changed(prefs, p))
    run(store, handlers.on_flags_changed(RgpdFlagsChanged(citizen_id="c-2", restricted=True, changed_at=NOW), p))
    row = store.audience["c-2"].row
    assert (row.language, row.channels, row.restricted) == ("en", ("sms",), True)


def test_a_lost_race_on_the_row_is_refused_at_commit(setup: Any) -> None:
    p, store, _ = setup
    run(store, handlers.on_citizen_updated(updated("c-3", NOW - timedelta(hours=2)), p))
    first = handlers.on_consent_changed(consent("c-3", NOW - timedelta(hours=1)), p)
    second = handlers.on_flags_changed(RgpdFlagsChanged(citizen_id="c-3", restricted=False, changed_at=NOW), p)
    run(store, first)
    with pytest.raises(LostRaceError):
        run(store, second)


# ---- segments and counts -----------------------------------------------------------------------------


def test_an_invalid_filter_is_a_422_naming_each_error(setup: Any) -> None:
    p, _, _ = setup
    bad = {"all": [{"district": ["99"]}, {"age": {"min": -1}}, {"colour": "red"}]}
    with pytest.raises(ValidationError) as refused:
        handlers.create_segment(service.SegmentPost(name="x", filter=bad), MANAGER, p)
    fields = {e["field"] for e in refused.value.errors or []}
    assert len(fields) >= 3 and all(f.startswith("filter") for f in fields)


def test_the_count_by_channel_is_each_persons_decision(setup: Any, policy: Policy) -> None:
    p, store, _ = setup
    person(p, store, "c-a", email="a@x.org")
    person(p, store, "c-b", email=None, phone="+34600000001")
    person(p, store, "c-c", granted=False)
    person(p, store, "c-d", birth=date(1990, 1, 1))  # too young
    person(p, store, "c-e", district="05")  # elsewhere
    seg = segment(p, store)
    counted = handlers.count_segment(seg.id, service.CountPost(), p)
    assert counted["targeted"] == 2  # c-c has no consent: the filter itself asks for it
    expected: dict[str, int] = {}
    for cid in ("c-a", "c-b"):
        choice = columnar.decide_row(store.audience[cid].row, "campaigns", policy, NOW)
        expected[str(choice.channel)] = expected.get(str(choice.channel), 0) + 1
    assert {c: n for c, n in counted["by_channel"].items() if n} == expected == {"email": 1, "sms": 1}
    assert "Arganzuela" in counted["explanation"]["es"] and "Arganzuela" in counted["explanation"]["en"]


def test_a_saved_segment_is_kept_current_by_events_without_a_rebuild(setup: Any) -> None:
    p, store, clock = setup
    person(p, store, "c-1")
    person(p, store, "c-2")
    seg = segment(p, store)
    run(store, handlers.rebuild_segment(seg.id, p).unit)
    view = handlers.segment_view(store.fetch_segment(seg.id), p)  # type: ignore[arg-type]
    assert view["members"]["targeted"] == 2
    clock.advance(minutes=5)
    run(store, handlers.on_consent_changed(consent("c-1", clock.now(), granted=False), p))  # out
    person(p, store, "c-3")  # in (events dated before now, after the build? the delta says when)
    run(store, handlers.on_consent_changed(consent("c-3", clock.now()), p))
    view = handlers.segment_view(store.fetch_segment(seg.id), p)  # type: ignore[arg-type]
    assert view["members"]["targeted"] == 2  # 2 - c-1 + c-3
    assert {d.citizen_id: d.member for d in store.fetch_deltas(seg.id)} == {"c-1": False, "c-3": True}
    run(store, handlers.on_consent_changed(consent("c-1", clock.now() + timedelta(seconds=1)), p))  # back in
    assert "c-1" not in {d.citizen_id for d in store.fetch_deltas(seg.id)}  # as the snapshot holds it: no delta
    clock.advance(minutes=1)
    run(store, handlers.rebuild_segment(seg.id, p).unit)
    rebuilt = store.fetch_segment(seg.id)
    assert rebuilt is not None and rebuilt.snapshot_counts["targeted"] == 3 and store.fetch_deltas(seg.id) == []


# ---- campaigns: validation and lifecycle --------------------------------------------------------------


def test_a_template_field_the_campaign_cannot_fill_is_named(setup: Any) -> None:
    p, store, _ = setup
    p.templates.known["camp-deuda"] = TemplateInfo("campaigns", ("amount", "district_name"))  # type: ignore[attr-defined]
    seg = segment(p, store)
    with pytest.raises(service.TemplateFieldError) as refused:
        campaign(p, store, seg, template="camp-deuda")
    assert "amount" in refused.value.detail
    assert campaign(p, store, seg, template="camp-deuda", personalisation={"amount": "12 €"}).state == "draft"


def test_unknown_template_wrong_purpose_and_past_schedule_are_refused(setup: Any) -> None:
    p, store, _ = setup
    p.templates.known["svc"] = TemplateInfo("service-notifications", ())  # type: ignore[attr-defined]
    seg = segment(p, store)
    with pytest.raises(ValidationError):
        campaign(p, store, seg, template="nope")
    with pytest.raises(ValidationError):
        campaign(p, store, seg, template="svc")
    with pytest.raises(service.ScheduleInPastError):
        campaign(p, store, seg, schedule={"at": (NOW - timedelta(hours=1)).isoformat()})


def test_a_city_wide_campaign_needs_another_managers_approval(setup: Any) -> None:
    p, store, _ = setup
    person(p, store, "c-1")
    seg = segment(p, store, {"consent": {"purpose": "campaigns"}})  # no district: city-wide
    with pytest.raises(service.TemplateFieldError, match="district_name"):  # not everyone has a district
        campaign(p, store, seg)
    made = campaign(p, store, seg, personalisation={"district_name": "Madrid"})  # the default for them
    assert made.city_wide
    with pytest.raises(service.FourEyesError):
        handlers.act(made.id, "schedule", MANAGER, p)
    with pytest.raises(service.FourEyesError):
        handlers.act(made.id, "approve", MANAGER, p)  # not by its creator
    run(store, handlers.act(made.id, "approve", OTHER, p).unit)
    scheduled = handlers.act(made.id, "schedule", MANAGER, p)
    run(store, scheduled.unit)
    assert scheduled.result.state == "scheduled"
    assert [h.action for h in scheduled.result.history] == ["create", "approve", "schedule"]
    with pytest.raises(service.CampaignStateError):
        handlers.act(made.id, "resume", MANAGER, p)


# ---- dispatch -------------------------------------------------------------------------------------------


def crowd(p: CampaignPorts, store: FakeCampaignStore, n: int) -> service.Segment:
    for i in range(n):
        person(p, store, f"c-{i:04d}", email=f"p{i}@x.org")
    return segment(p, store)


def scheduled(p: CampaignPorts, store: FakeCampaignStore, seg: service.Segment, **extra: Any) -> service.Campaign:
    made = campaign(p, store, seg, **extra)
    run(store, handlers.act(made.id, "schedule", MANAGER, p).unit)
    return made


def test_dispatch_hands_every_member_to_not_once_then_finishes(setup: Any) -> None:
    p, store, _ = setup
    seg = crowd(p, store, 600)
    made = scheduled(p, store, seg)
    assert tick(p, store, made.id) == []  # the run starts: its snapshot
    sent: list[str] = []
    for _ in range(5):
        for event in tick(p, store, made.id):
            assert event.campaign_id == f"{made.id}:1" and len(event.recipients) <= service.PAGE
            assert all(r.personalisation["district_name"] == "Arganzuela" for r in event.recipients)
            sent += [r.citizen_id for r in event.recipients]
    assert sorted(sent) == sorted(set(sent)) and len(sent) == 600
    done = store.fetch_campaign(made.id)
    assert done is not None and done.state == "finished" and done.dispatched == 600


def test_a_crash_after_emitting_re_emits_at_most_that_page_with_the_same_key(setup: Any) -> None:
    p, store, _ = setup
    seg = crowd(p, store, 300)
    made = scheduled(p, store, seg)
    tick(p, store, made.id)
    lost = handlers.dispatch_campaign(made.id, p)  # emitted, then the process died: the unit never committed
    again = tick(p, store, made.id)
    first = [e for e in event_models(lost.unit) if isinstance(e, NotificationBatchRequested)]
    assert [r.citizen_id for r in first[0].recipients] == [r.citizen_id for r in again[0].recipients]
    assert first[0].campaign_id == again[0].campaign_id  # NOT derives the same notification ids


def test_two_dispatchers_racing_never_both_commit_a_page(setup: Any) -> None:
    p, store, _ = setup
    seg = crowd(p, store, 300)
    made = scheduled(p, store, seg)
    tick(p, store, made.id)
    one, two = handlers.dispatch_campaign(made.id, p), handlers.dispatch_campaign(made.id, p)
    run(store, one.unit)
    with pytest.raises(LostRaceError):
        run(store, two.unit)
    after = tick(p, store, made.id)  # the loser, decided again, sends the NEXT page
    assert {r.citizen_id for r in after[0].recipients}.isdisjoint(
        {
            r.citizen_id
            for e in event_models(one.unit)
            if isinstance(e, NotificationBatchRequested)
            for r in e.recipients
        }
    )


def test_pause_stops_at_the_next_tick_and_resume_goes_on_from_the_cursor(setup: Any) -> None:
    p, store, _ = setup
    seg = crowd(p, store, 600)
    made = scheduled(p, store, seg)
    tick(p, store, made.id)
    first = tick(p, store, made.id)
    run(store, handlers.act(made.id, "pause", MANAGER, p).unit)
    assert tick(p, store, made.id) == []
    run(store, handlers.act(made.id, "resume", OTHER, p).unit)
    rest = [r.citizen_id for _ in range(4) for e in tick(p, store, made.id) for r in e.recipients]
    assert len({r.citizen_id for r in first[0].recipients} | set(rest)) == 600
    run_state = store.fetch_campaign(made.id)
    assert run_state is not None and run_state.state == "finished"
    with pytest.raises(service.CampaignStateError):
        handlers.act(made.id, "cancel", MANAGER, p)


def test_rate_limits_pace_pages_by_the_predicted_channel(setup: Any) -> None:
    p, store, clock = setup
    seg = crowd(p, store, 300)
    made = scheduled(p, store, seg, rate_limits={"email": 60})  # one a second
    tick(p, store, made.id)
    first = sum(len(e.recipients) for e in tick(p, store, made.id))
    assert first == 60  # a minute's budget at the start
    assert sum(len(e.recipients) for e in tick(p, store, made.id)) == 0
    clock.advance(seconds=10)
    assert sum(len(e.recipients) for e in tick(p, store, made.id)) == 10


def test_ab_variants_are_stable_and_split_by_share(setup: Any) -> None:
    p, store, _ = setup
    seg = crowd(p, store, 400)
    variants = [{"name": "A", "template": "camp-aviso", "share": 50}, {"name": "B", "template": "camp-b", "share": 50}]
    made = scheduled(p, store, seg, variants=variants)
    tick(p, store, made.id)
    seen: dict[str, str] = {}
    for _ in range(3):
        for event in tick(p, store, made.id):
            for r in event.recipients:
                seen[r.citizen_id] = r.tags["variant"]
                assert event.template == ("camp-aviso" if r.tags["variant"] == "A" else "camp-b")
    assert len(seen) == 400 and 150 < sum(v == "A" for v in seen.values()) < 250
    post = service.CampaignPost.model_validate({"name": "x", "segment_id": seg.id, "template": "camp-aviso",
                                                "variants": variants})  # fmt: skip
    assert all(service.variant_of(made.id, c, post.variants).name == v for c, v in seen.items())  # type: ignore[union-attr]


def test_a_recurring_campaign_runs_again_with_its_own_exactly_once_key(setup: Any) -> None:
    p, store, clock = setup
    seg = crowd(p, store, 10)
    made = scheduled(p, store, seg, schedule={"every": "P7D", "until": (NOW + timedelta(days=10)).isoformat()})
    tick(p, store, made.id)
    assert tick(p, store, made.id)[0].campaign_id == f"{made.id}:1"
    assert tick(p, store, made.id) == []  # the run ends: nobody joined since its snapshot
    between = store.fetch_campaign(made.id)
    assert between is not None and between.state == "scheduled" and between.run_at == NOW + timedelta(days=7)
    clock.advance(days=7)
    tick(p, store, made.id)
    assert tick(p, store, made.id)[0].campaign_id == f"{made.id}:2"


def test_a_survey_campaign_gives_each_recipient_a_signed_link(setup: Any) -> None:
    p, store, _ = setup
    p.templates.known["camp-enc"] = TemplateInfo("campaigns", ("survey_url",))  # type: ignore[attr-defined]
    seg = crowd(p, store, 3)
    made = scheduled(p, store, seg, template="camp-enc", survey_id="srv-1")
    tick(p, store, made.id)
    (event,) = tick(p, store, made.id)
    urls = {r.personalisation["survey_url"] for r in event.recipients}
    assert len(urls) == 3 and all(u.startswith("https://pic.example/app/surveys/srv-1?t=") for u in urls)
    assert all(r.tags["survey"] == "srv-1" for r in event.recipients)


# ---- impact -------------------------------------------------------------------------------------------------


def test_status_events_of_a_campaign_feed_the_report(setup: Any) -> None:
    p, store, _ = setup
    seg = crowd(p, store, 2)
    made = scheduled(p, store, seg)
    for i, channel in enumerate(("email", "email", "sms")):
        event = NotificationDelivered(
            notification_id=f"ntf-{i}", status="delivered", template="camp-aviso", template_version=1,
            purpose="campaigns", channel=channel, changed_at=NOW, campaign_id=f"{made.id}:1",
            tags={"district": "02", "variant": "A"},
        )  # fmt: skip
        run(store, handlers.on_status(event, p))
    other = NotificationDelivered(notification_id="n", status="delivered", template="t", template_version=1,
                                  purpose="service-notifications", changed_at=NOW)  # fmt: skip
    assert not store.ledger.staged(handlers.on_status(other, p))
    found = handlers.campaign_report(made.id, p)
    assert found["totals"]["delivered"] == 3
    assert found["by_channel"]["email"]["delivered"] == 2 and found["by_district"]["02"]["delivered"] == 3


def test_segment_and_predicate_agree_on_the_projected_rows(setup: Any) -> None:
    p, store, _ = setup
    seg = crowd(p, store, 5)
    parsed = segments.parse(seg.document())
    assert all(segments.matches(parsed, h.row, NOW.date()) for h in store.audience.values())


def test_cases_and_interactions_become_relationships_and_recency(setup: Any) -> None:
    from events.case import CaseUpdated
    from events.interaction import InteractionLogged, InteractionRecorded

    p, store, _ = setup
    case = CaseUpdated(
        case_id="case-0123456789abcdef01234567", reference="EXP-2026-7F3A9C", citizen_id="c-7", area="urbanismo",
        category="licencia", level=1, state="open", channel="web", subject="Obra", opened_at=NOW, updated_at=NOW,
        version=1,
    )  # fmt: skip
    run(store, handlers.on_case_updated(case, p))
    assert not store.ledger.staged(handlers.on_case_updated(case, p))  # the same version again: nothing
    recorded = InteractionRecorded.model_validate({
        "interaction_id": "i-1", "citizen_id": "c-7",
        "channel": {"kind": "call", "direction": "inbound", "line": "010"}, "area": "atencion-ciudadania",
        "topic": "Padrón", "started_at": NOW.isoformat(),
    })  # fmt: skip
    logged = InteractionLogged(
        id="intx-1", interaction=recorded, recorded_by="/legacy/linea-madrid-010", recorded_at=NOW
    )
    run(store, handlers.on_interaction_logged(logged, p))
    older = recorded.model_copy(update={"started_at": NOW - timedelta(days=3)})
    assert not store.ledger.staged(handlers.on_interaction_logged(logged.model_copy(update={"interaction": older}), p))
    row = store.audience["c-7"].row
    assert row.relations == ("cases:urbanismo",) and row.last_interaction == NOW
    within = segments.parse({"version": 1, "filter": {"all": [{"relation": {"section": "cases", "area": "urbanismo"}},
                                                               {"interacted": {"within_days": 30}}]}})  # fmt: skip
    assert segments.matches(within, row, NOW.date())


# ---- the areas' relationships (position.item.upserted, C360's record links) ----------------------------------

TRIBUTOS = "/legacy/tributos"


def item(local_id: str, item_id: str, at: datetime, *, section: str = "taxes", area: str = "hacienda",
         removed: bool = False, special: bool = False) -> PositionItemUpserted:  # fmt: skip
    return PositionItemUpserted(
        local_id=local_id, section=section, item_id=item_id, status="pending", title="IBI 2026", area=area,
        as_of=at, removed=removed, special_category=special,
    )  # fmt: skip


def linked(cid: str, local_id: str, at: datetime, source: str = TRIBUTOS) -> CitizenUpdated:
    """C360 linking an area system's record to ``cid`` (no contact or profile change)."""
    return CitizenUpdated(
        citizen_id=cid, link=SourceLinkChange(source=source, local_id=local_id, change="added"),
        match=MatchDecision(method="document", score=1.0, evidence=[]), updated_at=at,
    )  # fmt: skip


def relations(store: FakeCampaignStore, cid: str) -> tuple[str, ...]:
    held = store.audience.get(cid)
    return held.row.relations if held else ()


def test_an_item_waits_for_its_records_link_then_gives_the_person_the_relationship(setup: Any) -> None:
    p, store, _ = setup
    run(store, handlers.on_item_upserted(TRIBUTOS, item("T-9", "ibi-2026-1", NOW), p))
    assert store.audience == {}  # nobody to give it to yet: it waits in the record
    run(store, handlers.on_citizen_updated(linked("c-1", "T-9", NOW), p))
    assert relations(store, "c-1") == ("taxes:hacienda",)
    filter_ = segments.parse({"version": 1, "filter": {"relation": {"section": "taxes"}}})
    assert segments.matches(filter_, store.audience["c-1"].row, NOW.date())
    # a fine of Movilidad against the same record adds its own; the same fact again stages nothing
    run(store, handlers.on_item_upserted(TRIBUTOS, item("T-9", "multa-1", NOW, section="fines", area="movilidad"), p))
    again = handlers.on_item_upserted(TRIBUTOS, item("T-9", "multa-1", NOW, section="fines", area="movilidad"), p)
    assert not store.ledger.staged(again)
    assert relations(store, "c-1") == ("fines:movilidad", "taxes:hacienda")


def test_a_withdrawn_item_takes_its_relationship_away_and_an_older_fact_does_not_bring_it_back(setup: Any) -> None:
    p, store, _ = setup
    run(store, handlers.on_citizen_updated(linked("c-1", "T-9", NOW), p))
    run(store, handlers.on_item_upserted(TRIBUTOS, item("T-9", "ibi-2026-1", NOW), p))
    run(
        store, handlers.on_item_upserted(TRIBUTOS, item("T-9", "ibi-2026-1", NOW + timedelta(hours=1), removed=True), p)
    )
    assert relations(store, "c-1") == ()
    stale = handlers.on_item_upserted(TRIBUTOS, item("T-9", "ibi-2026-1", NOW + timedelta(minutes=5)), p)
    assert not store.ledger.staged(stale)


def test_special_category_data_and_notices_give_no_relationship(setup: Any) -> None:
    p, store, _ = setup
    run(store, handlers.on_citizen_updated(linked("c-1", "S-1", NOW, source="/legacy/servicios-sociales"), p))
    social = item("S-1", "ayuda-1", NOW, section="cases", area="servicios-sociales", special=True)
    run(store, handlers.on_item_upserted("/legacy/servicios-sociales", social, p))
    notice = item("S-1", "aviso-1", NOW, section="notifications", area="servicios-sociales")
    run(store, handlers.on_item_upserted("/legacy/servicios-sociales", notice, p))
    assert relations(store, "c-1") == ()  # RGPD art. 9: never a segmentation criterion


def test_a_records_link_moving_to_another_person_moves_its_relationships(setup: Any) -> None:
    p, store, _ = setup
    run(store, handlers.on_case_updated(case_of("c-1"), p))  # c-1's own case stays theirs
    run(store, handlers.on_citizen_updated(linked("c-1", "T-9", NOW), p))
    run(store, handlers.on_item_upserted(TRIBUTOS, item("T-9", "ibi-2026-1", NOW), p))
    assert relations(store, "c-1") == ("cases:urbanismo", "taxes:hacienda")
    # an un-merge: C360 moves the record to c-2, in one unit with both rows
    moved = handlers.on_citizen_updated(linked("c-2", "T-9", NOW + timedelta(hours=1)), p)
    assert sorted(store.ledger.staged(moved)) == ["aud#c-1", "aud#c-2", "rec#/legacy/tributos|T-9"]
    run(store, moved)
    assert relations(store, "c-1") == ("cases:urbanismo",) and relations(store, "c-2") == ("taxes:hacienda",)
    older = handlers.on_citizen_updated(linked("c-1", "T-9", NOW + timedelta(minutes=30)), p)
    assert not store.ledger.staged(older)  # an older link: the latest wins


@pytest.mark.parametrize("order", list(itertools.permutations(range(4))))
def test_the_relationships_end_alike_whatever_the_order_of_delivery(setup: Any, order: tuple[int, ...]) -> None:
    p, store, _ = setup
    steps = [
        lambda: handlers.on_citizen_updated(linked("c-1", "T-9", NOW), p),
        lambda: handlers.on_item_upserted(TRIBUTOS, item("T-9", "ibi-1", NOW), p),
        lambda: handlers.on_item_upserted(TRIBUTOS, item("T-9", "ibi-1", NOW + timedelta(hours=2), removed=True), p),
        lambda: handlers.on_item_upserted(TRIBUTOS, item("T-9", "card-1", NOW, section="wallet", area="mayor"), p),
    ]
    for index in order:
        run(store, steps[index]())
    assert relations(store, "c-1") == ("wallet:mayor",)


def test_a_saved_segment_follows_an_items_arrival_and_withdrawal_without_a_rebuild(setup: Any) -> None:
    p, store, _ = setup
    person(p, store, "c-1")
    seg = segment(p, store, {"all": [{"relation": {"section": "fines"}}, {"consent": {"purpose": "campaigns"}}]})
    run(store, handlers.rebuild_segment(seg.id, p).unit)
    assert store.fetch_segment(seg.id).snapshot_counts["targeted"] == 0  # type: ignore[union-attr]
    run(store, handlers.on_citizen_updated(linked("c-1", "M-4", NOW, source="/legacy/multas"), p))
    run(
        store,
        handlers.on_item_upserted("/legacy/multas", item("M-4", "mul-1", NOW, section="fines", area="movilidad"), p),
    )
    assert {d.citizen_id: d.member for d in store.fetch_deltas(seg.id)} == {"c-1": True}
    gone = item("M-4", "mul-1", NOW + timedelta(hours=1), section="fines", area="movilidad", removed=True)
    run(store, handlers.on_item_upserted("/legacy/multas", gone, p))
    assert store.fetch_deltas(seg.id) == []  # as the snapshot holds it again


def test_an_erasure_takes_the_records_links_with_the_row(setup: Any) -> None:
    from events.rgpd import RgpdRequestOpened

    p, store, _ = setup
    run(store, handlers.on_citizen_updated(linked("c-1", "T-9", NOW), p))
    run(store, handlers.on_item_upserted(TRIBUTOS, item("T-9", "ibi-1", NOW), p))
    opened = RgpdRequestOpened.model_validate(
        {"request_id": "rq-2", "citizen_id": "c-1", "right": "erasure", "opened_at": NOW.isoformat(),
         "due_at": (NOW + timedelta(days=30)).isoformat()}
    )  # fmt: skip
    run(store, handlers.answer_rights(opened, p, None))
    assert "c-1" not in store.audience and (TRIBUTOS, "T-9") not in store.records
    # a later item of the record waits for a link C360 no longer announces: no row comes back
    run(store, handlers.on_item_upserted(TRIBUTOS, item("T-9", "ibi-2", NOW + timedelta(days=1)), p))
    assert "c-1" not in store.audience


def test_the_filters_relation_sections_are_the_projections() -> None:
    section = segments.Relation.model_fields["section"].annotation
    assert typing.get_args(section) == RELATION_SECTIONS


def case_of(cid: str) -> Any:
    from events.case import CaseUpdated

    return CaseUpdated(
        case_id="case-0123456789abcdef01234567", reference="EXP-2026-7F3A9C", citizen_id=cid, area="urbanismo",
        category="licencia", level=1, state="open", channel="web", subject="Obra", opened_at=NOW, updated_at=NOW,
        version=1,
    )  # fmt: skip


# ---- engagement and conversions -------------------------------------------------------------------------------


def test_providers_feedback_and_unsubscribes_count_once_per_event(setup: Any) -> None:
    from events.notification import NotificationEngaged

    p, store, _ = setup
    made = scheduled(p, store, crowd(p, store, 1))
    for kind in ("opened", "clicked", "unsubscribed"):
        engaged = NotificationEngaged(
            notification_id="ntf-1", kind=kind, channel="email", template="camp-aviso", purpose="campaigns",
            campaign_id=f"{made.id}:1", tags={"district": "02"}, at=NOW,
        )  # fmt: skip
        run(store, handlers.on_engaged(engaged, p))
    alien = NotificationEngaged(notification_id="n", kind="opened", channel="email", template="t",
                                purpose="service-notifications", at=NOW)  # fmt: skip
    assert not store.ledger.staged(handlers.on_engaged(alien, p))
    totals = handlers.campaign_report(made.id, p)["totals"]
    assert (totals["opened"], totals["clicked"], totals["unsubscribed"], totals["bounced"]) == (1, 1, 1, 0)


def payment(cid: str, at: datetime) -> Any:
    from events.payment import Charge, PaymentSucceeded

    charge = Charge(debt_id="fine-1", stage="early-payment", amount_cents=4500, legal_source="RDL 6/2015 art. 94")
    return PaymentSucceeded(payment_id="pay-" + "0" * 32, citizen_id=cid, method="card", amount_cents=4500,
                            charges=[charge], order="0001abc", authorisation_code="123456", finished_at=at)  # fmt: skip


def test_a_payment_after_the_campaign_reached_the_person_is_its_conversion_once(setup: Any) -> None:
    p, store, clock = setup
    made = scheduled(p, store, crowd(p, store, 3), conversion={"days": 14, "kinds": ["payment"]})
    tick(p, store, made.id)  # the run's snapshot
    (page,) = tick(p, store, made.id)  # the page handed to NOT
    reached = page.recipients[0].citizen_id
    clock.advance(days=2)
    run(store, handlers.on_payment(payment(reached, clock.now()), p))
    assert not store.ledger.staged(
        handlers.on_payment(payment(reached, clock.now()), p)
    )  # the same person again: counted once
    assert not store.ledger.staged(handlers.on_payment(payment("c-nobody", clock.now()), p))  # not in the campaign
    found = handlers.campaign_report(made.id, p)
    assert found["totals"]["conversions"] == 1 and found["by_district"]["02"]["conversions"] == 1
    clock.advance(days=20)  # beyond the window
    assert not store.ledger.staged(handlers.on_payment(payment(page.recipients[1].citizen_id, clock.now()), p))


def test_an_appointment_booked_after_the_campaign_is_its_conversion_even_before_the_records_link(setup: Any) -> None:
    p, store, clock = setup
    made = scheduled(p, store, crowd(p, store, 3), conversion={"days": 14, "kinds": ["appointment"]})
    tick(p, store, made.id)
    (page,) = tick(p, store, made.id)
    first, second = page.recipients[0].citizen_id, page.recipients[1].citizen_id
    clock.advance(days=1)
    cita = "/legacy/cita-previa"

    def booked(local_id: str, item_id: str) -> PositionItemUpserted:
        return item(local_id, item_id, clock.now(), section="appointments", area="padron")

    # one person's record is linked: their booking counts at once, and a second booking of theirs does not
    run(store, handlers.on_citizen_updated(linked(first, "CP-1", clock.now() - timedelta(hours=1), source=cita), p))
    run(store, handlers.on_item_upserted(cita, booked("CP-1", "cita-1"), p))
    run(store, handlers.on_item_upserted(cita, booked("CP-1", "cita-2"), p))
    # the other's booking arrives before C360 links their record: it counts when the link does
    run(store, handlers.on_item_upserted(cita, booked("CP-2", "cita-3"), p))
    run(store, handlers.on_citizen_updated(linked(second, "CP-2", clock.now(), source=cita), p))
    report = handlers.campaign_report(made.id, p)
    assert report["totals"]["conversions"] == 2


def test_a_payment_before_the_run_handed_the_person_over_is_not_the_campaigns(setup: Any) -> None:
    p, store, _ = setup
    made = scheduled(p, store, crowd(p, store, 3), conversion={"days": 14, "kinds": ["payment"]})
    tick(p, store, made.id)  # the snapshot is built, no page handed to NOT yet
    assert not store.ledger.staged(handlers.on_payment(payment("c-0000", NOW + timedelta(minutes=1)), p))


def test_a_survey_answered_from_a_campaigns_link_converts_once_per_respondent(setup: Any) -> None:
    from events.survey import SurveyAnswered

    p, store, _ = setup
    made = scheduled(p, store, crowd(p, store, 1), conversion={"days": 14, "kinds": ["survey"]})

    def answered(response: str, citizen: str | None, first: bool = True) -> SurveyAnswered:
        return SurveyAnswered(survey_id="srv-1", response_id=response, citizen_id=citizen,
                              campaign_id=f"{made.id}:1", first=first, answered_at=NOW)  # fmt: skip

    run(store, handlers.on_survey_answered(answered("r-1", "c-0000"), p))
    assert not store.ledger.staged(handlers.on_survey_answered(answered("r-1", "c-0000"), p))  # redelivered
    assert not store.ledger.staged(handlers.on_survey_answered(answered("r-1", "c-0000", first=False), p))  # an edit
    run(store, handlers.on_survey_answered(answered("r-anon", None), p))  # anonymous: once per response
    assert handlers.campaign_report(made.id, p)["totals"]["conversions"] == 2


def test_an_erasure_takes_the_persons_conversion_markers_too(setup: Any) -> None:
    from events.rgpd import RgpdRequestOpened

    p, store, clock = setup
    made = scheduled(p, store, crowd(p, store, 1), conversion={"days": 14, "kinds": ["payment"]})
    tick(p, store, made.id)
    tick(p, store, made.id)
    run(store, handlers.on_payment(payment("c-0000", clock.now() + timedelta(hours=1)), p))
    assert store.conversions
    opened = RgpdRequestOpened.model_validate(
        {"request_id": "rq-1", "citizen_id": "c-0000", "right": "erasure", "opened_at": NOW.isoformat(),
         "due_at": (NOW + timedelta(days=30)).isoformat()}
    )  # fmt: skip
    run(store, handlers.answer_rights(opened, p, None))
    assert not store.conversions and "c-0000" not in store.audience


def test_the_withdrawal_an_erasure_makes_never_creates_a_row(setup: Any) -> None:
    p, store, _ = setup
    withdrawal = consent("c-gone", NOW, granted=False).model_copy(update={"capture_channel": "rgpd-erasure"})
    assert not store.ledger.staged(handlers.on_consent_changed(withdrawal, p))
    person(p, store, "c-here")  # a row still held: the erasure's withdrawal changes it like any other
    later = consent("c-here", NOW, granted=False).model_copy(update={"capture_channel": "rgpd-erasure"})
    assert store.ledger.staged(handlers.on_consent_changed(later, p))
