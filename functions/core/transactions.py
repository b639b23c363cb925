"""Atomic units of work on a store that has only single-item conditional writes (ADR 0005).

ScyllaDB Alternator, the private cloud's DynamoDB-compatible store, has no ``TransactWriteItems``
(scylladb/scylladb#5064) but does have linearizable single-item conditional writes. On it
(``PIC_STORE_TRANSACTIONS=emulated``) a unit of work commits with the protocol of awslabs'
DynamoDB transactions library, item locks plus a transaction record:

1. **record** — one ``pending`` record in the ``transactions`` table holds every write to apply;
2. **lock** — each item, in key order, gets ``_pic_tx`` (the owner) with the write's own condition, in
   one conditional ``UpdateItem``: a failed condition aborts the unit exactly as a cancelled
   transaction would; an item that did not exist is created as a *transient* stub (``_pic_tx_new``)
   that readers never see;
3. **commit** — the record turns ``committed`` with one conditional write: the commit point;
4. **apply** — each write lands fenced on ``_pic_tx`` still naming this unit (so it lands once, and a
   late writer can never overwrite a newer value), removing the lock;
5. **forget** — the record is deleted.

A unit that crashed leaves a record: after the lease (``PIC_TX_LEASE_SECONDS``) anyone who meets one of
its locks, and the relay's periodic sweep, finishes it — rolls it forward if committed, releases its
locks if not. Readers see a unit all at once, at its commit point: before it, the previous values; after
it, a read that meets a write not yet applied helps the unit finish first (``as_committed``).
"""

from __future__ import annotations

import base64
import json
import random
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from botocore.exceptions import ClientError
from pynamodb.attributes import BinaryAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.constants import ITEM, KEY
from pynamodb.exceptions import PynamoDBException
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.operand import Path
from pynamodb.expressions.update import Action
from pynamodb.models import Model

from functions.core.errors import LostRaceError
from functions.core.logging import get_logger
from functions.core.settings import get_settings
from functions.core.store import StoreModel, defines_table, model_meta

log = get_logger()

OWNER = "_pic_tx"  # the unit of work holding the item
LOCKED_AT = "_pic_tx_at"  # when it took it (epoch seconds): a lock older than the lease may be recovered
TRANSIENT = "_pic_tx_new"  # BOOL true on a stub created by a lock: the item does not exist yet
LOCK_ATTRIBUTES = (OWNER, LOCKED_AT, TRANSIENT)
TRANSIENT_VALUE = {"BOOL": True}
PART_BYTES = 350_000  # a record's payload per item: DynamoDB (and Alternator) take 400 KB an item
RECORD_TTL_SECONDS = 86_400  # a record abandoned in every way expires anyway

T = TypeVar("T")


class ConditionFailedError(Exception):
    """A write's own condition did not hold: the unit of work is cancelled; ``tag`` names the write."""

    def __init__(self, tag: str) -> None:
        super().__init__(tag)
        self.tag = tag


@defines_table
class TransactionRecord(StoreModel):
    """A unit of work in flight: ``pending`` until its commit point, then ``committed`` until applied.

    The payload (the writes, compressed) is split over ``parts`` items when it is larger than one item
    may be; part ``n`` is stored under ``{id}#{n}``. Only used where ``PIC_STORE_TRANSACTIONS=emulated``.
    """

    Meta = model_meta("transactions")

    id = UnicodeAttribute(hash_key=True)
    state = UnicodeAttribute()  # pending | committed | aborted | part
    created_at = NumberAttribute()
    parts = NumberAttribute(default=1)
    payload = BinaryAttribute(legacy_encoding=False)
    expires_at = NumberAttribute()


@dataclass
class Write:
    """One write of a unit, as the store takes it: the lock, the fenced apply, and how to release it."""

    table: str
    key: dict[str, Any]
    tag: str
    locks: list[tuple[bool, dict[str, Any]]]  # (creates the item?, the UpdateItem) in the order to try
    apply_operation: str  # PutItem | DeleteItem | UpdateItem
    apply: dict[str, Any]
    model: Model | None = None
    bumps_version: bool = False
    existed: bool | None = None

    @property
    def sort_key(self) -> str:
        return self.table + json.dumps(self.key, sort_keys=True, default=str)

    def as_payload(self) -> dict[str, Any]:
        """What recovery needs: where the item is and how to apply the write (not how to lock it)."""
        return {"table": self.table, "key": self.key, "tag": self.tag, "op": self.apply_operation, "kwargs": self.apply}

    @classmethod
    def from_payload(cls, raw: dict[str, Any]) -> Write:
        return cls(raw["table"], raw["key"], raw["tag"], [], raw["op"], raw["kwargs"])


