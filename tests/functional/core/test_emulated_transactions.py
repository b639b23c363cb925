"""Units of work on a store without ``TransactWriteItems`` (ScyllaDB Alternator, ADR 0005).

Real parts: DynamoDB Local over HTTP behind the Alternator-like endpoint (``local.alternator_like``), which
refuses transactions exactly as Alternator does; PIC's ``UnitOfWork`` with ``PIC_STORE_TRANSACTIONS=emulated``.
A "crash" is a unit stopped between two steps of the protocol, left as a dead process leaves it.
"""

from __future__ import annotations

import base64
import os
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pynamodb.attributes import NumberAttribute, UnicodeAttribute, VersionAttribute

from functions.core import settings, store, transactions
from functions.core.errors import ConflictError
from functions.core.store import DuplicateError, StoreModel, UnitOfWork
from functions.core.transactions import Coordinator, TransactionRecord, build_write
from local import dynamodb
from local.alternator_like import AlternatorLike
from local.harness import free_port

pytestmark = pytest.mark.functional

REGION = "eu-south-2"
LEASE = 1.0


class Account(StoreModel):
    """A versioned item (as the citizen's golden record or a notification's state are)."""

    Meta = store.model_meta("accounts")
    id = UnicodeAttribute(hash_key=True)
    balance = NumberAttribute()
    version = VersionAttribute()


class Entry(StoreModel):
    """A plain item with a range key."""

    Meta = store.model_meta("entries")
    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    text = UnicodeAttribute(null=True)
    count = NumberAttribute(default=0)


MODELS: tuple[type[StoreModel], ...] = (TransactionRecord, Account, Entry)


