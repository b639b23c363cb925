"""A persistent local Knative Broker: ingress, Trigger fan-out, retries with backoff, dead letters.

Semantics follow Knative Eventing, driven by the Trigger manifests of ``infra/k8s``: at-least-once
delivery in binary mode; 404/408/409/429/5xx and network errors are retried ``delivery.retry`` times
with ``backoffPolicy``/``backoffDelay``; other answers, or exhausted retries, go to the dead-letter
sink with ``knativeerrorcode``/``knativeerrordata``/``knativeerrordest``. State lives in SQLite in the
data directory, so nothing is lost across restarts.
"""

from __future__ import annotations

import base64
import json
import os
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import requests
from cloudevents import exceptions as ce_errors
from cloudevents.http import CloudEvent, from_http

from functions.core import jsontext, wake
from functions.core.errors import PicError
from local.manifests import Trigger, trigger_subject
from local.senders import SenderPolicies

RETRYABLE = {404, 408, 409, 429}
DEAD_LETTER_BROKER = "Broker/pic-deadletters"
INGRESS_BROKER = "pic"

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY, id TEXT, source TEXT, type TEXT,
    received_at REAL, event TEXT);
CREATE TABLE IF NOT EXISTS deliveries (id INTEGER PRIMARY KEY, trigger TEXT, event TEXT, attempt INTEGER,
    next_at REAL, claimed_until REAL DEFAULT 0, last_error TEXT);
CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries (next_at);
CREATE TABLE IF NOT EXISTS deadletters (id INTEGER PRIMARY KEY, trigger TEXT, subscriber TEXT, event TEXT,
    code INTEGER, reason TEXT, attempts INTEGER, dead_at REAL, replayed_at REAL);
CREATE TABLE IF NOT EXISTS heartbeat (part TEXT PRIMARY KEY, at REAL);
"""


class InvalidCloudEventError(ValueError):
    """The request is not a CloudEvent 1.0 (missing or invalid required attributes)."""


class MalformedCloudEventError(InvalidCloudEventError):
    """The request cannot even be read: not UTF-8, not JSON, or JSON nested deeper than the broker reads."""


# ---- ingress limits (docs/decisions/0011): what the broker refuses before anything is stored ----------
MAX_EVENT_BYTES = 256 * 1024  # the body of one event, binary or structured (EventBridge's and SQS's limit)
MAX_JSON_DEPTH = 64  # arrays/objects inside one another, in a structured envelope or JSON data
ATTRIBUTE_LIMITS = {"id": 256, "source": 512, "type": 256, "subject": 512}  # characters
MAX_OTHER_ATTRIBUTE = 2048  # characters, any other attribute (dataschema, extensions)
CORE_ATTRIBUTES = {"specversion", "id", "source", "type", "datacontenttype", "dataschema", "subject", "time"}
EXTENSION_NAME = re.compile(r"[a-z0-9]{1,20}")  # CloudEvents 1.0: a-z0-9; SHOULD be at most 20 characters
RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")
NOT_ALLOWED_CHARACTERS = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff]")


def _read_json(body: bytes, what: str) -> Any:
    """``body`` as JSON, read the platform's one way (``functions.core.jsontext``: strict UTF-8, I-JSON, at
    most ``MAX_JSON_DEPTH`` levels) before the CloudEvents SDK's parser, which recurses, sees it."""
    try:
        return jsontext.loads(body, max_depth=MAX_JSON_DEPTH)
    except jsontext.JsonTextError as exc:
        raise MalformedCloudEventError(f"{what}: {exc}") from exc


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or media.endswith("+json") or media == "text/json"


