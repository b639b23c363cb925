"""The routing use cases on in-memory ports and the real policy engine: a contact offered to the least occupied
agent its step admits, accepted once (a race lost and decided again), declined and timed out to the next agent (the
late one set away), steps that expire and fall back, an abandoned call, the end logged as an interaction; queues and
IVR flows as versioned data refused whole; a call through an IVR flow to its queue; the offices' tickets; the
statistics; the data-subject rights."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from events.contact import TicketCalled, TicketIssued, TicketServed
from events.rgpd import RgpdRequestOpened
from functions.core.errors import LostRaceError
from functions.core.policy import EmbeddedPolicy
from functions.routing import handlers, service
from functions.routing.handlers import RoutingPorts
from tests.unit.fakes import FixedClock, events_in
from tests.unit.routing.fakes import FakeRoutingStore

MONDAY = datetime(2026, 12, 14, 9, 0, tzinfo=UTC)  # 10:00 in Madrid, a working Monday
QUEUE = {"area": "hacienda", "level": 2, "skill": "ibi", "offer_seconds": 15,
         "steps": [{"min_proficiency": 4, "seconds": 30}, {"min_proficiency": 2, "seconds": 60}],
         "then": "queue", "then_queue": "hacienda-l1"}  # fmt: skip


@pytest.fixture
def store() -> FakeRoutingStore:
    return FakeRoutingStore()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(MONDAY)


@pytest.fixture
def ports(store: FakeRoutingStore, policy: EmbeddedPolicy, clock: FixedClock) -> RoutingPorts:
    p = RoutingPorts(store=store, policy=policy, clock=clock)
    store.commit(handlers.put_queue("hacienda-ibi", QUEUE, p).unit)
    return p


def agent(store: FakeRoutingStore, ports: RoutingPorts, name: str, proficiency: int, *, level: int = 2,
          area: str = "hacienda", queues: tuple[str, ...] = ("hacienda-ibi",), presence: Any = "online",
          chats: int = 2) -> service.AgentProfile:  # fmt: skip
    cmd = handlers.SetProfile(name, level, area, presence, {"ibi": proficiency}, {"call": 1, "chat": chats}, queues)
    staged = handlers.set_profile(cmd, ports, None)
    store.commit(staged.unit)
    return staged.result


def offer(store: FakeRoutingStore, ports: RoutingPorts, request_id: str = "call-1", **changes: Any) -> service.Contact:
    fields: dict[str, Any] = {"channel": "call", "queue": "hacienda-ibi", "priority": 0, "citizen_id": "c-123",
                              "topic": "", "ivr": {}, "requester": "system:pbx", "request_id": request_id}  # fmt: skip
    staged = handlers.open_contact(handlers.OfferContact(**{**fields, **changes}), ports, None)
    store.commit(staged.unit)
    return staged.result.contact


def types(uow: Any) -> list[str]:
    return [t.rsplit(".", 2)[-2] for t, _ in events_in(uow)]


def test_a_contact_is_offered_to_the_least_occupied_expert_first(store: FakeRoutingStore, ports: RoutingPorts) -> None:
    # GIVEN an agent of proficiency 2 and two of 5 in the skill, one of them busy with a chat
    agent(store, ports, "novice", 2)
    agent(store, ports, "busy-expert", 5)
    agent(store, ports, "free-expert", 5)
    store.agents["busy-expert"] = store.agents["busy-expert"].with_load("call", 0).with_load("chat", 1)
    # WHEN a call arrives
    contact = offer(store, ports)
    # THEN it is offered to the free expert, whose call place is taken, until the queue's offer time
    assert (contact.state, contact.agent_id) == ("offered", "free-expert")
    assert store.agents["free-expert"].load == {"call": 1}
    assert store.next_at[contact.id] == contact.offer_expires_at and contact.offer_expires_at is not None
    # AND the same offer again (a connector's retry) opens nothing new
    again = handlers.open_contact(handlers.OfferContact("call", "hacienda-ibi", 0, "c-123", "", {}, "system:pbx",
                                                        "call-1"), ports, None)  # fmt: skip
    assert again.result.created is False and len(again.unit) == 0


def test_accepted_once_two_at_once_one_wins(store: FakeRoutingStore, ports: RoutingPorts) -> None:
    agent(store, ports, "ana", 5)
    contact = offer(store, ports)
    # WHEN the agent's two clicks are decided on the same version
    first, second = handlers.accept(contact.id, "ana", ports, None), handlers.accept(contact.id, "ana", ports, None)
    store.commit(first.unit)
    # THEN the second loses its race, and decided again it changes nothing
    with pytest.raises(LostRaceError):
        store.commit(second.unit)
    again = handlers.accept(contact.id, "ana", ports, None)
    assert len(again.unit) == 0 and again.result.state == "active"
    assert types(first.unit) == ["accepted"]
    # AND another agent is told the contact was not offered to them (409, typed)
    with pytest.raises(service.ContactNotOfferedError):
        handlers.accept(contact.id, "eve", ports, None)


def test_a_rejected_offer_goes_to_the_next_agent_and_never_back(store: FakeRoutingStore, ports: RoutingPorts) -> None:
    agent(store, ports, "ana", 5)
    agent(store, ports, "bea", 4)
    contact = offer(store, ports)
    assert contact.agent_id == "ana"
    staged = handlers.reject(contact.id, "ana", ports, None)
    store.commit(staged.unit)
    assert (staged.result.state, staged.result.agent_id) == ("offered", "bea")
    assert types(staged.unit) == ["rejected", "offered"]
    assert store.agents["ana"].load == {"call": 0} and store.agents["bea"].load == {"call": 1}
    # AND ana's late accept is refused: it went to another agent (409 contact-taken)
    with pytest.raises(service.ContactTakenError):
        handlers.accept(contact.id, "ana", ports, None)


def test_an_offer_that_times_out_sets_the_agent_away_and_goes_on(store: FakeRoutingStore, ports: RoutingPorts,
                                                                 clock: FixedClock) -> None:  # fmt: skip
    agent(store, ports, "ana", 5)
    agent(store, ports, "bea", 5, chats=3)
    contact = offer(store, ports)
    first = contact.agent_id
    # WHEN the offer's 15 seconds pass unanswered and the sweep looks
    clock.advance(seconds=16)
    assert [c.id for c in store.fetch_due(clock.now(), 10)] == [contact.id]
    uow = handlers.sweep_contact(contact.id, ports, None)
    store.commit(uow)
    # THEN the first agent is away with their place freed, and the other agent is offered it
    assert types(uow) == ["timed-out", "offered"]
    assert store.agents[first or ""].presence == "away" and store.agents[first or ""].load == {"call": 0}
    assert store.contacts[contact.id].agent_id != first


def test_steps_lower_the_bar_then_move_to_the_areas_queue(store: FakeRoutingStore, ports: RoutingPorts,
                                                          clock: FixedClock) -> None:  # fmt: skip
    # GIVEN only an agent of proficiency 3 online: the first step (>= 4) does not admit them
    agent(store, ports, "leo", 3)
    contact = offer(store, ports)
    assert contact.state == "waiting" and store.next_at[contact.id] == MONDAY.replace(second=30)
    # WHEN the first step expires THEN the second (>= 2) offers it to them
    clock.advance(seconds=31)
    store.commit(handlers.sweep_contact(contact.id, ports, None))
    assert store.contacts[contact.id].agent_id == "leo"
    # AND when leo declines and the steps are spent, the contact moves to the area's level-1 queue
    store.commit(handlers.reject(contact.id, "leo", ports, None).unit)
    clock.advance(seconds=60)
    uow = handlers.sweep_contact(contact.id, ports, None)
    store.commit(uow)
    moved = store.contacts[contact.id]
    assert (moved.queue, moved.state, moved.level) == ("hacienda-l1", "waiting", 1)
    assert types(uow) == ["fell-back"]


def test_an_expert_queue_falls_back_to_a_case_never_to_any_agent(store: FakeRoutingStore, ports: RoutingPorts,
                                                                 clock: FixedClock) -> None:  # fmt: skip
    expert = {"area": "hacienda", "level": 3, "steps": [{"min_proficiency": 1, "seconds": 20}], "then": "case",
              "case_category": "recibo-ibi"}  # fmt: skip
    store.commit(handlers.put_queue("hacienda-l3", expert, ports).unit)
    agent(store, ports, "ana", 5)  # level 2: never offered a level-3 contact
    contact = offer(store, ports, queue="hacienda-l3")
    assert contact.state == "waiting"
    clock.advance(seconds=21)
    uow = handlers.sweep_contact(contact.id, ports, None)
    store.commit(uow)
    assert (store.contacts[contact.id].state, store.contacts[contact.id].fallback) == ("fallen-back", "case")
    assert dict(events_in(uow))["es.madrid.pic.case.requested.v1"]["category"] == "recibo-ibi"
    # AND a queue of level 3 that would fall back to a queue is refused whole, each error named
    with pytest.raises(service.InvalidQueueConfigError) as refused:
        handlers.put_queue("hacienda-l3", {**expert, "then": "queue", "steps": [{"min_proficiency": 9}]}, ports)
    fields = {e["field"] for e in refused.value.errors or []}
    assert "steps.0.min_proficiency" in fields
    assert store.queues["hacienda-l3"].version == 1


def test_an_ended_contact_is_logged_with_its_queue_wait_and_handling(store: FakeRoutingStore, ports: RoutingPorts,
                                                                     clock: FixedClock) -> None:  # fmt: skip
    contact = offer(store, ports, citizen_id=None)
    clock.advance(seconds=12)
    agent(store, ports, "ana", 5)  # coming online, she is offered what waits
    store.commit(handlers.accept(contact.id, "ana", ports, None).unit)
    clock.advance(seconds=100)
    staged = handlers.end(handlers.EndContact(contact.id, "ana", "resolved", "c-777", "Recibo del IBI"), ports, None)
    store.commit(staged.unit)
    logged = dict(events_in(staged.unit))["es.madrid.pic.interaction.recorded.v1"]
    assert logged["citizen_id"] == "c-777" and logged["channel"]["queue"] == "hacienda-ibi"
    assert (logged["channel"]["wait_seconds"], logged["channel"]["handling_seconds"]) == (12.0, 100.0)
    assert store.agents["ana"].load == {"call": 0}
    # AND the day's statistics count it answered within the service level
    stats = handlers.queue_stats("hacienda-ibi", "2026-12-14", ports)
    assert (stats["offered"], stats["answered"], stats["service_level"], stats["mean_handling_seconds"]) == (
        1,
        1,
        1.0,
        100.0,
    )


def test_an_abandoned_call_frees_its_offer_and_a_redelivery_changes_nothing(store: FakeRoutingStore,
                                                                            ports: RoutingPorts) -> None:  # fmt: skip
    agent(store, ports, "ana", 5)
    contact = offer(store, ports)
    staged = handlers.abandon(contact.id, ports, None)
    store.commit(staged.unit)
    assert staged.result.state == "abandoned" and store.agents["ana"].load == {"call": 0}
    assert len(handlers.abandon(contact.id, ports, None).unit) == 0
    with pytest.raises(service.ContactStateError):
        handlers.end(handlers.EndContact(contact.id, "ana", "resolved", None, None), ports, None)


FLOW = {"start": "hours", "nodes": {
    "hours": {"kind": "hours", "hours": {d: ["08:00-20:00"] for d in ("mon", "tue", "wed", "thu", "fri")},
              "open": "menu", "closed": "closed"},
    "menu": {"kind": "menu", "prompt": {"es": "Para IBI pulse 1"}, "options": {"1": "ibi"}, "intents": {"ibi": "ibi"},
             "no_match": "bye"},
    "ibi": {"kind": "queue", "queue": "hacienda-ibi", "priority": 2},
    "closed": {"kind": "callback", "queue": "hacienda-ibi"},
    "bye": {"kind": "hangup"}}}  # fmt: skip


def test_a_call_through_the_ivr_lands_in_its_queue(store: FakeRoutingStore, ports: RoutingPorts) -> None:
    store.commit(handlers.put_flow("hacienda", FLOW, ports).unit)
    agent(store, ports, "ana", 5)
    start = handlers.start_call(handlers.StartCall("hacienda", "es", "call", None, "010", "system:pbx", "pbx-1"),
                                ports, None)  # fmt: skip
    store.commit(start.unit)
    assert start.result.said == ("Para IBI pulse 1",) and start.result.call.state == "waiting"
    pressed = handlers.call_input(start.result.call.id, "1", 0, ports, None)
    store.commit(pressed.unit)
    contact = pressed.result.contact
    assert contact is not None and (contact.queue, contact.priority, contact.agent_id) == ("hacienda-ibi", 2, "ana")
    assert contact.ivr["flow"] == "hacienda" and pressed.result.call.state == "queued"
    # AND the connector's resent key replays, a new one after the end is refused
    replay = handlers.call_input(start.result.call.id, "1", 0, ports, None)
    assert len(replay.unit) == 0 and replay.result.contact is not None
    with pytest.raises(service.IvrCallStateError):
        handlers.call_input(start.result.call.id, "2", None, ports, None)


def test_an_invalid_flow_is_refused_whole_and_the_old_version_stays(store: FakeRoutingStore,
                                                                    ports: RoutingPorts) -> None:  # fmt: skip
    store.commit(handlers.put_flow("hacienda", FLOW, ports).unit)
    broken = {"start": "nowhere", "nodes": {"menu": {"kind": "menu", "prompt": {"es": "x"}, "options": {"1": "gone"},
                                                     "no_match": "menu"}}}  # fmt: skip
    with pytest.raises(service.InvalidIvrFlowError) as refused:
        handlers.put_flow("hacienda", broken, ports)
    messages = [e["message"] for e in refused.value.errors or []]
    assert any("start" in m for m in messages) and any("gone" in m for m in messages)
    assert handlers.flow_of("hacienda", ports).version == 1


def test_an_office_ticket_served_becomes_an_office_visit(store: FakeRoutingStore, ports: RoutingPorts) -> None:
    base = {"office": "oac-arganzuela", "ticket": "A042", "issued_at": "2026-12-14T09:00:00+00:00",
            "queue": "oac-arganzuela-padron", "service": "Empadronamiento", "area": "atencion-ciudadania",
            "citizen_id": "c-123"}  # fmt: skip
    store.commit(handlers.on_ticket("issued", TicketIssued.model_validate({**base, "at": base["issued_at"]}), ports,
                                    None))  # fmt: skip
    store.commit(handlers.on_ticket("called", TicketCalled.model_validate(
        {**base, "at": "2026-12-14T09:06:00+00:00", "desk": "7"}), ports, None))  # fmt: skip
    served = TicketServed.model_validate({**base, "at": "2026-12-14T09:16:00+00:00", "desk": "7"})
    uow = handlers.on_ticket("served", served, ports, None)
    store.commit(uow)
    visit = dict(events_in(uow))["es.madrid.pic.interaction.recorded.v1"]
    assert visit["channel"]["kind"] == "office-visit" and visit["channel"]["wait_seconds"] == 360.0
    # AND the same ticket served again (a resend under a new event id) logs nothing more
    assert not events_in(handlers.on_ticket("served", served, ports, None))
    stats = handlers.queue_stats("oac-arganzuela-padron", "2026-12-14", ports)
    assert (stats["offered"], stats["answered"], stats["mean_handling_seconds"]) == (1, 1, 600.0)


def test_rights_export_and_anonymise_the_persons_contacts(store: FakeRoutingStore, ports: RoutingPorts) -> None:
    offer(store, ports)
    opened = {"request_id": "rq-1", "citizen_id": "c-123", "opened_at": MONDAY.isoformat(),
              "due_at": "2027-01-14T09:00:00+00:00"}  # fmt: skip
    export = handlers.answer_rights(RgpdRequestOpened.model_validate({**opened, "right": "access"}), ports, None)
    answer = dict(events_in(export))["es.madrid.pic.rgpd.domain.answered.v1"]
    assert answer["export"]["contacts"][0]["citizen_id"] == "c-123"
    erase = handlers.answer_rights(RgpdRequestOpened.model_validate({**opened, "right": "erasure"}), ports, None)
    store.commit(erase)
    assert store.fetch_by_citizen("c-123") == [] and len(store.contacts) == 1


def test_a_queue_that_falls_back_to_a_queue_nobody_knows_is_refused(ports: RoutingPorts) -> None:
    with pytest.raises(service.InvalidQueueConfigError) as refused:
        handlers.put_queue("padron-citas", {**QUEUE, "area": "padron", "then_queue": "nowhere"}, ports)
    assert [e["field"] for e in refused.value.errors or []] == ["then_queue"]


def test_a_ticket_served_before_its_call_is_heard_of_has_no_made_up_wait(store: FakeRoutingStore,
                                                                         ports: RoutingPorts) -> None:  # fmt: skip
    base = {"office": "oac-centro", "ticket": "B7", "issued_at": "2026-12-14T09:00:00+00:00",
            "queue": "oac-centro-padron", "service": "Padrón", "area": "atencion-ciudadania",
            "citizen_id": "c-123"}  # fmt: skip
    # GIVEN the served event delivered before the called one (a broker's retry reorders them)
    uow = handlers.on_ticket("served", TicketServed.model_validate({**base, "at": "2026-12-14T09:16:00+00:00",
                                                                    "desk": "7"}), ports, None)  # fmt: skip
    store.commit(uow)
    visit = dict(events_in(uow))["es.madrid.pic.interaction.recorded.v1"]
    assert (visit["channel"]["wait_seconds"], visit["channel"]["handling_seconds"]) == (None, None)
    # WHEN the call arrives late THEN its time is kept for the statistics, and nothing is logged twice
    late = handlers.on_ticket("called", TicketCalled.model_validate({**base, "at": "2026-12-14T09:06:00+00:00",
                                                                     "desk": "7"}), ports, None)  # fmt: skip
    store.commit(late)
    assert not events_in(late)
    stats = handlers.queue_stats("oac-centro-padron", "2026-12-14", ports)
    assert (stats["answered"], stats["wait_p50_seconds"], stats["mean_handling_seconds"]) == (1, 360.0, 600.0)
