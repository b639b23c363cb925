"""Unit: the projection of ``es.madrid.pic.rgpd.flags.changed.v1`` (contracts.md §3) into the policy input.

The entry point is tested over the fake store (the real one is DynamoDB; the functional tests in
tests/functional/notification/test_notification_rgpd.py go through the platform)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from events.catalog import CATALOG
from events.rgpd import RgpdFlagsChanged
from functions.core.cloudevent import EventContext
from functions.notification import main
from functions.notification.service import citizen_view
from tests.unit.fakes import FixedClock
from tests.unit.notification.fakes import FakeNotificationStore, fake_ports


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeNotificationStore:
    store = FakeNotificationStore()
    ports = fake_ports(store, FixedClock(AT))
    monkeypatch.setattr(main, "ports", lambda: ports)
    return store


CTX = EventContext("/pic/rgpd", "e-1", "es.madrid.pic.rgpd.flags.changed.v1", "c-1", "00-trace", "k")
AT = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)


def handle(store: FakeNotificationStore, data: RgpdFlagsChanged) -> None:
    store.commit(main.on_rgpd_flags_changed(CTX, data))


def flags(restricted: bool, objections: list[str], at: datetime) -> RgpdFlagsChanged:
    return RgpdFlagsChanged(citizen_id="c-1", restricted=restricted, objections=objections, changed_at=at)


def test_flags_become_the_policy_input_of_the_citizen(fake: FakeNotificationStore) -> None:
    handle(fake, flags(True, ["campaigns", "campaigns"], AT))
    view = citizen_view("c-1", fake.profiles["c-1"])
    assert view.restricted is True and view.objections == ("campaigns",)


def test_an_older_flags_event_does_not_undo_a_newer_one(fake: FakeNotificationStore) -> None:
    handle(fake, flags(True, [], AT))
    handle(fake, flags(False, [], AT - timedelta(minutes=1)))
    assert fake.calls["write:cit"] == 1
    assert citizen_view("c-1", fake.profiles["c-1"]).restricted is True


def test_the_events_function_handles_the_rgpd_types_it_is_named_a_consumer_of() -> None:
    for type_ in ("es.madrid.pic.rgpd.flags.changed.v1", "es.madrid.pic.rgpd.request.opened.v1"):
        assert "pic-notification-events" in CATALOG[type_].consumers
        assert type_ in main.event_api.handlers
