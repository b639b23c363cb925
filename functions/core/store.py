"""The storage base: pynamodb models bound to the endpoint from the environment, and a unit of work
that commits state, outbox rows and idempotency records atomically: in ONE DynamoDB
``TransactWriteItems``, or, on a store without it (ScyllaDB Alternator), with the lock-and-record
protocol of ``functions.core.transactions`` (``PIC_STORE_TRANSACTIONS=emulated``, ADR 0005).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any, Generic, TypeVar

from pynamodb.connection import Connection, TableConnection
from pynamodb.exceptions import PutError, TransactWriteError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.operand import Path
from pynamodb.expressions.update import Action
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from functions.core import timing
from functions.core.errors import LostRaceError, StoreUnsupportedError
from functions.core.settings import get_settings
from functions.core.wake import wake

M = TypeVar("M", bound=type[Model])
T = TypeVar("T")

_TABLES: dict[str, type[Model]] = {}


def to_iso(at: datetime | None) -> str | None:
    """An instant as an item attribute (ISO 8601), or nothing when there is none."""
    return at.isoformat() if at else None


def from_iso(text: str | None) -> datetime | None:
    """An item's ISO 8601 attribute read back, or ``None`` when it was never set."""
    return datetime.fromisoformat(text) if text else None


def table_name(name: str) -> str:
    """The physical table name: the environment's prefix plus the domain's name."""
    return f"{get_settings().table_prefix}{name}"


def model_meta(name: str) -> Any:
    """A pynamodb ``Meta`` for table ``name`` on the endpoint and region from the environment."""
    settings = get_settings()

    class Meta:
        table_name = globals()["table_name"](name)
        region = settings.aws_region
        host = settings.dynamodb_endpoint
        max_retry_attempts = 3
        max_pool_connections = 32
        billing_mode = "PAY_PER_REQUEST"

    return Meta


def emulated_transactions() -> bool:
    return get_settings().store_transactions == "emulated"


class StoreModel(Model):
    """Every PIC model. Where units of work are emulated, its reads never return a transient stub (an
    item a unit in flight has locked but not yet written, ``functions.core.transactions``)."""

    @classmethod
    def _get_connection(cls) -> TableConnection:
        """pynamodb gives each model class a botocore client of its own (~10 MB and tens of milliseconds each,
        every table's models in every process); all of PIC's models share one (botocore clients are
        thread-safe). Not the units of work's own (``connection``): where transactions are emulated the
        models' reads hide stubs, and the protocol must see them."""
        table_connection = super()._get_connection()
        shared = models_client(cls.Meta.region, getattr(cls.Meta, "host", None))
        if table_connection.connection._client is not shared:
            table_connection.connection._client = shared
        timing.count_store_calls(table_connection.connection.client)
        if emulated_transactions():
            from functions.core.transactions import install_reader_filter

            install_reader_filter(table_connection.connection.client)
        return table_connection


def defines_table(model: M) -> M:
    """Register the model that defines a table (keys, indexes, TTL): tables are created from these."""
    _TABLES[model.Meta.table_name] = model
    return model


def registered_tables() -> dict[str, type[Model]]:
    return dict(_TABLES)


@lru_cache(maxsize=1)
def connection() -> Connection:
    """One connection per process: building a botocore client costs tens of milliseconds."""
    settings = get_settings()
    made = Connection(region=settings.aws_region, host=settings.dynamodb_endpoint, max_pool_connections=32)
    timing.count_store_calls(made.client)
    return made


@lru_cache(maxsize=8)
def models_client(region: str, host: str | None) -> Any:
    """The botocore client the models of one store share (``StoreModel._get_connection``): one per process
    where deployed; a test that points some models at another endpoint gets that endpoint's own."""
    return Connection(region=region, host=host, max_pool_connections=32).client


# What a DynamoDB-compatible store answers for an operation it does not implement (ScyllaDB Alternator:
# "UnknownOperationException: Unsupported operation TransactWriteItems", scylladb/scylladb#5064).
UNSUPPORTED_CODES = frozenset({"UnknownOperationException"})


class DuplicateError(Exception):
    """The unit of work's idempotency record already exists: this work was done before."""


@dataclass
class _Op:
    kind: str  # "put", "delete" or "update"
    item: Model
    condition: Condition | None
    actions: list[Action] | None
    tag: str


@dataclass
class Staged(Generic[T]):
    """What a use case decided: the writes to commit, all or nothing, and its result. Handlers return it;
    the entry point commits it (with the request's idempotency record) and, if the commit lost a race to a
    concurrent change, runs the handler again (``functions.core.retry``)."""

    unit: UnitOfWork
    result: T


