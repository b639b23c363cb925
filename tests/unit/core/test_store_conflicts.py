"""A transaction DynamoDB cancels because another one held its items at that moment (``TransactionConflict``)
lost a race like a failed condition: the unit of work says ``ConflictError``, so the kernel decides the event
again in process instead of answering 500."""

from __future__ import annotations

from types import TracebackType
from typing import Any

import pytest
from pynamodb.exceptions import CancellationReason, TransactWriteError, VerboseClientError

from functions.core import store
from functions.core.errors import ConflictError
from functions.core.idempotency import IdempotencyRecord
from functions.core.store import DuplicateError, UnitOfWork


def cancelled(*codes: str | None) -> TransactWriteError:
    """What pynamodb raises for a TransactWriteItems cancelled with these reasons, one per item."""
    cause = VerboseClientError(
        {"Error": {"Code": "TransactionCanceledException", "Message": "Transaction cancelled"}},
        "TransactWriteItems",
        cancellation_reasons=[CancellationReason(code=c) if c else None for c in codes],
    )
    return TransactWriteError("Failed to write transaction items", cause=cause)


class CancelledTransaction:
    """Stands in for pynamodb's ``TransactWrite``: takes the writes, and the store cancels the transaction."""

    error: TransactWriteError

    def __init__(self, **_: Any) -> None:
        pass

    def __enter__(self) -> CancelledTransaction:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None) -> None:
        raise self.error

    def save(self, *_: Any, **__: Any) -> None:
        pass


def unit_of_two() -> UnitOfWork:
    uow = UnitOfWork()
    uow.put(IdempotencyRecord("k-1"), tag="state")
    uow.put(IdempotencyRecord("k-2"), condition=IdempotencyRecord.key.does_not_exist(), tag="idempotency")
    return uow


@pytest.fixture(autouse=True)
def native(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store, "emulated_transactions", lambda: False)
    monkeypatch.setattr(store, "connection", lambda: None)
    monkeypatch.setattr(store, "TransactWrite", CancelledTransaction)


def test_a_transaction_cancelled_for_a_concurrent_one_is_a_conflict_to_decide_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def store_cancels(*codes: str | None) -> None:
        monkeypatch.setattr(CancelledTransaction, "error", cancelled(*codes), raising=False)

    # GIVEN DynamoDB cancels the transaction: another transaction held its first item at that moment
    store_cancels("TransactionConflict", None)

    # WHEN the unit of work commits
    # THEN it is a conflict (decided again in process, then 409 for the broker), not an unexplained store error
    with pytest.raises(ConflictError, match="concurrent"):
        unit_of_two().commit()

    # AND a failed condition still names the write that lost, the idempotency record's says "done before"
    # (even beside a concurrent transaction), and any other cancellation stays the store's error
    store_cancels("ConditionalCheckFailed", None)
    with pytest.raises(ConflictError, match="state"):
        unit_of_two().commit()
    store_cancels("TransactionConflict", "ConditionalCheckFailed")
    with pytest.raises(DuplicateError):
        unit_of_two().commit()
    store_cancels("ValidationError", None)
    with pytest.raises(TransactWriteError):
        unit_of_two().commit()
