"""Knative's "event display" sample, as a PIC function: logs every event it receives.

Local overlay only (Trigger ``event-display-all``). Received events are also kept in the data
directory so ``GET /dev/received`` and the benchmarks can see what reached a subscriber.
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


@functions_framework.cloud_event
def display(event: CloudEvent) -> None:
    attrs = event.get_attributes()
    bind_trace(attrs.get("traceparent"))
    get_logger().info("event received", extra={"ce_type": attrs["type"], "ce_source": attrs["source"], "ce_id": attrs["id"]})
    payload = json.dumps({**attrs, "data": event.get_data()}, default=str)
    _db().execute(
        "INSERT INTO received VALUES (?, ?, ?, ?, ?)", (attrs["id"], attrs["source"], attrs["type"], time.time(), payload)
    )
