"""The consumers' questions on fakes: the registry with today's totals, one consumer's usage by hour and day."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from functions.consumers import handlers
from functions.consumers.handlers import ConsumerPorts
from functions.consumers.service import UnknownConsumerError
from functions.core.consumers import HourUsage, registry
from tests.unit.fakes import FixedClock

NOW = datetime(2026, 12, 7, 17, 20, tzinfo=UTC)


class FakeUsage:
    """Hourly rows per client; answers the span asked, oldest first, and records what was asked."""

    def __init__(self, rows: dict[str, list[HourUsage]]) -> None:
        self.rows = rows
        self.asked: list[tuple[str, datetime, datetime]] = []

    def hours(self, client_id: str, since: datetime, until: datetime) -> list[HourUsage]:
        self.asked.append((client_id, since, until))
        first, last = since.strftime("%Y-%m-%dT%H"), until.strftime("%Y-%m-%dT%H")
        return [r for r in self.rows.get(client_id, []) if first <= r.hour <= last]


ROWS = {
    "quiosco-pruebas": [
        HourUsage("2026-12-06T09", admitted=40, over_quota=0, forbidden=1),
        HourUsage("2026-12-07T16", admitted=3, over_quota=2, forbidden=1),
        HourUsage("2026-12-07T17", admitted=6, over_quota=5, forbidden=0),
    ]
}


def ports(usage: FakeUsage) -> ConsumerPorts:
    return ConsumerPorts(usage=usage, clock=FixedClock(NOW), consumers=registry())


def test_the_list_names_every_consumer_with_its_quota_and_todays_totals() -> None:
    usage = FakeUsage(ROWS)
    listed = handlers.list_consumers(ports(usage))["consumers"]
    kiosk = next(c for c in listed if c["client_id"] == "quiosco-pruebas")
    assert kiosk["quota"] == {"requests": 3, "window_seconds": 5} and kiosk["scopes"] == ["api:verifier.types"]
    assert kiosk["today"] == {"admitted": 9, "forbidden": 1, "over_quota": 7}  # yesterday's hour left out
    assert [c["client_id"] for c in listed] == sorted(registry())
    assert usage.asked[0][1] == datetime(2026, 12, 7, tzinfo=UTC)  # from today's 00:00 UTC


def test_usage_by_hour_and_day_over_the_days_asked() -> None:
    usage = handlers.consumer_usage("quiosco-pruebas", 2, ports(FakeUsage(ROWS)))
    assert usage["total"] == {"admitted": 49, "forbidden": 2, "over_quota": 7}
    assert usage["days"] == [
        {"day": "2026-12-06", "admitted": 40, "forbidden": 1, "over_quota": 0},
        {"day": "2026-12-07", "admitted": 9, "forbidden": 1, "over_quota": 7},
    ]
    assert usage["hours"][-1] == {"hour": "2026-12-07T17", "admitted": 6, "forbidden": 0, "over_quota": 5}
    assert usage["since"] == "2026-12-06T00:00:00+00:00"


def test_a_consumer_with_no_use_has_zeros_and_an_unknown_one_is_a_404() -> None:
    assert handlers.consumer_usage("padron-sync", 1, ports(FakeUsage({})))["total"] == {
        "admitted": 0, "forbidden": 0, "over_quota": 0}  # fmt: skip
    with pytest.raises(UnknownConsumerError) as missing:
        handlers.consumer_usage("nobody", 1, ports(FakeUsage({})))
    assert missing.value.status == 404
