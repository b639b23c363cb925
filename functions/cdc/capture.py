"""The capture loop: read committed changes from the slot, publish their events, then confirm the position.

Order of work, and why nothing is lost or applied twice:
1. ``source.peek`` reads the next committed transactions *without* consuming them (the slot keeps them);
2. each change's events are posted to the broker in commit order, one after the other, and each must be
   accepted (202) before the next: a broker that is down or refuses the token (401, 429, 5xx, no answer) is
   tried again, with a growing pause, for ever: the capture waits, it never skips;
3. only then ``source.confirm`` moves the slot's confirmed position past those transactions (PostgreSQL may
   recycle their WAL from then on).
A crash between 2 and 3 decodes the same changes again at the next start: the same event ids, which the
consumers acknowledge as duplicates (at-least-once delivery, effectively once processing).

Bad input does not stop the stream: an event that fails its type's schema is still published, and the
consumer's refusal puts it in the platform's dead letters with the reason (``make deadletters``), as for any
sender; the capture logs it too. An event the broker's ingress itself refuses (400, 413) is logged with the
whole event and skipped. What a person must look at stops it, saying why, with the position left before it: a
table changed under the mapping (``SchemaChangedError``), or a sender the broker does not admit (403: the
catalog, ``events/catalog.py``, does not name Licencias for that type).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from functions.cdc.changes import CaptureError, Change, TableSpec, Transaction, transactions
from functions.cdc.licencias import Outgoing
from functions.cdc.pgoutput import lsn_text

log = logging.getLogger("pic.cdc")


class TransientPublishError(Exception):
    """The broker did not take the event now (down, 401, 429, 5xx): try the same event again later."""


class RefusedError(Exception):
    """The broker's ingress refused this one event for what it is (400, 413): it will never be admitted."""


class NotAdmittedError(CaptureError):
    """The broker does not admit this sender for this type (403): the catalog must name it; stop."""


class ChangeSource(Protocol):
    def peek(self, limit: int) -> list[tuple[int, bytes]]:
        """The next committed changes after the confirmed position, as ``(lsn, pgoutput message)``; not consumed."""
        ...

    def confirm(self, lsn: int) -> None:
        """Everything before ``lsn`` is published: the slot may let it go."""
        ...


class Publisher(Protocol):
    def publish(self, event: Outgoing) -> None:
        """Post one event; raise ``TransientPublishError``, ``RefusedError`` or ``NotAdmittedError``."""
        ...


@dataclass
class Counters:
    transactions: int = 0
    changes: int = 0
    published: int = 0
    invalid: int = 0  # published, and the consumers will dead-letter them (failing their type's schema)
    refused: int = 0  # refused at the broker's ingress (logged)
    retries: int = 0
    confirmed_lsn: str = ""
    last: dict[str, str] = field(default_factory=dict)


class Capture:
    """One slot's capture: ``step`` publishes one batch; ``run`` steps until stopped or a ``CaptureError``."""

    def __init__(
        self,
        source: ChangeSource,
        publisher: Publisher,
        tables: Mapping[str, TableSpec],
        events_for: Callable[[Change], list[Outgoing]],
        problem: Callable[[Outgoing], str | None] = lambda event: None,
        batch: int = 1000,
        sleep: Callable[[float], bool] | None = None,
    ) -> None:
        self.source, self.publisher, self.tables = source, publisher, tables
        self.events_for, self.problem, self.batch = events_for, problem, batch
        self.sleep = sleep or threading.Event().wait  # answers True when the capture is asked to stop meanwhile
        self.counters = Counters()

    def step(self) -> int:
        """Publish the next batch of committed transactions and confirm past them; answers how many changes."""
        done_lsn, changes = 0, 0
        try:
            for txn in transactions(self.source.peek(self.batch), self.tables):
                if not self._publish(txn):
                    break  # asked to stop while the broker was away: confirm what was published
                done_lsn, changes = txn.end_lsn, changes + len(txn.changes)
        finally:  # a CaptureError mid-batch still confirms the transactions published before it
            if done_lsn:
                self.source.confirm(done_lsn)
                self.counters.confirmed_lsn = lsn_text(done_lsn)
        return changes

    def publish_snapshot(self, changes: Iterable[Change]) -> int:
        """An initial load: each row as a ``snapshot`` change, published like the stream's (nothing to confirm)."""
        txn = Transaction(0, datetime.now(UTC), 0, list(changes))
        self._publish(txn)
        return len(txn.changes)

    def _publish(self, txn: Transaction) -> bool:
        for change in txn.changes:
            for event in self.events_for(change):
                if not self._send(event):
                    return False
        self.counters.transactions += 1
        self.counters.changes += len(txn.changes)
        return True

    def _send(self, event: Outgoing) -> bool:
        reason = self.problem(event)
        if reason:
            self.counters.invalid += 1
            log.warning("%s %s of %s fails %s: %s; published, the consumers will dead-letter it with the reason",
                        event.op, event.key, event.table, event.type, reason)  # fmt: skip
        pause = 0.2
        while True:
            try:
                self.publisher.publish(event)
            except TransientPublishError as exc:
                self.counters.retries += 1
                log.warning("the broker did not take %s (%s): again in %.1fs", event.id, exc, pause)
                if self.sleep(pause):
                    return False
                pause = min(pause * 2, 10.0)
                continue
            except RefusedError as exc:
                self.counters.refused += 1
                whole = json.dumps({"type": event.type, "id": event.id, "data": event.data}, default=str)
                log.error("the broker refused %s for good (%s); skipped: %s", event.id, exc, whole)
                return True
            self.counters.published += 1
            self.counters.last = {"type": event.type, "id": event.id, "key": event.key, "op": event.op}
            return True

    def run(self, stop: threading.Event, idle: float = 0.2, on_pass: Callable[[], None] = lambda: None) -> None:
        """Step until ``stop``; idle ``idle`` seconds after an empty batch. A ``CaptureError`` ends it (raised)."""
        while not stop.is_set():
            changes = self.step()
            on_pass()
            if not changes and stop.wait(idle):
                return