@pytest.fixture(scope="module")
def dynamodb_local(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    process = dynamodb.start(tmp_path_factory.mktemp("ddb"), port, in_memory=True)
    endpoint = f"http://127.0.0.1:{port}"
    try:
        with pytest.MonkeyPatch.context() as env:
            env.setenv("AWS_ACCESS_KEY_ID", "local")  # DynamoDB Local accepts any credentials
            env.setenv("AWS_SECRET_ACCESS_KEY", "local")
            dynamodb.wait_ready(endpoint, REGION)
        yield endpoint
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture
def alternator(dynamodb_local: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[AlternatorLike]:
    """The Alternator-like endpoint, and this process's settings pointing PIC at it in emulated mode."""
    server = AlternatorLike(free_port(), dynamodb_local).start()
    for name, value in {
        "PIC_DYNAMODB_ENDPOINT": server.endpoint,
        "PIC_STORE_TRANSACTIONS": "emulated",
        "PIC_TX_LEASE_SECONDS": str(LEASE),
        "PIC_TABLE_PREFIX": f"t{uuid.uuid4().hex[:6]}-",
        "AWS_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
    }.items():
        monkeypatch.setenv(name, value)
    settings.get_settings.cache_clear()
    store.connection.cache_clear()
    # Models are bound to an endpoint when imported: bind these to this endpoint and a fresh prefix.
    for model in MODELS:
        name = model.Meta.table_name.removeprefix("pic-")
        monkeypatch.setattr(model.Meta, "host", server.endpoint)
        monkeypatch.setattr(model.Meta, "table_name", store.table_name(name))
        monkeypatch.setattr(model, "_connection", None)
        model.create_table(wait=True)
    yield server
    server.shutdown()
    monkeypatch.undo()
    for model in MODELS:
        model._connection = None
    settings.get_settings.cache_clear()
    store.connection.cache_clear()


def raw(table: type[StoreModel], *key: str) -> dict[str, Any]:
    """The stored item as the store has it (lock attributes included), bypassing the reader filter."""
    names = [table._hash_keyname, table._range_keyname][: len(key)]
    answer = store.connection().dispatch(
        "GetItem",
        {
            "TableName": table.Meta.table_name,
            "Key": {n: {"S": v} for n, v in zip(names, key, strict=True)},
            "ConsistentRead": True,
        },
    )
    return dict(answer.get("Item") or {})


def records_left() -> int:
    return sum(1 for _ in TransactionRecord.scan(consistent_read=True))


def assert_unlocked(item: dict[str, Any]) -> None:
    assert not set(item) & set(transactions.LOCK_ATTRIBUTES), item


def test_a_unit_of_puts_updates_and_deletes_commits_on_a_store_without_transactions(alternator: AlternatorLike) -> None:
    # GIVEN an account and two entries
    Account(id="a", balance=10).save()
    Entry("p", "counted", count=1).save()
    Entry("p", "doomed", text="bye").save()
    account = Account.get("a", consistent_read=True)

    # WHEN one unit puts a new entry, changes the versioned account, bumps a counter and deletes an entry
    uow = UnitOfWork()
    uow.put(Entry("p", "new", text="hola"), condition=Entry.sk.does_not_exist())
    account.balance = 7
    uow.put(account)
    uow.update(Entry("p", "counted"), actions=[Entry.count.add(1)])
    uow.delete(Entry("p", "doomed"), condition=Entry.sk.exists())
    uow.commit()

    # THEN every write landed, no lock or record is left, and the store was never asked for a transaction
    assert Entry.get("p", "new", consistent_read=True).text == "hola"
    assert Account.get("a", consistent_read=True).balance == 7
    assert account.version == 2  # the local copy's version moved as TransactWrite moves it
    assert Entry.get("p", "counted", consistent_read=True).count == 2
    assert not raw(Entry, "p", "doomed")
    for key in (("p", "new"), ("p", "counted")):
        assert_unlocked(raw(Entry, *key))
    assert_unlocked(raw(Account, "a"))
    assert records_left() == 0
    assert alternator.refused == []


def test_a_failed_condition_cancels_the_whole_unit_and_says_which_write(alternator: AlternatorLike) -> None:
    Entry("p", "taken", text="first").save()

    # WHEN a unit creates a new item and then claims one already taken
    uow = UnitOfWork()
    uow.put(Entry("p", "a-new-one", text="x"), condition=Entry.sk.does_not_exist(), tag="state")
    uow.put(Entry("p", "taken", text="second"), condition=Entry.sk.does_not_exist(), tag="claim")
    with pytest.raises(ConflictError, match="claim"):
        uow.commit()

    # THEN nothing was written: no stub of the new item, the taken one unchanged and unlocked, no record
    assert not raw(Entry, "p", "a-new-one")
    assert raw(Entry, "p", "taken")["text"] == {"S": "first"}
    assert_unlocked(raw(Entry, "p", "taken"))
    assert records_left() == 0

    # AND a taken idempotency record is a duplicate, as with TransactWriteItems
    again = UnitOfWork()
    again.put(Entry("p", "other", text="x"))
    again.put(Entry("p", "taken", text="third"), condition=Entry.sk.does_not_exist(), tag="idempotency")
    with pytest.raises(DuplicateError):
        again.commit()
    assert not raw(Entry, "p", "other")


def test_concurrent_transfers_never_lose_or_invent_money(alternator: AlternatorLike) -> None:
    # GIVEN two accounts holding 1,000 between them
    Account(id="x", balance=500).save()
    Account(id="y", balance=500).save()
    done: list[int] = []
    errors: list[BaseException] = []

    def transfer(worker: int) -> None:
        moved = 0
        try:
            for n in range(8):
                source, target = ("x", "y") if (worker + n) % 2 else ("y", "x")
                while True:
                    a = Account.get(source, consistent_read=True)
                    b = Account.get(target, consistent_read=True)
                    a.balance -= 1
                    b.balance += 1
                    uow = UnitOfWork()
                    uow.put(a)
                    uow.put(b)
                    try:
                        uow.commit()
                        moved += 1
                        break
                    except ConflictError:
                        continue  # a concurrent unit changed a version: read again and retry
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)
        done.append(moved)

    # WHEN four workers move money both ways at once, each transfer one unit of two versioned writes
    threads = [threading.Thread(target=transfer, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    # THEN every transfer committed whole: the total is still 1,000 and each version counts its writes
    assert errors == []
    x, y = Account.get("x", consistent_read=True), Account.get("y", consistent_read=True)
    assert x.balance + y.balance == 1000
    assert sum(done) == 32
    assert (x.version - 1) + (y.version - 1) == 2 * 32
    assert records_left() == 0


def lock_then_die(writes: list[transactions.Write], tx_id: str, *, commit: bool, applied: int = 0) -> None:
    """What a unit leaves when its process dies: the record, its locks, and (past the commit point) some
    writes applied. Uses the protocol's own steps, in its order."""
    coordinator = Coordinator(store.connection())
    writes = sorted(writes, key=lambda w: w.sort_key)
    coordinator._write_record(tx_id, writes)
    for write in writes:
        write.existed = coordinator._acquire(write, tx_id)
    if commit:
        coordinator._mark_committed(tx_id)
        for write in writes[:applied]:
            coordinator._apply(write)


def test_a_unit_that_died_before_its_commit_point_is_undone_and_its_stub_never_read(alternator: AlternatorLike) -> None:
    Entry("q", "kept", text="before").save()
    # GIVEN a unit that locked an existing item and a new one, then died before committing
    tx_id = str(uuid.uuid4())
    lock_then_die(
        [
            build_write("put", Entry("q", "kept", text="after"), None, None, "state", tx_id),
            build_write("put", Entry("q", "ghost", text="never"), Entry.sk.does_not_exist(), None, "state", tx_id),
        ],
        tx_id,
        commit=False,
    )

    # THEN readers see the last committed value and never the stub of the new item
    assert raw(Entry, "q", "ghost")  # the stub is there ...
    with pytest.raises(Entry.DoesNotExist):  # ... but no read returns it
        Entry.get("q", "ghost", consistent_read=True)
    assert [e.sk for e in Entry.query("q", consistent_read=True)] == ["kept"]
    assert [e.sk for e in Entry.batch_get([("q", "ghost"), ("q", "kept")])] == ["kept"]
    assert Entry.get("q", "kept", consistent_read=True).text == "before"

    # WHEN another unit needs the new item: it waits out the lease, recovers the dead unit and commits
    uow = UnitOfWork()
    uow.put(Entry("q", "ghost", text="mine"), condition=Entry.sk.does_not_exist())
    uow.commit()

    # THEN the dead unit was undone (the kept item unlocked and unchanged), the live one landed
    assert Entry.get("q", "ghost", consistent_read=True).text == "mine"
    kept = raw(Entry, "q", "kept")
    assert kept["text"] == {"S": "before"}
    assert_unlocked(kept)
    assert records_left() == 0


def test_a_unit_that_died_after_its_commit_point_is_rolled_forward_by_the_sweep(alternator: AlternatorLike) -> None:
    Account(id="m", balance=100).save()
    account = Account.get("m", consistent_read=True)
    account.balance = 60
    # GIVEN a unit that committed, applied one of its three writes, and died
    tx_id = str(uuid.uuid4())
    lock_then_die(
        [
            build_write("put", account, None, None, "state", tx_id),
            build_write("put", Entry("m", "a", text="one"), Entry.sk.does_not_exist(), None, "state", tx_id),
            build_write("update", Entry("m", "b"), None, [Entry.count.add(5)], "state", tx_id),
        ],
        tx_id,
        commit=True,
        applied=1,
    )
    assert records_left() == 1

    # WHEN the relay's periodic recovery runs after the lease
    time.sleep(LEASE + 0.1)
    outcomes = Coordinator(store.connection()).sweep()

    # THEN every write of the unit landed exactly once, and nothing of the protocol is left behind
    assert outcomes == {"rolled-forward": 1}
    assert Account.get("m", consistent_read=True).balance == 60
    assert Entry.get("m", "a", consistent_read=True).text == "one"
    assert Entry.get("m", "b", consistent_read=True).count == 5
    for item in (raw(Account, "m"), raw(Entry, "m", "a"), raw(Entry, "m", "b")):
        assert_unlocked(item)
    assert records_left() == 0
    assert Coordinator(store.connection()).sweep() == {}  # a second sweep finds nothing (and applies nothing)
    assert Entry.get("m", "b", consistent_read=True).count == 5


def test_once_a_unit_has_committed_every_read_sees_all_its_writes(alternator: AlternatorLike) -> None:
    """Past its commit point a unit may have applied some writes and not others (still applying, or dead):
    a read that meets one of its locks helps it finish, so no reader ever sees half of it."""
    Account(id="r", balance=10).save()
    account = Account.get("r", consistent_read=True)
    account.balance = 3
    # GIVEN a unit past its commit point with one of its three writes applied (its process is slow or dead)
    tx_id = str(uuid.uuid4())
    lock_then_die(
        [
            build_write("put", Entry("r", "proof", text="signed"), Entry.sk.does_not_exist(), None, "state", tx_id),
            build_write("put", account, None, None, "state", tx_id),
            build_write("update", Entry("r", "counter"), None, [Entry.count.add(1)], "state", tx_id),
        ],
        tx_id,
        commit=True,
        applied=1,
    )

    # WHEN a reader sees the applied write and then reads the others, well before the lease runs out
    assert Account.get("r", consistent_read=True).balance == 3  # the applied one (sorted first: accounts)
    assert Entry.get("r", "proof", consistent_read=True).text == "signed"
    assert [e.sk for e in Entry.query("r", consistent_read=True)] == ["counter", "proof"]

    # THEN it saw every write, having helped the unit finish: nothing of the protocol is left
    assert Entry.get("r", "counter", consistent_read=True).count == 1
    for item in (raw(Account, "r"), raw(Entry, "r", "proof"), raw(Entry, "r", "counter")):
        assert_unlocked(item)
    assert records_left() == 0


def test_a_single_put_never_overwrites_an_item_a_unit_holds(alternator: AlternatorLike) -> None:
    tx_id = str(uuid.uuid4())
    # GIVEN a unit in flight holding a new item
    lock_then_die(
        [build_write("put", Entry("s", "held", text="unit"), Entry.sk.does_not_exist(), None, "state", tx_id)],
        tx_id,
        commit=True,
    )

    # WHEN a single conditional put (one PutItem, no transaction) wants the same new item
    uow = UnitOfWork()
    uow.put(Entry("s", "held", text="single"), condition=Entry.sk.does_not_exist(), tag="audit-entry")

    # THEN it waits for the unit (recovered here after its lease: it had committed, so it lands first)
    # and its own condition then fails: the item exists
    with pytest.raises(ConflictError, match="audit-entry"):
        uow.commit()
    assert Entry.get("s", "held", consistent_read=True).text == "unit"
    assert records_left() == 0


def test_a_unit_larger_than_one_item_keeps_its_record_in_parts(alternator: AlternatorLike) -> None:
    # GIVEN writes whose compressed payload exceeds what one item may hold (350 KB a part)
    blobs = [base64.b64encode(os.urandom(72_000)).decode() for _ in range(8)]  # 96 KB each, incompressible
    uow = UnitOfWork()
    for n, blob in enumerate(blobs):
        uow.put(Entry("big", f"{n:02d}", text=blob))
    payload = transactions.pack(
        [build_write("put", Entry("big", f"{n:02d}", text=b), None, None, "s", "t") for n, b in enumerate(blobs)]
    )
    assert len(payload) >= 2

    # WHEN the unit commits
    uow.commit()

    # THEN every write landed and the record's parts are gone too
    assert [e.text for e in Entry.query("big", consistent_read=True)] == blobs
    assert records_left() == 0


def test_the_platform_started_on_the_alternator_like_store_says_so(tmp_path: Path) -> None:
    """``python -m local --store alternator-like`` wires the endpoint and the emulated mode together."""
    from local.__main__ import local_environment, parse_args

    args = parse_args(["--store", "alternator-like", "--dynamodb-port", "8000", "--data-dir", str(tmp_path)])
    env = local_environment(args)
    assert env["PIC_STORE_TRANSACTIONS"] == "emulated"
    assert env["PIC_DYNAMODB_ENDPOINT"] != "http://127.0.0.1:8000"  # the endpoint in front of DynamoDB Local
