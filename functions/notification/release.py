"""Release notifications deferred by quiet hours when they end: ``python -m functions.notification.release``.

A deferred notification is stored with a marker item ``due#<minute>`` / ``<notification id>`` (written in the
same transaction as the notification), one partition per minute of Europe/Madrid-independent UTC time. This
poller walks the minutes from its cursor up to now, emits ``notification.due.v1`` for each marker (through the
outbox, deleting the marker in the same transaction) and advances the cursor. Delivery then claims the
notification as usual, so a marker released twice still sends one message.

Runs as the ``pic-notification-release`` Deployment (one replica) and, locally, in ``make run``'s process.
"""

from __future__ import annotations

import argparse
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from pynamodb.attributes import UnicodeAttribute

from events.notification import NotificationDue
from functions.core import periodic
from functions.core.clock import SYSTEM_CLOCK, Clock
from functions.core.outbox import stage_event
from functions.core.store import UnitOfWork
from functions.notification.storage import NotificationItem

LOOKBACK = timedelta(minutes=10)  # the oldest minute walked on the very first pass (no cursor yet)
BATCH = 45  # marker delete + outbox row = 2 items each


class DueMarker(NotificationItem):
    notification_id = UnicodeAttribute()
    due_at = UnicodeAttribute()


class ReleaseCursor(NotificationItem):
    minute = UnicodeAttribute()


def minute_key(at: datetime) -> str:
    return "due#" + at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M")


def minutes_between(start: datetime, end: datetime) -> Iterator[datetime]:
    """Every minute from ``start`` to ``end`` inclusive, truncated to the minute."""
    at = start.astimezone(UTC).replace(second=0, microsecond=0)
    while at <= end:
        yield at
        at += timedelta(minutes=1)


def stage_marker(uow: UnitOfWork, notification_id: str, due_at: datetime) -> None:
    """The marker sits in the minute the notification is due by (rounded up), so it is never released early."""
    item = DueMarker(
        minute_key(due_at + timedelta(seconds=59)),
        notification_id,
        notification_id=notification_id,
        due_at=due_at.isoformat(),
    )
    item.expires_at = int((due_at + timedelta(days=30)).timestamp())
    uow.put(item, tag="due-marker")


def release(now: datetime) -> int:
    """Emit ``notification.due`` for every marker up to ``now``; answers how many were released."""
    try:
        cursor = ReleaseCursor.get("release", "cursor", consistent_read=True)
        start = datetime.fromisoformat(cursor.minute)
    except ReleaseCursor.DoesNotExist:
        start = now - LOOKBACK
    released = 0
    last = start
    for minute in minutes_between(start, now):
        markers = list(DueMarker.query(minute_key(minute), consistent_read=True))
        for i in range(0, len(markers), BATCH):
            uow = UnitOfWork()
            for marker in markers[i : i + BATCH]:
                uow.delete(marker, tag="due-marker")
                due = NotificationDue(
                    notification_id=marker.notification_id, due_at=datetime.fromisoformat(marker.due_at)
                )
                stage_event(uow, due, subject=marker.notification_id, traceparent=None, now=now)
            uow.commit()
            released += len(markers[i : i + BATCH])
        last = minute
    # the current minute may still gain markers: the cursor stays on it, and it is walked again next time
    uow = UnitOfWork()
    uow.put(ReleaseCursor("release", "cursor", minute=min(last, now).isoformat()), tag="release-cursor")
    uow.commit()
    return released


def run_forever(stop: threading.Event, every: float = 5.0, clock: Clock = SYSTEM_CLOCK) -> None:
    """Poll until ``stop``; after each good pass touch ``PIC_RELEASE_HEARTBEAT`` (if set), which the
    Deployment's probes check (a poller has no port to probe)."""
    periodic.run_forever(
        stop, lambda: release(clock.now()), every=every, heartbeat_env="PIC_RELEASE_HEARTBEAT", what="release"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m functions.notification.release", description=__doc__)
    parser.add_argument("--once", action="store_true", help="one pass, then exit")
    parser.add_argument("--now", type=datetime.fromisoformat, default=None, help="release as if it were this time")
    args = parser.parse_args(argv)
    if args.once:
        print(f"released {release(args.now or SYSTEM_CLOCK.now())}")
        return 0
    return periodic.until_interrupted(run_forever)


if __name__ == "__main__":
    sys.exit(main())
