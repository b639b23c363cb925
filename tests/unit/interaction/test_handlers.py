"""The interaction log's use cases (``functions.interaction.handlers``) on in-memory fakes of their ports:
recording once and announcing once, a replay versus changed content (422), a concurrent record of the same
interaction, the read, and the answer to data-subject requests. No DynamoDB, no HTTP: milliseconds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from events.interaction import InteractionRecorded
from functions.core import paging
from functions.core.errors import ConflictError
from functions.core.policy import EmbeddedPolicy
from functions.core.retry import retry_on_conflict
from functions.core.store import Staged
from functions.interaction import handlers, service
from functions.interaction.handlers import InteractionPorts, RecordInteraction
from functions.interaction.service import InteractionConflictError, InteractionNotFoundError
from tests.unit.fakes import FixedClock, events_in
from tests.unit.interaction.fakes import FakeInteractionStore
from tests.unit.rgpd_support import rgpd_request

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CITIZEN = "c-lucia"
LOGGED = "es.madrid.pic.interaction.logged.v1"
DESK = "agent:agent-7"


def call(**overrides: Any) -> InteractionRecorded:
    data: dict[str, Any] = {
        "interaction_id": "GC-1",
        "citizen_id": CITIZEN,
        "channel": {"kind": "call", "direction": "inbound", "line": "010"},
        "area": "hacienda",
        "topic": "Recibo del IBI",
        "started_at": (T0 - timedelta(minutes=5)).isoformat(),
    }
    return InteractionRecorded.model_validate({**data, **overrides})


@pytest.fixture
def store() -> FakeInteractionStore:
    return FakeInteractionStore()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


@pytest.fixture
def ports(store: FakeInteractionStore, policy: EmbeddedPolicy, clock: FixedClock) -> InteractionPorts:
    return InteractionPorts(store=store, policy=policy, clock=clock)


def record(
    ports: InteractionPorts, interaction: InteractionRecorded, recorder: str = DESK
) -> Staged[handlers.Recorded]:
    return handlers.record_interaction(RecordInteraction(interaction, recorder), ports, traceparent="00-trace")


def test_a_new_interaction_is_stored_and_announced_once_at_the_clocks_time(
    ports: InteractionPorts, store: FakeInteractionStore
) -> None:
    # WHEN a desk records a call
    staged = record(ports, call())

    # THEN the unit holds the interaction and one interaction.logged, under PIC's id, as of the clock
    assert staged.result.created and staged.result.stored.recorded_at == T0
    ((kind, data),) = events_in(staged.unit)
    assert kind == LOGGED and data["id"] == staged.result.stored.id == service.interaction_key(DESK, "GC-1")
    assert data["recorded_by"] == DESK and (row := staged.unit.staged("outbox")[0]).subject == CITIZEN
    assert row.traceparent == "00-trace"
    store.commit(staged.unit)
    assert store.fetch(staged.result.stored.id) == staged.result.stored


def test_the_same_interaction_again_is_a_replay_that_stages_nothing(
    ports: InteractionPorts, store: FakeInteractionStore, clock: FixedClock
) -> None:
    first = record(ports, call())
    store.commit(first.unit)
    clock.advance(minutes=3)  # a retry, a redelivery

    again = record(ports, call())
    assert not again.result.created and again.result.stored == first.result.stored
    assert store.ledger.staged(again.unit) == [] and events_in(again.unit) == []


def test_the_same_id_with_other_content_is_refused(ports: InteractionPorts, store: FakeInteractionStore) -> None:
    store.commit(record(ports, call()).unit)
    with pytest.raises(InteractionConflictError) as refused:
        record(ports, call(topic="Multa de tráfico"))
    assert refused.value.status == 422 and refused.value.slug == "interaction-conflict"


def test_two_recorders_may_use_the_same_id(ports: InteractionPorts, store: FakeInteractionStore) -> None:
    store.commit(record(ports, call()).unit)
    other = record(ports, call(topic="Otra cosa"), recorder="/legacy/gestor-colas")
    assert other.result.created and other.result.stored.id != service.interaction_key(DESK, "GC-1")


def test_the_same_interaction_recorded_concurrently_is_stored_once(
    ports: InteractionPorts, store: FakeInteractionStore
) -> None:
    # GIVEN the desk's retry decided before its first attempt committed
    first, second = record(ports, call()), record(ports, call())
    store.commit(first.unit)

    # WHEN the second commits THEN it lost the race: nothing of it is written
    with pytest.raises(ConflictError):
        store.commit(second.unit)

    # AND decided again (the kernel's retry) it is a replay of the first: one interaction, one event
    def attempt() -> handlers.Recorded:
        staged = record(ports, call())
        store.commit(staged.unit)
        return staged.result

    assert not retry_on_conflict(attempt, backoff=0).created and list(store.log) == [first.result.stored.id]


def test_the_read_finds_a_stored_interaction_or_says_not_found(
    ports: InteractionPorts, store: FakeInteractionStore
) -> None:
    staged = record(ports, call())
    store.commit(staged.unit)
    assert handlers.find_interaction(staged.result.stored.id, ports) == staged.result.stored
    with pytest.raises(InteractionNotFoundError):
        handlers.find_interaction("intx-000000000000000000000000", ports)


def test_an_erasure_erases_what_no_law_keeps_and_keeps_a_files_interaction(
    ports: InteractionPorts, store: FakeInteractionStore, clock: FixedClock
) -> None:
    # GIVEN a call about nothing in particular and a visit about an administrative file
    store.commit(record(ports, call()).unit)
    store.commit(record(ports, call(interaction_id="GC-2", case_id="EXP-2026-7")).unit)
    clock.advance(days=2)

    # WHEN the interaction log answers the person's erasure, and it commits
    unit = handlers.answer_rights(rgpd_request("erasure", CITIZEN, clock.now()), ports, traceparent=None)
    ((kind, answer),) = events_in(unit)
    store.commit(unit)

    # THEN the call is erased, the file's visit kept with the legal basis, and the answer says so, as of now
    assert kind == "es.madrid.pic.rgpd.domain.answered.v1" and answer["answered_at"].startswith("2026-03-04T09:00")
    assert [s.interaction.interaction_id for s in store.fetch_by_citizen(CITIZEN)] == ["GC-2"]
    results = {a["category"]: a["result"] for a in answer["actions"]}
    assert results["interactions"] == "erased" and results["case-interactions"] == "kept"


def test_an_access_request_exports_every_interaction_of_the_person(
    ports: InteractionPorts, store: FakeInteractionStore
) -> None:
    store.commit(record(ports, call()).unit)
    ((_, answer),) = events_in(handlers.answer_rights(rgpd_request("access", CITIZEN, T0), ports, None))
    assert answer["outcome"] == "done" and [i["interaction_id"] for i in answer["export"]["interactions"]] == ["GC-1"]


# ---- the citizen's timeline ---------------------------------------------------------------------------


def _timeline(ports: InteractionPorts, limit: int, cursor: str | None = None) -> paging.TimelinePage:
    after = paging.decode(cursor) if cursor else None
    return handlers.citizen_timeline(paging.ReadTimeline(CITIZEN, limit, after), ports)


def test_the_timeline_pages_through_the_citizens_interactions_newest_first(
    ports: InteractionPorts, store: FakeInteractionStore, clock: FixedClock
) -> None:
    # GIVEN five calls of the citizen recorded a minute apart, and one of another person
    for n in range(5):
        store.commit(record(ports, call(interaction_id=f"GC-{n}")).unit)
        clock.advance(minutes=1)
    store.commit(record(ports, call(interaction_id="GC-X", citizen_id="c-other")).unit)
    ids = {service.interaction_key(DESK, f"GC-{n}"): n for n in range(5)}

    # WHEN the timeline is read two at a time, following next_cursor
    pages, cursor = [], None
    while True:
        page = _timeline(ports, 2, cursor)
        pages.append([ids[item["id"]] for item in page.items])
        if (cursor := page.next_cursor) is None:
            break

    # THEN the pages hold the citizen's calls newest first, each once; the last page says there is no more
    assert pages == [[4, 3], [2, 1], [0]]
    # AND each page was one read of limit + 1, from where the previous page ended
    assert [(c, n) for c, n, _ in store.pages] == [(CITIZEN, 3)] * 3 and store.pages[0][2] is None


def test_a_timeline_item_says_when_where_and_how_not_what(ports: InteractionPorts, store: FakeInteractionStore) -> None:
    ended = (T0 - timedelta(minutes=1)).isoformat()
    staged = record(ports, call(outcome="redirected", ended_at=ended, topic="Deuda con Hacienda"))
    store.commit(staged.unit)
    (item,) = _timeline(ports, 20).items
    full = service.view(staged.result.stored)
    assert item == {
        "id": staged.result.stored.id,
        "channel": "call",
        "area": "hacienda",
        "outcome": "redirected",
        "started_at": full["started_at"],
        "ended_at": full["ended_at"],
        "recorded_at": T0.isoformat(),
    }


def test_a_page_exactly_full_is_the_last_and_an_empty_timeline_is_one_empty_page(
    ports: InteractionPorts, store: FakeInteractionStore, clock: FixedClock
) -> None:
    assert _timeline(ports, 20) == paging.TimelinePage([], None)
    for n in range(2):
        store.commit(record(ports, call(interaction_id=f"GC-{n}")).unit)
        clock.advance(seconds=1)
    page = _timeline(ports, 2)
    assert len(page.items) == 2 and page.next_cursor is None
