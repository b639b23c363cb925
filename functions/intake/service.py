"""Legacy batch adapters (issue 19, ADR 0032): the rules, the errors, the report and the ports.

A file from an area system is refused whole (nothing sent) when its text is not in the system's declared encoding
or not in its layout; otherwise each record becomes the platform's CloudEvents, posted to the broker as that
system, or a dead letter with its line and reason. A ledger keeps, per system and record key, the hash of what
was last sent: a record sent before with the same content is not sent again, so re-running a file changes
nothing, and a run cut short is completed by the next one (the ledger is written only after the broker took
the events; an event re-posted after a crash has the same id, which the consumers deduplicate).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Protocol

from functions.core.errors import NotFoundError, PicError, ValidationError

MAX_BAD_LINES_KEPT = 200  # in the report item (DynamoDB's 400 KB); every one of them is in the dead-letter file
MAX_RAW_KEPT = 400  # characters of a bad line's text kept in the report


class IntakeFileRefusedError(ValidationError):
    """The whole file: wrong encoding or wrong layout. Nothing of it was sent."""

    slug, title = "intake-file-refused", "The file is not in the system's encoding or layout"


class IntakeSystemUnknownError(NotFoundError):
    slug, title = "intake-system-unknown", "No adapter for this system"


class IntakeFileNotFoundError(NotFoundError):
    slug, title = "intake-file-not-found", "No such file report"


class IntakeBrokerUnavailableError(PicError):
    """The broker did not answer or failed (5xx): the run stops; the file stays in the inbox for the next pass."""

    status, slug, title = 503, "intake-broker-unavailable", "The broker is not taking events now"


@dataclass(frozen=True)
class Outgoing:
    """One CloudEvent a record becomes: its type, the ledger key (``<kind>:<record key>``), subject and data."""

    type: str
    kind: str  # person, receipt, fine, appointment
    key: str  # the system's key for the record (local_id, receipt number, expediente...)
    data: dict[str, Any]

    @property
    def ledger_key(self) -> str:
        return f"{self.kind}:{self.key}"


def canonical(data: dict[str, Any]) -> str:
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def event_id(source: str, key: str, data: dict[str, Any]) -> str:
    """Source + record key + content: the same record sent again is the same event (consumers deduplicate it),
    and a changed one is a new event. The same formula as ``local.load_records`` always used for person records."""
    return hashlib.sha256(f"{source}\n{key}\n{canonical(data)}".encode()).hexdigest()[:32]


def content_hash(source: str, item: Outgoing) -> str:
    """What the ledger keeps per record key: the event id, itself a hash of source, key and content."""
    return event_id(source, item.key, item.data)


def file_id(system: str, content: bytes) -> str:
    """A file's id: its system and the SHA-256 of its bytes (the same file dropped twice has one report)."""
    return f"{system}-{hashlib.sha256(content).hexdigest()[:20]}"


@dataclass(frozen=True)
class BadLine:
    line: int
    reason: str
    raw: str

    def as_json(self, *, raw: bool = True) -> dict[str, Any]:
        body: dict[str, Any] = {"line": self.line, "reason": self.reason}
        if raw:
            body["raw"] = self.raw[:MAX_RAW_KEPT]
        return body


@dataclass
class Report:
    """A file's report: what was loaded, what was already there (unchanged), what was refused and why."""

    file_id: str
    system: str
    name: str
    received_at: datetime
    status: str = "queued"  # queued, done, refused
    format: str | None = None
    encoding: str | None = None
    reason: str | None = None  # a refused file's
    records: int = 0
    loaded: int = 0
    unchanged: int = 0
    refused: int = 0
    events_sent: int = 0
    bad_lines: list[BadLine] = field(default_factory=list)
    finished_at: datetime | None = None
    runs: int = 0

    def bad(self, line: BadLine) -> None:
        self.refused += 1
        if len(self.bad_lines) < MAX_BAD_LINES_KEPT:
            self.bad_lines.append(line)

    def as_json(self, *, raw: bool = True) -> dict[str, Any]:
        body = asdict(self)
        body["received_at"] = self.received_at.isoformat()
        body["finished_at"] = self.finished_at.isoformat() if self.finished_at else None
        body["bad_lines"] = [b.as_json(raw=raw) for b in self.bad_lines]
        body["bad_lines_kept"] = len(self.bad_lines)
        return body

    def summary(self) -> dict[str, Any]:
        keys = ("file_id", "system", "name", "status", "records", "loaded", "unchanged", "refused", "reason")
        body = {k: getattr(self, k) for k in keys}
        return {
            **body,
            "received_at": self.received_at.isoformat(),
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
        }

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> Report:
        doc = dict(doc)
        doc.pop("bad_lines_kept", None)
        doc["received_at"] = datetime.fromisoformat(doc["received_at"])
        doc["finished_at"] = datetime.fromisoformat(doc["finished_at"]) if doc.get("finished_at") else None
        doc["bad_lines"] = [BadLine(b["line"], b["reason"], b.get("raw", "")) for b in doc.get("bad_lines", [])]
        return cls(**doc)


# ---- the ports ---------------------------------------------------------------------------------------------------


class IntakeStore(Protocol):
    """The ledger and the reports (table ``intake``)."""

    def fetch_hashes(self, system: str, keys: list[str]) -> dict[str, str]:
        """The hash last sent for each ledger key that has one (keys: ``<kind>:<record key>``)."""
        ...

    def put_hashes(self, system: str, hashes: dict[str, str], file_id: str) -> None: ...

    def fetch_report(self, file_id: str) -> Report | None: ...

    def put_report(self, report: Report) -> None: ...

    def fetch_reports(self, system: str | None, limit: int) -> list[Report]:
        """The newest reports first (of one system, or of all)."""
        ...


class Publisher(Protocol):
    """Posts one CloudEvent to the broker as the system's sender. Raises ``IntakeBrokerUnavailableError`` when the
    broker cannot take it now (the run stops); answers the refusal's text when the broker refused this event
    (a 4xx: the record becomes a dead letter), None when accepted."""

    def publish(self, sender: str, source: str, event_id: str, item: Outgoing) -> str | None: ...
