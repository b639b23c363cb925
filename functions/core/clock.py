"""The clock port: what time a use case thinks it is.

Handlers take a ``Clock`` instead of calling ``datetime.now``: production passes ``SYSTEM_CLOCK``, tests a
fixed or stepping clock, so a rule about deadlines, quiet hours or early-payment windows is tested at the
instant it matters.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol
from zoneinfo import ZoneInfo

MADRID = ZoneInfo("Europe/Madrid")  # the council's local time: deadlines and days are counted in it


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware (UTC)."""
        ...


class SystemClock:
    """The machine's clock, in UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)


SYSTEM_CLOCK = SystemClock()