# ---- building the writes from pynamodb models -------------------------------------------------------


def fence(tx_id: str) -> Condition:
    """The condition every apply and release carries: the item is still locked by this unit."""
    return Path(OWNER) == tx_id


def _lock_actions(tx_id: str, creates: bool) -> list[Action]:
    actions: list[Action] = [Path(OWNER).set(tx_id), Path(LOCKED_AT).set(time.time())]
    return [*actions, Path(TRANSIENT).set(True)] if creates else actions


def _expects_new(condition: Condition | None) -> bool:
    """A write conditioned on the item's absence most likely creates it: try that lock first."""
    return condition is not None and "attribute_not_exists" in repr(condition)


def _unlock_actions() -> list[Action]:
    return [Path(name).remove() for name in LOCK_ATTRIBUTES]


def build_write(
    kind: str, model: Model, condition: Condition | None, actions: list[Action] | None, tag: str, tx_id: str
) -> Write:
    """The lock and the fenced apply of one ``put``/``delete``/``update``, with the model's version
    attribute handled as pynamodb's ``TransactWrite`` does (condition on the loaded version, bump it)."""
    table_connection = type(model)._get_connection()
    hk, rk = model._get_hash_range_key_serialized_values()
    key_kwargs = table_connection.get_operation_kwargs(hk, range_key=rk, key=KEY)
    table, key = key_kwargs["TableName"], key_kwargs["Key"]
    guard = condition
    if kind == "put":
        args, save = model._get_save_args(condition=condition)
        guard = save["condition"]
        apply = table_connection.get_operation_kwargs(
            next(iter(args)),
            range_key=save.get("range_key"),
            key=ITEM,
            attributes=save["attributes"],
            condition=fence(tx_id),
        )
        operation = "PutItem"
    elif kind == "delete":
        version = model._handle_version_attribute()
        if version is not None:
            guard = version if guard is None else guard & version
        apply = table_connection.get_operation_kwargs(hk, range_key=rk, key=KEY, condition=fence(tx_id))
        operation = "DeleteItem"
    else:
        changes = list(actions or [])
        version = model._handle_version_attribute(actions=changes)
        if version is not None:
            guard = version if guard is None else guard & version
        apply = table_connection.get_operation_kwargs(
            hk, range_key=rk, key=KEY, actions=changes + _unlock_actions(), condition=fence(tx_id)
        )
        operation = "UpdateItem"
    # Two locks, one per case, so that a stub is marked in the same write that creates it: the item
    # exists (and nobody holds it), or it does not (and then nobody can hold it).
    hash_key = Path(type(model).get_attributes()[str(type(model)._hash_keyname)].attr_name)
    locks = []
    for creates in (False, True):
        state = hash_key.does_not_exist() if creates else hash_key.exists() & Path(OWNER).does_not_exist()
        lock = table_connection.get_operation_kwargs(
            hk,
            range_key=rk,
            key=KEY,
            actions=_lock_actions(tx_id, creates),
            condition=state if guard is None else state & guard,
        )
        locks.append((creates, lock))
    if _expects_new(guard):
        locks.reverse()
    return Write(table, key, tag, locks, operation, apply, model, bumps_version=kind != "delete")


# ---- the payload: JSON (bytes as base64), compressed ---------------------------------------------------


def _encode(value: Any) -> Any:
    if isinstance(value, bytes):
        return {"__b64__": base64.b64encode(value).decode()}
    if isinstance(value, dict):
        return {k: _encode(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_encode(v) for v in value]
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"__b64__"}:
            return base64.b64decode(value["__b64__"])
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


def pack(writes: list[Write]) -> list[bytes]:
    blob = zlib.compress(json.dumps([_encode(w.as_payload()) for w in writes]).encode(), 6)
    return [blob[i : i + PART_BYTES] for i in range(0, len(blob), PART_BYTES)] or [b""]


def unpack(parts: list[bytes]) -> list[Write]:
    return [Write.from_payload(_decode(raw)) for raw in json.loads(zlib.decompress(b"".join(parts)))]


# ---- the protocol ---------------------------------------------------------------------------------------


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _is_condition_failure(exc: Exception) -> bool:
    return isinstance(exc, ClientError) and _code(exc) == "ConditionalCheckFailedException"


def _backoff() -> Iterator[float]:
    """2 ms doubling to 50 ms with jitter, for ever (callers stop at their deadline): a unit holds its
    locks for a few store calls, so waiters should look again soon, and not all at once."""
    delay = 0.002
    while True:
        yield delay * random.uniform(0.5, 1.5)  # noqa: S311 - jitter, not a secret
        delay = min(delay * 2, 0.05)