def check_envelope(headers: dict[str, str], body: bytes) -> None:
    """Refuse what must not reach a parser: a body over the limit, undecodable or too deep JSON, and
    extension names CloudEvents 1.0 does not allow (binary-mode headers; structured-mode members)."""
    if len(body) > MAX_EVENT_BYTES:
        raise InvalidCloudEventError(f"the event is larger than {MAX_EVENT_BYTES} bytes")
    lowered = {k.lower(): v for k, v in headers.items()}
    content_type = lowered.get("content-type", "")
    if content_type.split(";", 1)[0].strip().lower() == "application/cloudevents+json":
        envelope = _read_json(body, "the structured event")
        if not isinstance(envelope, dict):
            raise MalformedCloudEventError("the structured event is not a JSON object")
        _check_names(k for k in envelope if k not in ("data", "data_base64"))
        return
    _check_names(k[3:] for k in lowered if k.startswith("ce-"))
    if body and _is_json(content_type):
        _read_json(body, "the data")


def _check_names(names: Any) -> None:
    for name in names:
        if name not in CORE_ATTRIBUTES and not EXTENSION_NAME.fullmatch(name):
            raise InvalidCloudEventError(
                f"attribute name {name[:40]!r} is not valid: CloudEvents attribute names are a-z and 0-9, at most 20"
            )


def check_attributes(attrs: Mapping[str, Any]) -> None:
    """Sizes, characters and ``time`` of a parsed event's attributes."""
    for name, value in attrs.items():
        text = value if isinstance(value, str) else str(value)
        limit = ATTRIBUTE_LIMITS.get(name, MAX_OTHER_ATTRIBUTE)
        if len(text) > limit:
            raise InvalidCloudEventError(f"attribute {name!r} is longer than {limit} characters")
        if NOT_ALLOWED_CHARACTERS.search(text):
            raise InvalidCloudEventError(f"attribute {name!r} holds a control or non-character code point")
    time_ = attrs.get("time")
    if time_ is not None and not _is_rfc3339(str(time_)):
        raise InvalidCloudEventError(f"attribute 'time' must be an RFC 3339 timestamp, not {str(time_)[:40]!r}")


def _is_rfc3339(text: str) -> bool:
    if not RFC3339.fullmatch(text):
        return False
    try:
        datetime.fromisoformat(text.upper().replace("Z", "+00:00"))
    except ValueError:  # 2026-02-30, 25:00...
        return False
    return True


def parse_event(headers: dict[str, str], body: bytes) -> dict[str, Any]:
    """A binary- or structured-mode request as one structured dict (attributes + ``data``), within the
    ingress limits."""
    check_envelope(headers, body)
    try:
        event = from_http(headers, body)
    except (ce_errors.MissingRequiredFields, ce_errors.InvalidRequiredFields, ce_errors.DataUnmarshallerError) as exc:
        raise InvalidCloudEventError(str(exc)) from exc
    attrs = event.get_attributes()
    if attrs.get("specversion") != "1.0":
        raise InvalidCloudEventError(f"specversion must be 1.0, not {attrs.get('specversion')}")
    for name in ("id", "source", "type"):
        if not str(attrs.get(name) or "").strip():
            raise InvalidCloudEventError(f"required attribute {name!r} is empty")
    check_attributes(attrs)
    return _structured(event)


def _structured(event: CloudEvent) -> dict[str, Any]:
    out: dict[str, Any] = {k: v for k, v in event.get_attributes().items()}
    data = event.get_data()
    if isinstance(data, bytes):
        out["data_base64"] = base64.b64encode(data).decode()
    elif data is not None:
        out["data"] = data
    return out


def binary_request(event: dict[str, Any]) -> tuple[dict[str, str], bytes]:
    """Headers and body of ``event`` in binary content mode."""
    headers = {"content-type": event.get("datacontenttype", "application/json")}
    for key, value in event.items():
        if key not in ("data", "data_base64", "datacontenttype"):
            headers[f"ce-{key}"] = str(value)
    if "traceparent" in event:
        headers["traceparent"] = str(event["traceparent"])
    if "data_base64" in event:
        return headers, base64.b64decode(event["data_base64"])
    data = event.get("data")
    if data is None:
        return headers, b""
    if isinstance(data, str) and "json" not in headers["content-type"]:
        return headers, data.encode()
    return headers, json.dumps(data).encode()


