"""Consumers (issue 19): what platform engineers see of the internal systems that call the API as OAuth 2.0
clients. Pure rules: a consumer's registration as shown, and its usage (admitted requests, 403 refusals by scope
or policy, 429 refusals over quota) by hour and by day, from the hourly counters the kernel writes
(``functions.core.quota``, ADR 0035). No person's data: a client is a system, its owner a team.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any, Protocol

from functions.core.consumers import Consumer, HourUsage
from functions.core.errors import NotFoundError

MAX_DAYS = 31  # the usage API answers up to a month of hours (744 rows, one Query); the rows live 90 days


class UnknownConsumerError(NotFoundError):
    slug, title = "unknown-consumer", "No such API consumer"


class UsageReader(Protocol):
    """The port: a consumer's hourly counters from ``since`` to ``until`` (UTC), oldest first."""

    def hours(self, client_id: str, since: datetime, until: datetime) -> list[HourUsage]: ...


def registration(consumer: Consumer) -> dict[str, Any]:
    """A consumer as the admin API shows it: who, what it may do, how much."""
    return {
        "client_id": consumer.client_id,
        "system": consumer.system,
        "owner": consumer.owner,
        "sender": consumer.sender,
        "scopes": list(consumer.scopes),
        "quota": {"requests": consumer.quota.requests, "window_seconds": consumer.quota.window_seconds},
    }


def totals(rows: Iterable[HourUsage]) -> dict[str, int]:
    """Sums of admitted requests and refusals (403 forbidden, 429 over quota)."""
    found = {"admitted": 0, "forbidden": 0, "over_quota": 0}
    for row in rows:
        found["admitted"] += row.admitted
        found["forbidden"] += row.forbidden
        found["over_quota"] += row.over_quota
    return found


def by_day(rows: Iterable[HourUsage]) -> list[dict[str, Any]]:
    """The hours grouped by their UTC day (``YYYY-MM-DD``), oldest first."""
    days: dict[str, list[HourUsage]] = {}
    for row in rows:
        days.setdefault(row.hour[:10], []).append(row)
    return [{"day": day, **totals(found)} for day, found in sorted(days.items())]


def by_hour(rows: Iterable[HourUsage]) -> list[dict[str, Any]]:
    return [
        {"hour": row.hour, "admitted": row.admitted, "forbidden": row.forbidden, "over_quota": row.over_quota}
        for row in rows
    ]


def span(now: datetime, days: int) -> tuple[datetime, datetime]:
    """The hours of the last ``days`` UTC days, today included: from 00:00 of the first to now."""
    first = (now - timedelta(days=days - 1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return first, now
