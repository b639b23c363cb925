"""Unit: the projection of ``es.madrid.pic.rgpd.flags.changed.v1`` (contracts.md §3) into the policy input.

The RGPD helper owns the event type; until it is in the catalog the handler is not registered, so it is
tested here on its own, over a fake profile store (the real one is DynamoDB)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

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


def test_flags_become_the_policy_input_of_the_citizen(fake: FakeStores) -> None:
    data = {"citizen_id": "c-1", "restricted": True, "objections": ["campaigns", "campaigns"], "changed_at": AT}
    main.on_rgpd_flags_changed(CTX, data)
    view = citizen_view("c-1", fake.profiles.parts["c-1"], None)
    assert view.restricted is True and view.objections == ("campaigns",)


def test_an_older_flags_event_does_not_undo_a_newer_one(fake: FakeStores) -> None:
    main.on_rgpd_flags_changed(CTX, {"citizen_id": "c-1", "restricted": True, "objections": [], "changed_at": AT})
    main.on_rgpd_flags_changed(
        CTX, {"citizen_id": "c-1", "restricted": False, "objections": [], "changed_at": AT - timedelta(minutes=1)}
    )
    assert len(fake.profiles.staged) == 1
    assert citizen_view("c-1", fake.profiles.parts["c-1"], None).restricted is True


def test_flags_data_that_breaks_the_contract_is_refused(fake: FakeStores) -> None:
    with pytest.raises(Exception, match="restricted"):
        main.on_rgpd_flags_changed(CTX, {"citizen_id": "c-1", "objections": [], "changed_at": AT})