class UnitOfWork:
    """Collects writes and commits them atomically; the only way PIC changes state.

    Tags name what each write is for, so that a cancelled transaction says which condition failed:
    an ``idempotency`` condition means the work was already done (``DuplicateError``); any other is a
    concurrent change (``LostRaceError``, a ``ConflictError``).
    """

    def __init__(self) -> None:
        self._ops: list[_Op] = []

    def put(self, item: Model, condition: Condition | None = None, tag: str = "state") -> None:
        self._ops.append(_Op("put", item, condition, None, tag))

    def delete(self, item: Model, condition: Condition | None = None, tag: str = "state") -> None:
        self._ops.append(_Op("delete", item, condition, None, tag))

    def update(
        self, item: Model, actions: list[Action], condition: Condition | None = None, tag: str = "state"
    ) -> None:
        self._ops.append(_Op("update", item, condition, actions, tag))

    def __len__(self) -> int:
        return len(self._ops)

    def staged(self, tag: str | None = None) -> list[Model]:
        """The items staged (with ``tag``, if given), in order: what a handler decided, for its unit tests
        (``tag="outbox"``: the events it emits)."""
        return [op.item for op in self._ops if tag is None or op.tag == tag]

    def commit(self, token: str | None = None) -> None:
        """One ``TransactWriteItems``; ``token`` makes a retried commit idempotent for 10 minutes (the
        emulated protocol ignores it: the unit's idempotency record does that work). Once committed, the
        relays of the domains whose events it staged are woken (``functions.core.wake``, ADR 0017)."""
        self._commit(token)
        self._wake_relays()

    def _wake_relays(self) -> None:
        domains = {
            str(shard).partition("#")[0]
            for op in self._ops
            if op.tag == "outbox" and (shard := getattr(op.item, "pending_shard", None))
        }
        if domains:
            wake(domains)

    def _commit(self, token: str | None) -> None:
        if not self._ops:
            return
        if len(self._ops) == 1 and self._ops[0].kind == "put" and token is None:
            if emulated_transactions():
                self._put_one_unlocked(self._ops[0])
            else:
                self._put_one(self._ops[0])
            return
        if emulated_transactions():
            self._commit_emulated()
            return
        # pynamodb sends deletes, then puts, then updates: keep that order to read cancellation reasons.
        ordered = [op for kind in ("delete", "put", "update") for op in self._ops if op.kind == kind]
        try:
            with TransactWrite(connection=connection(), client_request_token=token or str(uuid.uuid4())) as tx:
                for op in ordered:
                    if op.kind == "put":
                        tx.save(op.item, condition=op.condition)
                    elif op.kind == "delete":
                        tx.delete(op.item, condition=op.condition)
                    else:
                        tx.update(op.item, actions=op.actions or [], condition=op.condition)
        except TransactWriteError as exc:
            if exc.cause_response_code in UNSUPPORTED_CODES:
                raise StoreUnsupportedError(
                    f"the store at {get_settings().dynamodb_endpoint or 'the AWS endpoint'} does not implement "
                    "TransactWriteItems, so nothing was written; on such a store set PIC_STORE_TRANSACTIONS=emulated "
                    "(docs/decisions/0005)",
                    operation="TransactWriteItems",
                ) from exc
            failed = _failed_tags(exc, ordered)
            if "idempotency" in failed:
                raise DuplicateError("already processed") from exc
            if failed:
                raise LostRaceError(f"a concurrent change touched {', '.join(sorted(failed))}; retry") from exc
            if _in_conflict(exc):  # another transaction held some of these items at that moment
                raise LostRaceError("a concurrent transaction held these items; retry") from exc
            raise

    @staticmethod
    def _put_one(op: _Op) -> None:
        """A unit of one put is one conditional PutItem: as atomic as a transaction of one, at about half
        the cost (e.g. an access record, or the idempotency mark of an event that changed nothing)."""
        try:
            op.item.save(condition=op.condition)
        except PutError as exc:
            if exc.cause_response_code != "ConditionalCheckFailedException":
                raise
            if op.tag == "idempotency":
                raise DuplicateError("already processed") from exc
            raise LostRaceError(f"a concurrent change touched {op.tag}; retry") from exc

    def _commit_emulated(self) -> None:
        from functions.core.transactions import ConditionFailedError, Coordinator, build_write

        tx_id = str(uuid.uuid4())
        writes = [build_write(op.kind, op.item, op.condition, op.actions, op.tag, tx_id) for op in self._ops]
        try:
            Coordinator(connection()).commit(writes, tx_id)
        except ConditionFailedError as failed:
            _raise_for_tag(failed.tag, failed)

    @staticmethod
    def _put_one_unlocked(op: _Op) -> None:
        """The single put where units are emulated: also conditional on the item not being locked by a unit
        in flight, so that it can never overwrite (or be overwritten by) half of one."""
        from functions.core.transactions import OWNER, ConditionFailedError, Coordinator

        not_locked = Path(OWNER).does_not_exist()
        condition = not_locked if op.condition is None else op.condition & not_locked
        hk, rk = op.item._get_hash_range_key_serialized_values()
        key = type(op.item)._get_connection().get_operation_kwargs(hk, range_key=rk)["Key"]

        def attempt() -> object:
            try:
                return op.item.save(condition=condition)
            except PutError as exc:
                raise (exc.cause or exc) from exc

        try:
            Coordinator(connection()).until_unlocked(table_name_of(op.item), key, attempt, op.tag)
        except ConditionFailedError as failed:
            _raise_for_tag(failed.tag, failed)


def table_name_of(item: Model) -> str:
    return str(type(item).Meta.table_name)


def _raise_for_tag(tag: str, cause: Exception) -> None:
    if tag == "idempotency":
        raise DuplicateError("already processed") from cause
    raise LostRaceError(f"a concurrent change touched {tag}; retry") from cause


def _in_conflict(exc: TransactWriteError) -> bool:
    reasons: list[Any] = exc.cancellation_reasons
    return any(reason is not None and reason.code == "TransactionConflict" for reason in reasons)


def _failed_tags(exc: TransactWriteError, ordered: list[_Op]) -> set[str]:
    reasons: list[Any] = exc.cancellation_reasons
    return {
        op.tag
        for op, reason in zip(ordered, reasons, strict=False)
        if reason is not None and reason.code == "ConditionalCheckFailed"
    }
