"""Consumers' use cases: questions only (the counters are written by the kernel on every consumer's request)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from functions.consumers.service import (
    UnknownConsumerError,
    UsageReader,
    by_day,
    by_hour,
    registration,
    span,
    totals,
)
from functions.core.clock import Clock
from functions.core.consumers import Consumer


@dataclass(frozen=True)
class ConsumerPorts:
    usage: UsageReader
    clock: Clock
    consumers: dict[str, Consumer]


def list_consumers(ports: ConsumerPorts) -> dict[str, Any]:
    """Every registered consumer with today's totals (UTC): one Query per consumer."""
    first, now = span(ports.clock.now(), 1)
    return {
        "consumers": [
            {**registration(c), "today": totals(ports.usage.hours(c.client_id, first, now))}
            for c in sorted(ports.consumers.values(), key=lambda c: c.client_id)
        ]
    }


def consumer_usage(client_id: str, days: int, ports: ConsumerPorts) -> dict[str, Any]:
    """One consumer's usage over the last ``days`` days: by hour and by day, and the quota it runs under."""
    consumer = ports.consumers.get(client_id)
    if consumer is None:
        raise UnknownConsumerError(f"no API consumer {client_id!r} is registered")
    first, now = span(ports.clock.now(), days)
    rows = ports.usage.hours(client_id, first, now)
    return {
        **registration(consumer),
        "since": first.isoformat(),
        "until": now.isoformat(),
        "total": totals(rows),
        "days": by_day(rows),
        "hours": by_hour(rows),
    }
