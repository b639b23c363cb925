"""Knative's "event display" sample, as a PIC function: logs every event it receives.

Local overlay only (Trigger ``event-display-all``). Received events are also kept in the data
directory so ``GET /dev/received`` and the benchmarks can see what reached a subscriber.

Fault injection for tests and benchmarks: an event carrying the extension ``picfailonce`` is answered
503 the first time it arrives, so the broker's retry path can be exercised and measured.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from pathlib import Path

import functions_framework
from cloudevents.http import CloudEvent
from werkzeug.exceptions import HTTPException

from functions.core.logging import bind_trace, get_logger

_local = threading.local()


def _db() -> sqlite3.Connection:
    db = getattr(_local, "db", None)
    if db is None:
        path = Path(os.environ.get("PIC_DATA_DIR", ".")) / "received.sqlite"
        db = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=OFF")
        db.execute("CREATE TABLE IF NOT EXISTS received (id TEXT, source TEXT, type TEXT, at REAL, event TEXT)")
        _local.db = db
    return db


class _Unavailable(HTTPException):
    code = 503
    description = "failing once on purpose (picfailonce)"


@functions_framework.cloud_event
def display(event: CloudEvent) -> None:
    attrs = event.get_attributes()
    bind_trace(attrs.get("traceparent"))
    if attrs.get("picfailonce") and not _seen_failure(attrs["id"]):
        raise _Unavailable()
    get_logger().info(
        "event received", extra={"ce_type": attrs["type"], "ce_source": attrs["source"], "ce_id": attrs["id"]}
    )
    payload = json.dumps({**attrs, "data": event.get_data()}, default=str)
    _db().execute(
        "INSERT INTO received VALUES (?, ?, ?, ?, ?)",
        (attrs["id"], attrs["source"], attrs["type"], time.time(), payload),
    )


def _seen_failure(event_id: str) -> bool:
    """True once this event was already failed (kept in the data directory: workers share it)."""
    db = _db()
    db.execute("CREATE TABLE IF NOT EXISTS failed_once (id TEXT PRIMARY KEY)")
    return db.execute("INSERT OR IGNORE INTO failed_once VALUES (?)", (event_id,)).rowcount == 0