class Coordinator:
    """Runs the protocol over one pynamodb ``Connection`` (``dispatch`` of raw DynamoDB operations)."""

    def __init__(self, connection: Any, records: type[TransactionRecord] = TransactionRecord) -> None:
        self.connection = connection
        self.records = records
        self.lease = get_settings().tx_lease_seconds

    # -- committing ------------------------------------------------------------------------------------

    def commit(self, writes: list[Write], tx_id: str) -> None:
        """Apply every write or none; ``ConditionFailedError`` names the first write whose condition failed."""
        keys = [w.sort_key for w in writes]
        if len(set(keys)) != len(keys):
            raise ValueError("a unit of work touches the same item twice (DynamoDB refuses it too)")
        writes = sorted(writes, key=lambda w: w.sort_key)  # one global order: no two units wait on each other
        parts = self._write_record(tx_id, writes)
        locked: list[Write] = []
        try:
            for write in writes:
                write.existed = self._acquire(write, tx_id)
                locked.append(write)
            self._mark_committed(tx_id)
        except BaseException:
            if not self._committed(tx_id):  # a lost answer to the commit point is not a failure
                self._release(tx_id, locked)
                self._forget(tx_id, parts)
                raise
        for write in writes:
            self._apply(write)
            if write.bumps_version and write.model is not None:
                write.model.update_local_version_attribute()  # type: ignore[no-untyped-call]
        self._forget(tx_id, parts)

    def _acquire(self, write: Write, tx_id: str) -> bool:
        """Lock ``write``'s item under its condition; True if the item existed before."""

        def lock() -> bool:
            failed: ClientError | None = None
            for creates, request in write.locks:  # the variant that creates the item, and the other one
                try:
                    self.connection.dispatch("UpdateItem", dict(request))
                    return not creates
                except ClientError as exc:
                    if not _is_condition_failure(exc):
                        raise
                    failed = exc
            assert failed is not None  # a write always has both variants
            raise failed

        def existed(current: dict[str, Any]) -> bool:
            return current.get(TRANSIENT) != TRANSIENT_VALUE

        return self.until_unlocked(write.table, write.key, lock, write.tag, own_lock=(tx_id, existed))

    def until_unlocked(
        self,
        table: str,
        key: dict[str, Any],
        attempt: Callable[[], T],
        tag: str,
        *,
        own_lock: tuple[str, Callable[[dict[str, Any]], T]] | None = None,
    ) -> T:
        """Run a conditional write that also requires the item unlocked (a lock, or a unit of one put) until
        it lands, waiting out or recovering another unit's lock on the item. A failure on an unlocked item,
        seen twice, is the write's own condition: ``ConditionFailedError`` naming ``tag``. ``own_lock``
        (this unit's id, and what to answer) is for an attempt whose lock landed but whose answer was lost."""
        deadline = time.monotonic() + self.lease + 2.0
        unlocked_failures = 0
        for delay in _backoff():
            try:
                return attempt()
            except ClientError as exc:
                if not _is_condition_failure(exc):
                    raise
            current = self._get(table, key)
            owner = current.get(OWNER, {}).get("S")
            if own_lock is not None and owner == own_lock[0]:
                return own_lock[1](current)
            if owner is None:
                unlocked_failures += 1
                if unlocked_failures >= 2:
                    raise ConditionFailedError(tag)
                continue
            self._wait_or_recover(owner, current, table, key, deadline, delay)
        raise AssertionError("unreachable")  # pragma: no cover - _backoff never ends

    def _wait_or_recover(
        self, owner: str, current: dict[str, Any], table: str, key: dict[str, Any], deadline: float, delay: float
    ) -> None:
        """Another unit holds the item: recover it if its lease ran out, else wait a little (or give up)."""
        if time.time() - float(current.get(LOCKED_AT, {}).get("N", "0")) > self.lease:
            self.recover(owner, table, key)
            return
        if time.monotonic() > deadline:
            raise LostRaceError("another unit of work holds this item; retry")
        time.sleep(delay)

    def _apply(self, write: Write) -> None:
        """Fenced: a write already applied (by a recovery that ran meanwhile) is not applied again."""
        try:
            self.connection.dispatch(write.apply_operation, dict(write.apply))
        except ClientError as exc:
            if not _is_condition_failure(exc):
                raise

    def _release(self, tx_id: str, writes: list[Write]) -> None:
        for write in writes:
            self.release(tx_id, write.table, write.key, existed=write.existed)

    def release(self, tx_id: str, table: str, key: dict[str, Any], existed: bool | None = None) -> None:
        """Undo a lock of ``tx_id``: delete the stub it created, or remove the lock from the item."""
        names = {"#o": OWNER, "#n": TRANSIENT}
        if existed is not True:
            try:
                self.connection.dispatch(
                    "DeleteItem",
                    {
                        "TableName": table,
                        "Key": key,
                        "ConditionExpression": "#o = :o AND #n = :n",
                        "ExpressionAttributeNames": names,
                        "ExpressionAttributeValues": {":o": {"S": tx_id}, ":n": TRANSIENT_VALUE},
                    },
                )
                return
            except ClientError as exc:
                if not _is_condition_failure(exc):
                    raise
        try:
            self.connection.dispatch(
                "UpdateItem",
                {
                    "TableName": table,
                    "Key": key,
                    "UpdateExpression": "REMOVE #o, #t, #n",
                    "ConditionExpression": "#o = :o",
                    "ExpressionAttributeNames": {**names, "#t": LOCKED_AT},
                    "ExpressionAttributeValues": {":o": {"S": tx_id}},
                },
            )
        except ClientError as exc:
            if not _is_condition_failure(exc):
                raise

    # -- the record ------------------------------------------------------------------------------------

    def _write_record(self, tx_id: str, writes: list[Write]) -> int:
        parts = pack(writes)
        now = time.time()
        expires = int(now) + RECORD_TTL_SECONDS
        for n, part in enumerate(parts[1:], start=1):
            self.records(f"{tx_id}#{n}", state="part", created_at=now, payload=part, expires_at=expires).save()
        record = self.records(
            tx_id, state="pending", created_at=now, parts=len(parts), payload=parts[0], expires_at=expires
        )
        record.save(condition=self.records.id.does_not_exist())
        return len(parts)

    def _mark_committed(self, tx_id: str) -> None:
        """The commit point. It fails only if a recovery aborted this unit after its lease ran out."""
        try:
            self.records(tx_id).update(
                actions=[self.records.state.set("committed")], condition=self.records.state == "pending"
            )
        except PynamoDBException as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                raise LostRaceError("this unit of work outlived its lease and was rolled back; retry") from exc
            raise

    def _committed(self, tx_id: str) -> bool:
        record = self._record(tx_id)
        return record is not None and record.state == "committed"

    def _forget(self, tx_id: str, parts: int | None = None) -> None:
        """Delete the record (and its parts): the unit is over. ``parts`` saves a read when known."""
        if parts is None:
            record = self._record(tx_id)
            if record is None:
                return
            parts = int(record.parts)
        for n in range(1, parts):
            self.records(f"{tx_id}#{n}").delete()
        self.records(tx_id).delete()

    def _record(self, tx_id: str) -> TransactionRecord | None:
        try:
            return self.records.get(tx_id, consistent_read=True)
        except self.records.DoesNotExist:
            return None

    def _writes_of(self, record: TransactionRecord) -> list[Write]:
        parts = [record.payload] + [
            self.records.get(f"{record.id}#{n}", consistent_read=True).payload for n in range(1, int(record.parts))
        ]
        return unpack(parts)

    def _get(self, table: str, key: dict[str, Any]) -> dict[str, Any]:
        answer = self.connection.dispatch("GetItem", {"TableName": table, "Key": key, "ConsistentRead": True})
        return dict(answer.get("Item") or {})

    # -- recovery --------------------------------------------------------------------------------------

    def recover(self, tx_id: str, table: str | None = None, key: dict[str, Any] | None = None) -> str:
        """Finish unit ``tx_id`` whose lease ran out: roll it forward if it passed its commit point,
        otherwise abort it and release its locks. Returns what was done (for logs and tests)."""
        record = self._record(tx_id)
        if record is None:  # aborted and forgotten while this lock was being taken: release it
            if table is not None and key is not None:
                self.release(tx_id, table, key)
            return "released"
        if record.state == "pending":
            if time.time() - float(record.created_at) <= self.lease:
                return "running"
            try:
                record.update(actions=[self.records.state.set("aborted")], condition=self.records.state == "pending")
            except PynamoDBException as exc:
                if exc.cause_response_code != "ConditionalCheckFailedException":
                    raise
                return self.recover(tx_id, table, key)  # it committed (or was aborted) meanwhile
        if record.state == "committed":
            self.finish_committed(tx_id)
            log.warning("recovered a unit of work", extra={"tx": tx_id, "outcome": "rolled-forward"})
            return "rolled-forward"
        for write in self._writes_of(record):
            self.release(tx_id, write.table, write.key)
        if table is not None and key is not None:
            self.release(tx_id, table, key)
        self._forget(tx_id)
        log.warning("recovered a unit of work", extra={"tx": tx_id, "outcome": "rolled-back"})
        return "rolled-back"

    def finish_committed(self, tx_id: str) -> list[Write] | None:
        """Apply every write of ``tx_id`` if it passed its commit point (fenced: each lands once, whoever
        else is applying it); its writes, or ``None`` if it did not commit or is already over."""
        record = self._record(tx_id)
        if record is None or record.state != "committed":
            return None
        writes = self._writes_of(record)
        for write in sorted(writes, key=lambda w: w.sort_key):
            self._apply(write)
        self._forget(tx_id)
        return writes

    def stale_records(self) -> Iterator[TransactionRecord]:
        cutoff = time.time() - self.lease
        yield from self.records.scan(
            (self.records.created_at < cutoff) & (self.records.state != "part"), consistent_read=True
        )

    def sweep(self) -> dict[str, int]:
        """Finish every unit whose lease ran out (the relay runs this periodically)."""
        outcomes: dict[str, int] = {}
        for record in self.stale_records():
            outcome = self.recover(record.id)
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
        return outcomes


