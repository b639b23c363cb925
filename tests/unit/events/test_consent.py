"""The consent event contracts: strict, frozen pydantic models that round-trip through JSON."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pydantic
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from events.consent import (
    Actor,
    ConsentChanged,
    ConsentChangeRequested,
    ConsentSnapshot,
    Preferences,
    QuietHours,
    SubscriptionChanged,
)

AT = datetime(2026, 3, 1, 10, 30, tzinfo=UTC)


def test_an_unknown_field_is_a_schema_error_not_silently_dropped() -> None:
    with pytest.raises(pydantic.ValidationError, match="extra"):
        Actor.model_validate({"kind": "citizen", "id": "c-1", "nmae": "typo"})


def test_events_are_frozen_and_strings_are_stripped() -> None:
    actor = Actor(kind="agent", id="  agent-1  ", level=1)
    assert actor.id == "agent-1"
    with pytest.raises(pydantic.ValidationError):
        actor.id = "other"  # type: ignore[misc]


@pytest.mark.parametrize(
    "fields",
    [
        {"kind": "robot", "id": "x"},
        {"kind": "agent", "id": "a", "level": 4},
        {"kind": "agent", "id": "a", "level": -1},
        {"kind": "citizen", "id": ""},
    ],
)
def test_an_actor_is_a_citizen_agent_or_system_with_a_level_0_to_3(fields: dict[str, Any]) -> None:
    with pytest.raises(pydantic.ValidationError):
        Actor.model_validate(fields)


@pytest.mark.parametrize("hhmm", ["00:00", "07:59", "22:00", "23:59"])
def test_quiet_hours_are_hh_mm(hhmm: str) -> None:
    assert QuietHours(start=hhmm, end="08:00").start == hhmm


@pytest.mark.parametrize("hhmm", ["24:00", "7:00", "07:60", "0700", "07:00 pm", ""])
def test_quiet_hours_that_are_not_hh_mm_are_refused(hhmm: str) -> None:
    with pytest.raises(pydantic.ValidationError):
        QuietHours(start=hhmm, end="08:00")


def test_preferences_default_to_spanish_in_madrid_with_no_channels() -> None:
    prefs = Preferences()
    assert (prefs.language, prefs.channels, prefs.quiet_hours, prefs.timezone) == ("es", [], None, "Europe/Madrid")


@pytest.mark.parametrize("citizen_id", ["", "-starts-with-dash", "has space", "x" * 65, "ñandú"])
def test_a_change_request_needs_a_well_formed_citizen_id(citizen_id: str) -> None:
    with pytest.raises(pydantic.ValidationError):
        ConsentChangeRequested(
            citizen_id=citizen_id,
            purpose="campaigns",
            granted=True,
            text_version="2026-01",
            actor=Actor(kind="system", id="oficinas"),
        )


def test_a_change_request_defaults_to_a_paper_form_in_spanish() -> None:
    req = ConsentChangeRequested(
        citizen_id="c-1",
        purpose="campaigns",
        granted=True,
        text_version="2026-01",
        actor=Actor(kind="system", id="oficinas"),
    )
    assert (req.capture_channel, req.language, req.channels) == ("office-paper", "es", [])


snapshots = st.builds(
    ConsentSnapshot,
    granted=st.booleans(),
    channels=st.lists(st.sampled_from(["email", "sms", "push"]), max_size=3),
    text_version=st.none() | st.just("2026-01"),
)


@settings(max_examples=40, deadline=None)
@given(
    before=snapshots,
    after=snapshots,
    mode=st.sampled_from(["a", "b"]),
    language=st.sampled_from(["es", "en"]),
    sha=st.none() | st.text(alphabet="0123456789abcdef", min_size=64, max_size=64),
)
def test_consent_changed_round_trips_through_json(
    before: ConsentSnapshot, after: ConsentSnapshot, mode: str, language: str, sha: str | None
) -> None:
    event = ConsentChanged(
        citizen_id="c-1",
        purpose="campaigns",
        before=before,
        after=after,
        mode=mode,
        proof_id="p-1",
        actor=Actor(kind="citizen", id="c-1"),
        capture_channel="web",
        language=language,
        text_sha256=sha,
        changed_at=AT,
    )
    assert ConsentChanged.model_validate_json(event.model_dump_json()) == event


def test_a_subscription_change_is_created_or_deleted() -> None:
    fields = {
        "citizen_id": "c-1",
        "subscription_id": "traffic.01",
        "topic": "traffic",
        "zone": "01",
        "actor": Actor(kind="citizen", id="c-1"),
        "changed_at": AT,
    }
    assert SubscriptionChanged(change="created", **fields).change == "created"
    with pytest.raises(pydantic.ValidationError):
        SubscriptionChanged(change="updated", **fields)
