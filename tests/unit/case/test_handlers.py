"""The case use cases on in-memory ports and the real policy engine: opening (push to an agent, replay, refusals),
pulling the next case, the citizen's additions, escalation, merges and links, the SLA sweep, the configuration
and the data-subject rights."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from events.case import CaseRequested
from events.rgpd import RgpdRequestOpened
from functions.case import handlers, service
from functions.case.handlers import CasePorts
from functions.case.service import Actor
from functions.core.errors import LostRaceError
from functions.core.policy import EmbeddedPolicy
from tests.unit.case.fakes import FakeCaseStore
from tests.unit.fakes import FixedClock, events_in

MONDAY = datetime(2026, 12, 14, 9, 0, tzinfo=UTC)  # 10:00 in Madrid, a working Monday
CITIZEN = Actor("citizen", "c-123")
L1 = Actor("agent", "ana", 1, "atencion-ciudadania")
L2 = Actor("agent", "hugo", 2, "hacienda")
L3 = Actor("agent", "eva", 3, "hacienda")


@pytest.fixture
def store() -> FakeCaseStore:
    return FakeCaseStore()


@pytest.fixture
def ports(store: FakeCaseStore, policy: EmbeddedPolicy) -> CasePorts:
    return CasePorts(store=store, policy=policy, clock=FixedClock(MONDAY))


def request(**changes: object) -> CaseRequested:
    body = {"citizen_id": "c-123", "area": "hacienda", "category": "recibo-ibi", "channel": "assistant",
            "subject": "No me ha llegado el recibo del IBI"}  # fmt: skip
    return CaseRequested.model_validate({**body, **changes})


def opened(ports: CasePorts, store: FakeCaseStore, request_id: str = "r-1", **changes: object) -> service.Case:
    staged = handlers.open_case(handlers.OpenCase(request(**changes), "system:/legacy/asistente", request_id), ports,
                                None)  # fmt: skip
    store.commit(staged.unit)
    return staged.result.case


def online(store: FakeCaseStore, ports: CasePorts, agent: Actor, capacity: int = 2, *queues: str) -> None:
    cmd = handlers.SetPresence(agent, "online", capacity, queues or (f"hacienda-l{agent.level}",))
    store.commit(handlers.set_presence(cmd, ports).unit)


def test_a_case_opens_in_its_levels_queue_and_announces_itself(ports: CasePorts, store: FakeCaseStore) -> None:
    staged = handlers.open_case(handlers.OpenCase(request(), "system:/legacy/asistente", "r-1"), ports, None)
    case = staged.result.case
    assert (case.level, case.queue, case.state, case.assignee) == (1, "hacienda-l1", "new", None)
    assert case.reference.startswith("EXP-2026-")
    assert [t for t, _ in events_in(staged.unit)] == ["es.madrid.pic.case.updated.v1"]
    store.commit(staged.unit)
    assert store.fetch_queue_head("hacienda-l1", 5) == [store.cases[case.id]]
    assert store.cases[case.id].sla_next_at is not None  # the sweep will look at it


def test_the_same_request_again_opens_nothing(ports: CasePorts, store: FakeCaseStore) -> None:
    first = opened(ports, store)
    again = handlers.open_case(handlers.OpenCase(request(), "system:/legacy/asistente", "r-1"), ports, None)
    assert again.result.created is False and again.result.case.id == first.id
    assert len(again.unit) == 0


def test_an_unknown_category_or_area_is_refused_by_name(ports: CasePorts) -> None:
    with pytest.raises(service.UnknownCategoryError, match="recibo-ibi"):
        handlers.open_case(handlers.OpenCase(request(category="no-such"), "x", "r"), ports, None)
    with pytest.raises(service.UnknownAreaError, match="hacienda"):
        handlers.open_case(handlers.OpenCase(request(area="no-such-area"), "x", "r"), ports, None)


def test_a_new_case_is_pushed_to_the_least_loaded_eligible_agent(ports: CasePorts, store: FakeCaseStore) -> None:
    online(store, ports, L1, 2)
    online(store, ports, Actor("agent", "bea", 1, "atencion-ciudadania"), 4)
    first = opened(ports, store, "r-1")
    second = opened(ports, store, "r-2")
    third = opened(ports, store, "r-3")
    assert [first.assignee, second.assignee] == ["ana", "bea"]  # both empty: the first by id; then bea at 0/4
    assert third.assignee == "bea"  # ana 1/2 = 50 %, bea 1/4 = 25 %
    assert (store.agents["ana"].load, store.agents["bea"].load) == (1, 2)
    assert first.state == "open"


def test_nobody_below_the_level_gets_a_case(ports: CasePorts, store: FakeCaseStore) -> None:
    online(store, ports, L1, 5, "hacienda-l1")
    case = opened(ports, store, category="fraccionamiento")  # level 2
    assert case.assignee is None and case.queue == "hacienda-l2"
    with pytest.raises(service.CaseLevelError):
        online(store, ports, L1, 5, "hacienda-l2")


def test_pull_takes_the_most_urgent_case_first(ports: CasePorts, store: FakeCaseStore) -> None:
    old = opened(ports, store, "r-1")
    ports.clock.advance(minutes=5)  # type: ignore[attr-defined]
    urgent = opened(ports, store, "r-2", priority=2)
    online(store, ports, Actor("agent", "ana", 1, "atencion-ciudadania"), 0)  # no capacity: nothing pushed
    store.commit(handlers.set_presence(handlers.SetPresence(L1, "online", 5, ("hacienda-l1",)), ports).unit)
    taken = handlers.take_next(L1, ports, None)
    assert taken.result.id == urgent.id
    store.commit(taken.unit)
    assert handlers.take_next(L1, ports, None).result.id == old.id


def test_two_agents_pulling_the_same_case_one_loses_the_race(ports: CasePorts, store: FakeCaseStore) -> None:
    opened(ports, store)
    bea = Actor("agent", "bea", 1, "x")
    for agent in (L1, bea):
        store.commit(handlers.set_presence(handlers.SetPresence(agent, "online", 5, ("hacienda-l1",)), ports).unit)
    first, second = handlers.take_next(L1, ports, None), handlers.take_next(bea, ports, None)
    store.commit(first.unit)
    with pytest.raises(LostRaceError):
        store.commit(second.unit)
    with pytest.raises(service.NoWorkError):
        handlers.take_next(bea, ports, None)


def test_waiting_on_the_citizen_pauses_and_their_message_resumes(ports: CasePorts, store: FakeCaseStore) -> None:
    case = opened(ports, store)
    ports.clock.advance(minutes=20)  # type: ignore[attr-defined]
    store.commit(handlers.change(case.id, lambda c, cfg, now: service.reply(c, L1, "Hola", internal=False, now=now),
                                 ports, None).unit)  # fmt: skip
    ports.clock.advance(minutes=1)  # type: ignore[attr-defined]
    store.commit(handlers.change(case.id, lambda c, cfg, now: service.move(c, L1, "waiting-on-citizen", "DNI?", now),
                                 ports, None).unit)  # fmt: skip
    at_pause = ports.clock.now()
    ports.clock.advance(hours=30)  # type: ignore[attr-defined]
    paused = store.cases[case.id]
    clocks = {c.measure: c.status for c in service.clocks(paused, handlers.config_of("hacienda", ports), at_pause)}
    assert clocks["first-response"] == "met"
    now_clocks = service.clocks(paused, handlers.config_of("hacienda", ports), ports.clock.now())
    assert {c.measure: c.status for c in now_clocks}["resolution"] == "paused"
    window = handlers.window_check(paused, "add", ports)
    add = handlers.change(case.id, lambda c, cfg, now: service.add_information(c, CITIZEN, "Mi DNI", window, now),
                          ports, None)  # fmt: skip
    assert add.result.state == "open"
    after = {c.measure: c.status for c in service.clocks(add.result, handlers.config_of("hacienda", ports),
                                                         ports.clock.now())}  # fmt: skip
    assert after["resolution"] == "running" and after["next-response"] == "running"


def test_escalation_goes_up_with_its_reason_and_never_beyond_one_above(ports: CasePorts, store: FakeCaseStore) -> None:
    case = opened(ports, store)
    config = handlers.config_of("hacienda", ports)
    with pytest.raises(service.EscalationError, match="up to level 2"):
        service.escalate(case, L1, 3, "muy complejo", config, MONDAY)
    up = service.escalate(case, L1, 2, "necesita un técnico de Hacienda", config, MONDAY)
    assert (up.level, up.queue, up.assignee) == (2, "hacienda-l2", None)
    assert up.history[-1].detail["from_level"] == 1 and up.history[-1].text == "necesita un técnico de Hacienda"
    with pytest.raises(service.CaseLevelError):
        service.move(up, L1, "resolved", "hecho", MONDAY)  # above the agent's level now
    with pytest.raises(service.CaseLevelError):
        service.move(up, Actor("agent", "x", 2, "movilidad"), "resolved", "", MONDAY)  # another area's L2
    assert service.move(up, L2, "resolved", "Recibo reenviado", MONDAY).state == "resolved"


def test_closing_asks_the_citizen_to_rate_through_notifications(ports: CasePorts, store: FakeCaseStore) -> None:
    case = opened(ports, store)
    store.commit(handlers.change(case.id, lambda c, cfg, now: service.move(c, L1, "resolved", "ok", now), ports,
                                 None).unit)  # fmt: skip
    closed = handlers.change(case.id, lambda c, cfg, now: service.move(c, L1, "closed", "", now), ports, None)
    types = [t for t, _ in events_in(closed.unit)]
    assert "es.madrid.pic.notification.requested.v1" in types
    request_ = dict(events_in(closed.unit))["es.madrid.pic.notification.requested.v1"]
    assert request_["template"] == "pic-case-csat" and request_["recipient"] == {
        "citizen_id": "c-123",
        "email": None,
        "phone": None,
    }
    store.commit(closed.unit)
    window = handlers.window_check(store.cases[case.id], "rate", ports)
    rated = service.rate(store.cases[case.id], CITIZEN, 5, "Muy bien", window, MONDAY)
    with pytest.raises(service.AlreadyRatedError):
        service.rate(rated, CITIZEN, 4, "", window, MONDAY)


def test_the_window_to_reopen_is_the_policys(ports: CasePorts, store: FakeCaseStore) -> None:
    case = opened(ports, store)
    store.commit(handlers.change(case.id, lambda c, cfg, now: service.move(c, L1, "resolved", "ok", now), ports,
                                 None).unit)  # fmt: skip
    ports.clock.advance(days=31)  # type: ignore[attr-defined]
    with pytest.raises(service.ReopenWindowError, match="30 days"):
        handlers.window_check(store.cases[case.id], "reopen", ports)
    assert service.reopen(store.cases[case.id], L1, "agent reopens", 0, MONDAY).state == "open"


def test_merge_and_link_only_the_same_citizens_cases(ports: CasePorts, store: FakeCaseStore) -> None:
    a, b = opened(ports, store, "r-1"), opened(ports, store, "r-2")
    other = opened(ports, store, "r-3", citizen_id="c-999")
    with pytest.raises(service.CaseLinkError, match="same citizen"):
        handlers.merge(a.id, other.id, L1, "duplicado", ports, None)
    merged = handlers.merge(a.id, b.id, L1, "duplicado", ports, None)
    store.commit(merged.unit)
    assert store.cases[a.id].state == "merged" and store.cases[a.id].merged_into == b.id
    assert a.id in store.cases[b.id].related
    assert [t for t, _ in events_in(merged.unit)].count("es.madrid.pic.case.updated.v1") == 2
    c = opened(ports, store, "r-4")
    linked = handlers.link(c.id, b.id, "child", L1, ports, None)
    store.commit(linked.unit)
    assert store.cases[c.id].parent_id == b.id and c.id in store.cases[b.id].children
    with pytest.raises(service.CaseStateError):
        service.add_information(store.cases[a.id], CITIZEN, "más", 30, MONDAY)


def test_the_sweep_raises_each_breach_once_and_escalates(ports: CasePorts, store: FakeCaseStore) -> None:
    case = opened(ports, store)  # first response 8 business hours, escalates on breach
    ports.clock.advance(days=2)  # type: ignore[attr-defined]  # Wednesday 10:00: 16 business hours later
    uow = handlers.sweep_case(case.id, ports, None)
    raised = [(t, d["measure"], d["status"]) for t, d in events_in(uow) if ".sla." in t]
    assert ("es.madrid.pic.case.sla.breached.v1", "first-response", "breached") in raised
    store.commit(uow)
    after = store.cases[case.id]
    assert after.level == 2 and after.history[-1].kind == "escalated" and "breached" in after.history[-1].text
    again = handlers.sweep_case(case.id, ports, None)
    assert not [t for t, _ in events_in(again) if "sla" in t]


def test_a_warning_comes_before_the_breach(ports: CasePorts, store: FakeCaseStore) -> None:
    case = opened(ports, store)
    ports.clock.advance(hours=6, minutes=30)  # type: ignore[attr-defined]  # 6.5 of 8 business hours: 81 %
    uow = handlers.sweep_case(case.id, ports, None)
    assert [(d["measure"], d["status"]) for t, d in events_in(uow) if "sla" in t] == [("first-response", "warning")]
    store.commit(uow)
    assert store.cases[case.id].sla_next_at is not None and store.cases[case.id].sla_next_at > ports.clock.now()


def test_an_invalid_configuration_is_refused_whole_and_the_old_stays(ports: CasePorts, store: FakeCaseStore) -> None:
    current = handlers.config_of("hacienda", ports).model_dump(mode="json")
    broken = {**current, "categories": {"x": {"title": {"es": "X", "en": "X"}, "level": 4, "sla": "nope"}},
              "office_hours": {"mon": ["25:00-26:00"]}}  # fmt: skip
    with pytest.raises(service.InvalidConfigError) as refused:
        handlers.put_config("hacienda", broken, ports)
    assert {e["field"] for e in refused.value.errors or []} >= {"categories.x.level"}
    changed = {**current, "sla_policies": {**current["sla_policies"]}}
    changed["sla_policies"]["estandar"]["first_response_minutes"] = 120
    staged = handlers.put_config("hacienda", changed, ports)
    store.commit(staged.unit)
    assert staged.result.version == 2 and handlers.config_of("hacienda", ports).version == 2
    assert store.fetch_config_version("hacienda", 2) is not None


def test_rights_export_every_case_and_erase_only_ratings(ports: CasePorts, store: FakeCaseStore) -> None:
    case = opened(ports, store)
    store.commit(handlers.change(case.id, lambda c, cfg, now: service.move(c, L1, "resolved", "ok", now), ports,
                                 None).unit)  # fmt: skip
    store.commit(handlers.change(case.id, lambda c, cfg, now: service.rate(c, CITIZEN, 2, "lento", 30, now), ports,
                                 None).unit)  # fmt: skip
    opened_at = MONDAY
    export = RgpdRequestOpened(request_id="rgpd-1", citizen_id="c-123", right="access", opened_at=opened_at,
                               due_at=opened_at)  # fmt: skip
    ((_, answer),) = events_in(handlers.answer_rights(export, ports, None))
    assert answer["export"]["cases"][0]["rating"] == 2
    erase = export.model_copy(update={"right": "erasure"})
    uow = handlers.answer_rights(erase, ports, None)
    ((_, answered),) = events_in(uow)
    assert {a["result"] for a in answered["actions"]} >= {"erased", "kept"}
    store.commit(uow)
    assert store.cases[case.id].rating is None and "lento" not in str(store.cases[case.id].history)


def test_a_lagging_queue_index_never_gives_a_taken_case_again(ports: CasePorts, store: FakeCaseStore) -> None:
    # GIVEN a case in the queue, and a queue index that still lists it after another agent took it
    opened(ports, store)
    bea = Actor("agent", "bea", 1, "x")
    for agent in (L1, bea):
        store.commit(handlers.set_presence(handlers.SetPresence(agent, "online", 5, ("hacienda-l1",)), ports).unit)
    stale = store.fetch_queue_head("hacienda-l1", 10)
    store.commit(handlers.take_next(L1, ports, None).unit)
    store.fetch_queue_head = lambda queue, limit: stale  # type: ignore[method-assign]
    # WHEN the second agent asks THEN nothing is waiting: the case as it is now decides, not the index
    with pytest.raises(service.NoWorkError):
        handlers.take_next(bea, ports, None)
    assert store.cases[stale[0].id].assignee == "ana"