# ---- readers never see a transient stub -----------------------------------------------------------------


def _visible(item: dict[str, Any]) -> bool:
    return item.get(TRANSIENT) != TRANSIENT_VALUE


def _matches(write: Write, item: dict[str, Any]) -> bool:
    return all(item.get(name) == value for name, value in write.key.items())


def as_committed(items: list[dict[str, Any]], coordinator: Coordinator | None = None) -> list[dict[str, Any]]:
    """What readers see: each item as the last unit that passed its commit point left it.

    An item locked by a unit still before its commit point shows its previous value (a stub: nothing). One
    locked by a unit past it (still applying, or dead) is shown after the reader helps that unit finish:
    once one write of a unit can be seen, every write of it can — as with ``TransactWriteItems``.
    """
    if not any(OWNER in item for item in items):
        return [item for item in items if _visible(item)]
    if coordinator is None:
        from functions.core.store import connection

        coordinator = Coordinator(connection())
    finished: dict[str, list[Write] | None] = {}
    shown = []
    for item in items:
        owner = item.get(OWNER, {}).get("S")
        if owner is not None:
            if owner not in finished:
                finished[owner] = coordinator.finish_committed(owner)
            writes = finished[owner]
            write = next((w for w in writes or [] if _matches(w, item)), None)
            if write is not None:
                item = coordinator._get(write.table, write.key)
        if item and _visible(item):
            shown.append(item)
    return shown


