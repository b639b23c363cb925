"""C360's links in the interaction log (``handlers.project_link`` and ``record_interaction`` with a ``record``)
on in-memory fakes: an interaction recorded against an area system's record is attached to its golden record
whichever arrives first, the link or the interaction, also when both are decided at the same moment; a
redelivery changes nothing; a merge or un-merge moves the interactions; an erased one is not brought back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from events.citizen import CitizenUpdated
from events.interaction import InteractionRecorded
from functions.core import paging
from functions.core.errors import ConflictError
from functions.core.policy import EmbeddedPolicy
from functions.core.retry import retry_on_conflict
from functions.core.store import Staged, UnitOfWork
from functions.interaction import handlers
from functions.interaction.handlers import InteractionPorts, RecordInteraction
from tests.unit.fakes import FixedClock, events_in
from tests.unit.interaction.fakes import FakeInteractionStore
from tests.unit.rgpd_support import rgpd_request

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PADRON = "/legacy/padron"
LOCAL_ID = "PAD0097742"
LUCIA, OTHER = "c-lucia", "c-other"
QUEUE = "/legacy/gestor-colas"


def visit(n: int = 1, **overrides: Any) -> InteractionRecorded:
    data: dict[str, Any] = {
        "interaction_id": f"OAC-{n}",
        "record": {"source": PADRON, "local_id": LOCAL_ID},
        "channel": {"kind": "call", "direction": "inbound", "line": "010"},
        "area": "atencion-ciudadania",
        "topic": "Alta en el padrón",
        "started_at": (T0 - timedelta(minutes=5)).isoformat(),
    }
    return InteractionRecorded.model_validate({**data, **overrides})


def link(citizen_id: str = LUCIA, at: datetime = T0, method: str = "document") -> CitizenUpdated:
    return CitizenUpdated.model_validate(
        {
            "citizen_id": citizen_id,
            "link": {"source": PADRON, "local_id": LOCAL_ID, "change": "added"},
            "match": {"method": method, "score": 1.0, "evidence": ["document"]},
            "updated_at": at.isoformat(),
        }
    )


@pytest.fixture
def store() -> FakeInteractionStore:
    return FakeInteractionStore()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


@pytest.fixture
def ports(store: FakeInteractionStore, policy: EmbeddedPolicy, clock: FixedClock) -> InteractionPorts:
    return InteractionPorts(store=store, policy=policy, clock=clock)


def record(ports: InteractionPorts, interaction: InteractionRecorded) -> Staged[handlers.Recorded]:
    return handlers.record_interaction(RecordInteraction(interaction, QUEUE), ports, traceparent=None)


def timeline(ports: InteractionPorts, citizen_id: str) -> list[str]:
    page = handlers.citizen_timeline(paging.ReadTimeline(citizen_id, 20), ports)
    return [str(item["id"]) for item in page.items]


def commit_with_retry(store: FakeInteractionStore, decide: Any) -> None:
    """What the kernel does: decide, commit, and decide again on a lost race."""

    def attempt() -> None:
        unit = decide()
        store.commit(unit if isinstance(unit, UnitOfWork) else unit.unit)

    retry_on_conflict(attempt, backoff=0)


def test_an_interaction_recorded_after_the_link_is_stored_with_the_golden_record(
    ports: InteractionPorts, store: FakeInteractionStore
) -> None:
    # GIVEN C360 linked the Padrón record to Lucía
    store.commit(handlers.project_link(link(), ports))

    # WHEN the queue manager records a visit against the Padrón record
    staged = record(ports, visit())
    store.commit(staged.unit)

    # THEN it is stored attached to Lucía, in her timeline, and announced as recorded (against the record)
    assert staged.result.stored.citizen_id == LUCIA
    assert timeline(ports, LUCIA) == [staged.result.stored.id]
    ((_, logged),) = events_in(staged.unit)
    assert logged["interaction"]["record"] == {"source": PADRON, "local_id": LOCAL_ID}


def test_an_interaction_recorded_before_the_link_is_stamped_when_the_link_arrives(
    ports: InteractionPorts, store: FakeInteractionStore, clock: FixedClock
) -> None:
    # GIVEN two visits recorded against the Padrón record before C360 linked it
    first = record(ports, visit(1))
    store.commit(first.unit)
    clock.advance(minutes=1)
    second = record(ports, visit(2))
    store.commit(second.unit)
    assert first.result.stored.citizen_id is None and timeline(ports, LUCIA) == []

    # WHEN the link arrives
    store.commit(handlers.project_link(link(), ports))

    # THEN both are attached to Lucía, newest first
    assert timeline(ports, LUCIA) == [second.result.stored.id, first.result.stored.id]


def test_a_redelivered_link_or_interaction_changes_nothing(
    ports: InteractionPorts, store: FakeInteractionStore
) -> None:
    store.commit(record(ports, visit()).unit)
    store.commit(handlers.project_link(link(), ports))

    # WHEN both are delivered again THEN nothing is staged
    assert len(handlers.project_link(link(), ports)) == 0
    again = record(ports, visit())
    assert not again.result.created and len(again.unit) == 0
    assert len(timeline(ports, LUCIA)) == 1


@pytest.mark.parametrize("first_commits", ["link", "interaction"])
def test_a_link_and_an_interaction_decided_at_the_same_moment_end_attached(
    ports: InteractionPorts, store: FakeInteractionStore, first_commits: str
) -> None:
    # GIVEN the link and the interaction both decided on an empty record (neither sees the other)
    decide_link = lambda: handlers.project_link(link(), ports)  # noqa: E731
    decide_visit = lambda: record(ports, visit()).unit  # noqa: E731
    units = {"link": decide_link(), "interaction": decide_visit()}
    second = "interaction" if first_commits == "link" else "link"

    # WHEN one commits THEN the other loses the race: nothing of it is written
    store.commit(units[first_commits])
    with pytest.raises(ConflictError):
        store.commit(units[second])

    # AND decided again (the kernel's retry) on what the first wrote, the interaction ends attached to Lucía
    commit_with_retry(store, decide_link if second == "link" else decide_visit)
    ((stored,),) = [store.fetch_by_citizen(LUCIA)]
    assert stored.interaction.interaction_id == "OAC-1" and stored.citizen_id == LUCIA


def test_a_merge_moves_the_interactions_and_an_older_link_does_not_move_them_back(
    ports: InteractionPorts, store: FakeInteractionStore
) -> None:
    # GIVEN a visit attached to Lucía through the link
    store.commit(handlers.project_link(link(LUCIA, T0), ports))
    recorded = record(ports, visit())
    store.commit(recorded.unit)
    visit_id = recorded.result.stored.id

    # WHEN a merge moves the record to another golden record (a later citizen.updated)
    store.commit(handlers.project_link(link(OTHER, T0 + timedelta(hours=1), method="merge"), ports))

    # THEN the visit is the other record's, no longer Lucía's
    assert timeline(ports, OTHER) == [visit_id] and timeline(ports, LUCIA) == []

    # AND the first link delivered late changes nothing
    assert len(handlers.project_link(link(LUCIA, T0), ports)) == 0

    # WHEN the un-merge moves it back (later still) THEN the visit is Lucía's again
    store.commit(handlers.project_link(link(LUCIA, T0 + timedelta(hours=2), method="unmerge"), ports))
    assert timeline(ports, LUCIA) == [visit_id] and timeline(ports, OTHER) == []


def test_two_links_of_the_same_instant_end_alike_in_either_order(policy: EmbeddedPolicy, clock: FixedClock) -> None:
    ends = set()
    for order in ((LUCIA, OTHER), (OTHER, LUCIA)):
        store = FakeInteractionStore()
        ports = InteractionPorts(store=store, policy=policy, clock=clock)
        store.commit(record(ports, visit()).unit)
        for citizen_id in order:
            store.commit(handlers.project_link(link(citizen_id, T0), ports))
        ends.add(tuple(s.citizen_id for s in store.log.values()))
    assert len(ends) == 1


def test_an_erasure_takes_the_records_links_and_a_later_link_brings_no_interaction_back(
    ports: InteractionPorts, store: FakeInteractionStore, clock: FixedClock
) -> None:
    # GIVEN a visit attached to Lucía, then erased at her request
    store.commit(record(ports, visit()).unit)
    store.commit(handlers.project_link(link(), ports))
    erasure = handlers.answer_rights(rgpd_request("erasure", LUCIA, clock.now()), ports, traceparent=None)
    store.commit(erasure)

    # THEN the visit and this log's copy of the link are gone, and the answer says so
    assert store.log == {} and store.records == {}
    ((_, answer),) = events_in(erasure)
    erased = {a["what"]: a["count"] for a in answer["actions"] if a["result"] == "erased"}
    assert erased["links of area-system records to the person (C360 announces them again)"] == 1

    # WHEN a merge moves the record THEN nothing is stamped and nothing re-created
    unit = handlers.project_link(link(OTHER, T0 + timedelta(hours=1), method="merge"), ports)
    store.commit(unit)
    assert store.log == {} and timeline(ports, OTHER) == []


def test_an_access_request_exports_the_interactions_recorded_against_a_linked_record(
    ports: InteractionPorts, store: FakeInteractionStore
) -> None:
    store.commit(record(ports, visit()).unit)
    store.commit(handlers.project_link(link(), ports))
    ((_, answer),) = events_in(handlers.answer_rights(rgpd_request("access", LUCIA, T0), ports, None))
    assert [i["interaction_id"] for i in answer["export"]["interactions"]] == ["OAC-1"]
