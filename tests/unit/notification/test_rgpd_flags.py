"""Unit: the projection of ``es.madrid.pic.rgpd.flags.changed.v1`` (contracts.md §3) into the policy input.

The handler is tested on its own, over a fake profile store (the real one is DynamoDB; the functional tests in
tests/functional/notification/test_notification_rgpd.py go through the platform)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from events.catalog import CATALOG
from events.rgpd import RgpdFlagsChanged
from functions.core.cloudevent import EventContext
from functions.notification import main, pipeline
from functions.notification.storage import citizen_view


class FakeProfiles:
    def __init__(self) -> None:
        self.parts: dict[str, dict[str, Any]] = {}
        self.staged: list[tuple[str, dict[str, Any]]] = []

    def fetch(self, citizen_id: str) -> tuple[dict[str, Any], int | None]:
        return self.parts.get(citizen_id, {}), None

    def stage(self, uow: Any, citizen_id: str, parts: dict[str, Any], version: int | None) -> None:
        self.staged.append((citizen_id, parts))
        self.parts[citizen_id] = parts


class FakeStores:
    def __init__(self) -> None:
        self.profiles = FakeProfiles()


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeStores:
    stores = FakeStores()
    monkeypatch.setattr(pipeline, "stores", lambda: stores)
    return stores


CTX = EventContext("/pic/rgpd", "e-1", "es.madrid.pic.rgpd.flags.changed.v1", "c-1", "00-trace", "k")
AT = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)


def flags(restricted: bool, objections: list[str], at: datetime) -> RgpdFlagsChanged:
    return RgpdFlagsChanged(citizen_id="c-1", restricted=restricted, objections=objections, changed_at=at)


def test_flags_become_the_policy_input_of_the_citizen(fake: FakeStores) -> None:
    main.on_rgpd_flags_changed(CTX, flags(True, ["campaigns", "campaigns"], AT))
    view = citizen_view("c-1", fake.profiles.parts["c-1"])
    assert view.restricted is True and view.objections == ("campaigns",)


def test_an_older_flags_event_does_not_undo_a_newer_one(fake: FakeStores) -> None:
    main.on_rgpd_flags_changed(CTX, flags(True, [], AT))
    main.on_rgpd_flags_changed(CTX, flags(False, [], AT - timedelta(minutes=1)))
    assert len(fake.profiles.staged) == 1
    assert citizen_view("c-1", fake.profiles.parts["c-1"]).restricted is True


def test_the_events_function_handles_the_rgpd_types_it_is_named_a_consumer_of() -> None:
    for type_ in ("es.madrid.pic.rgpd.flags.changed.v1", "es.madrid.pic.rgpd.request.opened.v1"):
        assert "pic-notification-events" in CATALOG[type_].consumers
        assert type_ in main.event_api.handlers
