"""The columnar side of segments: audience rows written to Parquet, and segments evaluated over them by
DuckDB — counts per channel as NOT will decide them, a pseudonymised sample, and the members of a saved
segment's snapshot read back a page at a time by the dispatcher.

Interface fixed by the lead for the helpers (issue 16); the implementation fills it in.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from functions.campaign.audience import AudienceRow
from functions.core.policy import Policy


@dataclass(frozen=True)
class Member:
    """One person a campaign goes to, as the snapshot holds them: the channel NOT is predicted to choose
    (``None``: predicted not to be sent, with ``reason``), and what the impact report breaks down by."""

    citizen_id: str
    channel: str | None
    reason: str | None
    district: str | None
    language: str


@dataclass(frozen=True)
class Count:
    """A segment's count for a purpose: who matches (``targeted``), by the channel NOT will choose, and
    how many will not be sent and why (``no-consent``, ``no-channel``, ``restricted``, ``objection``...)."""

    targeted: int
    by_channel: dict[str, int]
    not_sent: dict[str, int]
    sample: list[dict[str, Any]] = field(default_factory=list)  # pseudonymised: no id, no address
    took_ms: float = 0.0


def write_rows(rows: Iterable[AudienceRow], path: Path) -> int:
    """Write rows to a Parquet file (replacing it atomically); how many were written."""
    raise NotImplementedError


def count(path: Path, segment_filter: Any, purpose: str, policy: Policy, at: datetime, sample: int = 10) -> Count:
    """The segment over the export at ``path``: one policy decision per group of identical policy input."""
    raise NotImplementedError


def build_snapshot(
    path: Path, segment_filter: Any, purpose: str, policy: Policy, at: datetime, out: Path
) -> Count:  # fmt: skip
    """Write the segment's members (``Member`` columns, in a stable order) to ``out``; their count."""
    raise NotImplementedError


def page(snapshot: Path, offset: int, limit: int) -> list[Member]:
    """The members at ``offset`` (0-based) in the snapshot's order, at most ``limit`` of them."""
    raise NotImplementedError