class BrokerStore:
    """The broker's persistent state. Safe to use from several processes (SQLite WAL)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        self._beats: dict[str, float] = {}
        self._db().executescript(SCHEMA)

    def _db(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            self._local.db = db
        return db

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        db = self._db()
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def ingest(self, event: dict[str, Any], triggers: list[Trigger]) -> int:
        """Record the event and one delivery per matching trigger, atomically; returns the fan-out."""
        matching = [t for t in triggers if t.broker == INGRESS_BROKER and t.matches(event)]
        now = time.time()
        payload = json.dumps(event)
        with self._tx() as db:
            db.execute(
                "INSERT INTO events (id, source, type, received_at, event) VALUES (?, ?, ?, ?, ?)",
                (event["id"], event["source"], event["type"], now, payload),
            )
            db.executemany(
                "INSERT INTO deliveries (trigger, event, attempt, next_at) VALUES (?, ?, 0, ?)",
                [(t.name, payload, now) for t in matching],
            )
        if matching and (address := os.environ.get("PIC_BROKER_WAKE")):
            wake.ping(address, "broker")  # the dispatcher claims it now, not after its idle wait (ADR 0017)
        return len(matching)

    def claim_due(self, limit: int, lease: float = 60.0) -> list[tuple[int, str, dict[str, Any], int]]:
        now = time.time()
        with self._tx() as db:
            rows = db.execute(
                "UPDATE deliveries SET claimed_until = ? WHERE id IN (SELECT id FROM deliveries "
                "WHERE next_at <= ? AND claimed_until < ? ORDER BY next_at LIMIT ?) "
                "RETURNING id, trigger, event, attempt",
                (now + lease, now, now, limit),
            ).fetchall()
        return [(r[0], r[1], json.loads(r[2]), r[3]) for r in rows]

    def delivered(self, delivery_id: int) -> None:
        self._db().execute("DELETE FROM deliveries WHERE id = ?", (delivery_id,))

    def retry_later(self, delivery_id: int, attempt: int, at: float, error: str) -> None:
        self._db().execute(
            "UPDATE deliveries SET attempt = ?, next_at = ?, claimed_until = 0, last_error = ? WHERE id = ?",
            (attempt, at, error, delivery_id),
        )

    def dead_letter(
        self, delivery_id: int, trigger: Trigger, event: dict[str, Any], code: int, reason: str, attempts: int
    ) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT INTO deadletters (trigger, subscriber, event, code, reason, attempts, dead_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (trigger.name, trigger.subscriber, json.dumps(event), code, reason, attempts, time.time()),
            )
            db.execute("DELETE FROM deliveries WHERE id = ?", (delivery_id,))

    def drop(self, delivery_id: int) -> None:
        self.delivered(delivery_id)

    def deadletters(self, limit: int = 100) -> list[dict[str, Any]]:
        rows = (
            self._db()
            .execute(
                "SELECT id, trigger, subscriber, event, code, reason, attempts, dead_at, replayed_at FROM deadletters "
                "ORDER BY id DESC LIMIT ?",
                (limit,),
            )
            .fetchall()
        )
        keys = ("id", "trigger", "subscriber", "event", "code", "reason", "attempts", "dead_at", "replayed_at")
        return [{**dict(zip(keys, r, strict=True)), "event": json.loads(r[3])} for r in rows]

    def deadletter(self, deadletter_id: int) -> dict[str, Any] | None:
        """One dead letter (its event without the knativeerror* attributes), or None."""
        row = self._db().execute("SELECT trigger, event FROM deadletters WHERE id = ?", (deadletter_id,)).fetchone()
        if row is None:
            return None
        event = {k: v for k, v in json.loads(row[1]).items() if not k.startswith("knativeerror")}
        return {"id": deadletter_id, "trigger": row[0], "event": event}

    def replay(self, deadletter_id: int) -> dict[str, Any] | None:
        """Re-deliver a dead letter to the trigger that failed it, as a fresh delivery."""
        with self._tx() as db:
            row = db.execute("SELECT trigger, event FROM deadletters WHERE id = ?", (deadletter_id,)).fetchone()
            if row is None:
                return None
            event = {k: v for k, v in json.loads(row[1]).items() if not k.startswith("knativeerror")}
            db.execute(
                "INSERT INTO deliveries (trigger, event, attempt, next_at) VALUES (?, ?, 0, ?)",
                (row[0], json.dumps(event), time.time()),
            )
            db.execute("UPDATE deadletters SET replayed_at = ? WHERE id = ?", (time.time(), deadletter_id))
        return {"id": deadletter_id, "trigger": row[0], "event_id": event["id"]}

    def recent_events(self, limit: int = 100, type_: str | None = None) -> list[dict[str, Any]]:
        query = "SELECT event, received_at FROM events"
        args: tuple[Any, ...] = ()
        if type_:
            query += " WHERE type = ?"
            args = (type_,)
        rows = self._db().execute(query + " ORDER BY seq DESC LIMIT ?", (*args, limit)).fetchall()
        return [{**json.loads(r[0]), "pic_received_at": r[1]} for r in rows]

    def release_claims(self) -> None:
        """On start: deliveries claimed by a process that died are due again (at-least-once)."""
        self._db().execute("UPDATE deliveries SET claimed_until = 0")

    def pending(self) -> int:
        return int(self._db().execute("SELECT count(*) FROM deliveries").fetchone()[0])

    def pending_deliveries(self, limit: int = 1000) -> list[dict[str, Any]]:
        """Deliveries not done yet (due, in flight or waiting for a retry), with their events, oldest first."""
        rows = (
            self._db()
            .execute(
                "SELECT trigger, event, attempt, next_at, last_error FROM deliveries ORDER BY id LIMIT ?", (limit,)
            )
            .fetchall()
        )
        keys = ("trigger", "event", "attempt", "next_at", "last_error")
        return [{**dict(zip(keys, r, strict=True)), "event": json.loads(r[1])} for r in rows]

    def beat(self, part: str) -> None:
        """Record that ``part`` is alive (at most once a second: it is a write)."""
        now = time.time()
        if now - self._beats.get(part, 0.0) < 1.0:
            return
        self._beats[part] = now
        self._db().execute("INSERT OR REPLACE INTO heartbeat (part, at) VALUES (?, ?)", (part, now))

    def heartbeats(self) -> dict[str, float]:
        return {r[0]: r[1] for r in self._db().execute("SELECT part, at FROM heartbeat").fetchall()}


@dataclass
class Outcome:
    ok: bool
    code: int
    detail: str
    reply: dict[str, Any] | None = None


class Dispatcher:
    """Delivers due deliveries to subscribers over HTTP, with a pool of workers.

    Each delivery carries the dispatcher's token for its subscriber (``delivery_token``): the gateway serves
    event functions only to it. A subscriber's reply is sent back to Broker ``pic`` with its Trigger's
    identity, so it is admitted only if an EventPolicy of ``reply_policies`` admits that Trigger (none does:
    PIC's functions do not reply); a refused reply fails the delivery with the reason, as in Knative.
    """

    def __init__(
        self,
        store: BrokerStore,
        triggers: list[Trigger],
        base_url: str,
        workers: int = 16,
        delivery_token: Callable[[str], str] | None = None,
        reply_policies: SenderPolicies | None = None,
    ) -> None:
        self.store = store
        self.delivery_token = delivery_token
        self.reply_policies = reply_policies or SenderPolicies(INGRESS_BROKER, ())
        self.triggers = {t.name: t for t in triggers}
        self.all_triggers = triggers
        self.base_url = base_url.rstrip("/")
        self.workers = workers
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="broker")
        self._local = threading.local()
        self._inflight = threading.Semaphore(workers * 2)
        self._woken = threading.Event()  # the ingress recorded deliveries (PIC_BROKER_WAKE)

    def listen_for_wakes(self, address: str, stop: threading.Event) -> None:
        """Wake on the ingress' datagrams (``BrokerStore.ingest``) instead of waiting out the idle poll."""
        listener = wake.WakeListener.on(address)
        threading.Thread(
            target=listener.serve, args=(lambda _: self._woken.set(), stop.is_set), name="broker-wake", daemon=True
        ).start()

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
        return session

    def subscriber_url(self, trigger: Trigger) -> str:
        return f"{self.base_url}/_ksvc/{trigger.subscriber}{trigger.subscriber_path}"

    def send(self, trigger: Trigger, event: dict[str, Any]) -> Outcome:
        headers, body = binary_request(event)
        if self.delivery_token is not None:
            headers["Authorization"] = f"Bearer {self.delivery_token(trigger.subscriber)}"
        try:
            response = self._session().post(self.subscriber_url(trigger), data=body, headers=headers, timeout=30)
        except requests.RequestException as exc:
            return Outcome(False, 0, f"subscriber unreachable: {exc}")
        if 200 <= response.status_code < 300:
            reply = None
            if response.headers.get("ce-id"):
                try:
                    reply = parse_event(dict(response.headers), response.content)
                except InvalidCloudEventError:
                    reply = None
            return Outcome(True, response.status_code, "", reply)
        return Outcome(False, response.status_code, response.text[:4000])

    def deliver(self, delivery_id: int, trigger_name: str, event: dict[str, Any], attempt: int) -> None:
        try:
            trigger = self.triggers.get(trigger_name)
            if trigger is None:  # the manifest was removed: keep the event, say why
                self.store.dead_letter(
                    delivery_id, _orphan(trigger_name), event, 0, "trigger no longer exists", attempt
                )
                return
            outcome = self.send(trigger, event)
            if outcome.ok and outcome.reply:
                try:
                    self.reply_policies.authorize(trigger_subject(trigger.name), outcome.reply)
                except PicError as refused:
                    outcome = Outcome(False, refused.status, f"the reply was refused: {refused.detail}")
            if outcome.ok:
                self.store.delivered(delivery_id)
                if outcome.reply:
                    self.store.ingest(outcome.reply, self.all_triggers)
                return
            retryable = outcome.code == 0 or outcome.code >= 500 or outcome.code in RETRYABLE
            if retryable and attempt < trigger.delivery.retry:
                at = time.time() + trigger.delivery.delay(attempt)
                self.store.retry_later(delivery_id, attempt + 1, at, f"{outcome.code}: {outcome.detail[:500]}")
            elif trigger.delivery.dead_letter_sink:
                dead = {
                    **event,
                    "knativeerrorcode": str(outcome.code),
                    "knativeerrordata": base64.b64encode(outcome.detail.encode()).decode(),
                    "knativeerrordest": self.subscriber_url(trigger),
                }
                self.store.dead_letter(delivery_id, trigger, dead, outcome.code, outcome.detail, attempt + 1)
            else:  # Knative drops undeliverable events without a dead-letter sink
                self.store.drop(delivery_id)
        finally:
            self._inflight.release()

    def run(self, stop: threading.Event, idle: float = 0.005, max_idle: float = 0.05) -> None:
        """Claim due deliveries and hand them to the workers; poll less often while idle."""
        wait = idle
        while not stop.is_set():
            self.store.beat("broker")
            claimed = self.store.claim_due(self.workers * 2)
            for delivery in claimed:
                self._inflight.acquire()
                self._pool.submit(self.deliver, *delivery)
            if claimed:
                wait = idle
            elif self._woken.wait(wait):  # the ingress recorded deliveries: claim them at once
                self._woken.clear()
                wait = idle
            else:
                wait = min(wait * 2, max_idle)
        self._pool.shutdown(wait=True)


def _orphan(name: str) -> Trigger:
    return Trigger(name=name, broker=INGRESS_BROKER, filters={}, subscriber="(removed)", subscriber_path="/")