def hide_transient(parsed: dict[str, Any], **_: Any) -> None:
    """botocore ``after-call`` hook on GetItem, Query, Scan and BatchGetItem answers: ``as_committed``."""
    if "Item" in parsed:
        shown = as_committed([parsed["Item"]])
        if shown:
            parsed["Item"] = shown[0]
        else:
            del parsed["Item"]
    if "Items" in parsed:
        kept = as_committed(parsed["Items"])
        if kept != parsed["Items"]:
            parsed["Items"] = kept
            parsed["Count"] = len(kept)
    for table, items in (parsed.get("Responses") or {}).items():
        if isinstance(items, list):
            parsed["Responses"][table] = as_committed(items)


def project_transient(params: dict[str, Any], **_: Any) -> None:
    """botocore ``before-parameter-build`` hook: a read that projects attributes also asks for the lock
    attributes, or a stub read through a projection would look like an item without those attributes.
    Index queries are left alone: every PIC index is keyed on an attribute a stub does not have."""
    for request in [params, *(params.get("RequestItems") or {}).values()]:
        if isinstance(request, dict) and request.get("ProjectionExpression") and not request.get("IndexName"):
            request["ProjectionExpression"] += ", #pic_transient, #pic_owner"
            names = request.setdefault("ExpressionAttributeNames", {})
            names.update({"#pic_transient": TRANSIENT, "#pic_owner": OWNER})


def install_reader_filter(client: Any) -> None:
    """Register the hooks that keep stubs out of reads, once on a botocore client."""
    if getattr(client, "_pic_hides_transient", False):
        return
    for operation in ("GetItem", "Query", "Scan", "BatchGetItem"):
        client.meta.events.register(f"before-parameter-build.dynamodb.{operation}", project_transient)
    client.meta.events.register("after-call.dynamodb", hide_transient)
    client._pic_hides_transient = True
