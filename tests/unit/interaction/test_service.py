"""Interaction log, pure logic: typed channels, one subject, replay and conflict."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from events.interaction import InteractionRecorded
from functions.core import links
from functions.interaction import service

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def recorded(**overrides: Any) -> InteractionRecorded:
    data: dict[str, Any] = {
        "interaction_id": "GC-1",
        "citizen_id": "c-1",
        "channel": {"kind": "call", "direction": "inbound", "line": "010"},
        "area": "hacienda",
        "topic": "Recibo del IBI",
        "started_at": T0.isoformat(),
        "ended_at": (T0 + timedelta(minutes=4)).isoformat(),
    }
    data.update(overrides)
    return InteractionRecorded.model_validate(data)


def test_a_new_interaction_is_stored_and_announced() -> None:
    stored, event = service.prepare(recorded(), "/legacy/010", None, T0)
    assert event is not None and event.id == stored.id == service.interaction_key("/legacy/010", "GC-1")
    assert event.recorded_by == "/legacy/010"


def test_the_same_interaction_again_is_a_replay() -> None:
    first, _ = service.prepare(recorded(), "/legacy/010", None, T0)
    again, event = service.prepare(recorded(), "/legacy/010", first, T0 + timedelta(seconds=5))
    assert event is None and again == first


def test_the_same_id_with_other_content_is_a_conflict() -> None:
    first, _ = service.prepare(recorded(), "/legacy/010", None, T0)
    with pytest.raises(service.InteractionConflictError):
        service.prepare(recorded(topic="Otra cosa"), "/legacy/010", first, T0)


def test_two_recorders_may_use_the_same_id() -> None:
    assert service.interaction_key("/legacy/010", "1") != service.interaction_key("/legacy/chat", "1")


def test_the_subject_is_the_golden_record_or_the_source_record() -> None:
    assert service.subject_of(recorded()) == "c-1"
    by_record = recorded(citizen_id=None, record={"source": "/legacy/padron", "local_id": "PAD1"})
    assert service.subject_of(by_record) == "/legacy/padron#PAD1"


@pytest.mark.parametrize(
    "overrides",
    [
        {"citizen_id": None},  # nobody named
        {"record": {"source": "/legacy/padron", "local_id": "PAD1"}},  # two named
        {"ended_at": (T0 - timedelta(minutes=1)).isoformat()},
        {"started_at": "2026-03-02T09:00:00"},  # no offset
        {"channel": {"kind": "fax"}},
        {"channel": {"kind": "office-visit", "office": "OAC", "service": "Padrón", "ticket": "A1",
                     "issued_at": T0.isoformat(), "called_at": (T0 - timedelta(minutes=1)).isoformat()}},
        {"channel": {"kind": "call", "direction": "inbound", "line": "010", "extra": 1}},
        {"area": "Not An Area"},
    ],
)  # fmt: skip
def test_a_malformed_interaction_is_refused(overrides: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        recorded(**overrides)


def test_every_channel_kind_has_its_typed_model() -> None:
    channels = [
        {"kind": "office-visit", "office": "OAC", "service": "Padrón", "ticket": "A1", "issued_at": T0.isoformat()},
        {"kind": "call", "direction": "outbound", "line": "010"},
        {"kind": "chat", "conversation_id": "c1"},
        {"kind": "whatsapp", "conversation_id": "w1", "direction": "inbound"},
        {"kind": "email", "direction": "inbound", "mailbox": "atencion@madrid.es"},
        {"kind": "app", "action": "pago"},
    ]
    assert [recorded(channel=c).channel.kind for c in channels] == [
        "office-visit", "call", "chat", "whatsapp", "email", "app",
    ]  # fmt: skip


# ---- C360's links ------------------------------------------------------------------------------------


def test_a_link_replaces_only_an_older_one_and_a_tie_is_broken_by_the_citizen_id() -> None:
    # GIVEN a record linked to c-b at T0
    held = links.RecordLinks("/legacy/padron", "PAD1", "c-b", T0, frozenset({"intx-1"}), version=3)

    # THEN a later link moves it, keeping its interactions; the same or an older one changes nothing
    moved = links.relinked(held, "c-a", T0 + timedelta(seconds=1))
    assert moved is not None and (moved.citizen_id, moved.members, moved.version) == ("c-a", held.members, 3)
    assert links.relinked(held, "c-b", T0) is None
    assert links.relinked(held, "c-z", T0 - timedelta(seconds=1)) is None
    # AND of two links of the same instant the greater citizen id wins, whichever came first
    assert links.relinked(held, "c-c", T0) is not None and links.relinked(held, "c-a", T0) is None
    assert links.relinked(links.RecordLinks("/legacy/padron", "PAD1"), "c-a", T0) is not None


def test_only_an_interaction_recorded_against_a_record_is_attached_through_a_link() -> None:
    # GIVEN one recorded with a citizen_id: named, no link involved
    assert service.record_of(recorded()) is None
    assert service.prepare(recorded(), "/legacy/gestor-colas", None, T0, linked_citizen_id="c-a")[0].citizen_id == "c-1"
    # AND one against a Padrón record whose link is known: stored attached to the linked golden record
    against = recorded(citizen_id=None, record={"source": "/legacy/padron", "local_id": "PAD1"})
    assert service.record_of(against) == ("/legacy/padron", "PAD1")
    stored, _ = service.prepare(against, "/legacy/gestor-colas", None, T0, linked_citizen_id="c-a")
    assert stored.citizen_id == "c-a" and stored.interaction.citizen_id is None
