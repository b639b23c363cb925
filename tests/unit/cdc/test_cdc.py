"""The change-data-capture pattern on fakes: pgoutput decoding (real PostgreSQL 15 messages too), committed
transactions and the schema check, Licencias' mapping, and the capture's order, retries and restart position."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from functions.cdc import licencias, pgoutput
from functions.cdc.capture import Capture, NotAdmittedError, RefusedError, TransientPublishError
from functions.cdc.changes import SchemaChangedError, transactions
from functions.cdc.licencias import FILES, HOLDERS, ITEM_TYPE, RECORD_TYPE, TABLES
from tests.unit.cdc import fakes
from tests.unit.cdc.fakes import CrashError, FakeBroker, FakeSlot

AT = datetime(2026, 12, 7, 10, 30, tzinfo=UTC)
HOLDER = fakes.row(HOLDERS, id="LT-1", tipo_documento="DNI", numero_documento="51234567W", nombre="Carmen",
                   apellido1="Ruiz", fecha_nacimiento="1971-04-12", via="Calle de Toledo", codigo_postal="28005",
                   distrito="01", modificado="2026-12-07 10:00:00+00")  # fmt: skip
FILE = fakes.row(FILES, id="711/2026/00101", titular_id="LT-1", tipo="obra-menor", descripcion="Reforma de cocina",
                 estado="en-tramite", tasa_eur="187.40", modificado="2026-12-07 10:00:00+00")  # fmt: skip


def txn(lsn: int, *changes: bytes, xid: int = 700) -> list[tuple[int, bytes]]:
    """One committed transaction as the slot returns it: Begin, a Relation per table, the changes, Commit."""
    rows = [(lsn, fakes.begin(lsn + 90, AT, xid)), (lsn, fakes.relation(HOLDERS)), (lsn, fakes.relation(FILES))]
    rows += [(lsn + i, change) for i, change in enumerate(changes, start=1)]
    return [*rows, (lsn + 100, fakes.commit(lsn + 90, lsn + 100, AT))]


# ---- pgoutput -----------------------------------------------------------------------------------------------


def test_decodes_messages_recorded_from_postgresql_15() -> None:
    # GIVEN a Begin, a Relation and an Insert exactly as PostgreSQL 15.18 sent them (table public.h)
    begin = b"B\x00\x00\x00\x00\x01R\xa5\x88\x00\x03\x05\x0c\xd5\xfc@\xd6\x00\x00\x02\xd9"
    relation = (b"R\x00\x00@\x01public\x00h\x00f\x00\x04\x01id\x00\x00\x00\x00\x19\xff\xff\xff\xff\x01name\x00\x00"
                b"\x00\x00\x19\xff\xff\xff\xff\x01n\x00\x00\x00\x00\x17\xff\xff\xff\xff\x01d\x00\x00\x00\x04:\xff\xff"
                b"\xff\xff")  # fmt: skip
    insert = b"I\x00\x00@\x01N\x00\x04t\x00\x00\x00\x01bnt\x00\x00\x00\x012n"
    # WHEN decoded THEN the values are PostgreSQL's: xid, columns and types, text values and nulls
    assert pgoutput.decode(begin) == pgoutput.Begin(0x152A588, pgoutput.decode(begin).commit_time, 729)  # type: ignore[union-attr]
    rel = pgoutput.decode(relation)
    assert isinstance(rel, pgoutput.Relation) and rel.table == "public.h" and rel.replica_identity == "f"
    assert [(c.name, c.type_oid) for c in rel.columns] == [("id", 25), ("name", 25), ("n", 23), ("d", 1082)]
    assert pgoutput.decode(insert) == pgoutput.Insert(16385, ("b", None, "2", None))


def test_an_unknown_or_cut_message_is_a_decode_error() -> None:
    with pytest.raises(pgoutput.DecodeError, match="unknown message"):
        pgoutput.decode(b"Z\x00")
    with pytest.raises(pgoutput.DecodeError, match="more expected"):
        pgoutput.decode(fakes.insert(HOLDERS, HOLDER)[:-3])


def test_lsns_read_and_write_as_postgresql_does() -> None:
    assert pgoutput.parse_lsn("0/152A6C8") == 0x152A6C8
    assert pgoutput.lsn_text(pgoutput.parse_lsn("1A/FF000010")) == "1A/FF000010"


# ---- transactions and the schema check ----------------------------------------------------------------------


def test_changes_come_as_committed_transactions_in_order() -> None:
    # GIVEN two transactions: a holder and her file; then the file's update
    new = fakes.row(FILES, **{**dict(zip(TABLES[FILES].columns, FILE, strict=True)), "estado": "concedida"})
    rows = txn(1000, fakes.insert(HOLDERS, HOLDER), fakes.insert(FILES, FILE)) + txn(
        2000, fakes.update(FILES, new, FILE), xid=701
    )
    # WHEN read THEN each transaction's changes, by column, with the position to confirm after it
    found = list(transactions(rows, TABLES))
    assert [t.end_lsn for t in found] == [1100, 2100]
    assert [(c.table, c.op, c.key) for c in found[0].changes] == [(HOLDERS, "insert", "LT-1"), (FILES, "insert",
                                                                   "711/2026/00101")]  # fmt: skip
    update = found[1].changes[0]
    assert update.row["estado"] == "concedida" and update.old is not None and update.old["estado"] == "en-tramite"


def test_an_unchanged_toasted_value_is_taken_from_the_old_row() -> None:
    new = [
        b"u" if column == "descripcion" else value for column, value in zip(TABLES[FILES].columns, FILE, strict=True)
    ]
    (found,) = transactions(txn(1000, fakes.update(FILES, new, FILE)), TABLES)
    assert found.changes[0].row["descripcion"] == "Reforma de cocina"


@pytest.mark.parametrize(
    ("columns", "said"),
    [
        ({k: v for k, v in TABLES[HOLDERS].columns.items() if k != "nombre"}, "column nombre is gone"),
        ({**TABLES[HOLDERS].columns, "fecha_nacimiento": 25}, "column fecha_nacimiento is now of type OID 25"),
    ],
)
def test_a_column_the_mapping_reads_dropped_or_retyped_stops_before_the_change(
    columns: dict[str, int], said: str
) -> None:
    # GIVEN a transaction written after a DDL of titulares
    rows = [(1000, fakes.begin(1090, AT, 9)), (1000, fakes.relation(HOLDERS, columns)), (1001, b"I...")]
    # WHEN read THEN it stops at the Relation, naming what changed, before any change of it
    with pytest.raises(SchemaChangedError, match=said) as raised:
        list(transactions(rows, TABLES))
    assert raised.value.lsn == 1000


def test_a_column_added_passes_and_is_not_read() -> None:
    added = {**TABLES[HOLDERS].columns, "observaciones": 25}
    rows = [(1000, fakes.begin(1090, AT, 9)), (1000, fakes.relation(HOLDERS, added)),
            (1001, fakes.insert(HOLDERS, [*HOLDER, "nota"])), (1100, fakes.commit(1090, 1100, AT))]  # fmt: skip
    (found,) = transactions(rows, TABLES)
    assert found.changes[0].row["nombre"] == "Carmen"


def test_files_without_full_replica_identity_or_a_truncate_stop_the_capture() -> None:
    with pytest.raises(SchemaChangedError, match="REPLICA IDENTITY is no longer FULL"):
        list(transactions([(1, fakes.begin(2, AT, 1)), (1, fakes.relation(FILES, identity="d"))], TABLES))
    rows = [(1, fakes.begin(2, AT, 1)), (1, fakes.relation(FILES)), (2, fakes.truncate(FILES))]
    with pytest.raises(SchemaChangedError, match=r"TRUNCATE of licencias\.expedientes"):
        list(transactions(rows, TABLES))


# ---- the mapping ----------------------------------------------------------------------------------------------


def changes_of(*messages: bytes, lsn: int = 1000) -> list[licencias.Outgoing]:
    (found,) = transactions(txn(lsn, *messages), TABLES)
    return [event for change in found.changes for event in licencias.events_for(change)]


def test_a_holder_is_a_citizen_record_and_a_file_a_permit_of_hers() -> None:
    record, item = changes_of(fakes.insert(HOLDERS, HOLDER), fakes.insert(FILES, FILE))
    assert record.type == RECORD_TYPE and record.subject == "LT-1"
    assert record.data == {
        "local_id": "LT-1", "document": {"type": "DNI", "number": "51234567W"}, "given_name": "Carmen",
        "first_surname": "Ruiz", "birth_date": "1971-04-12",
        "address": {"street": "Calle de Toledo", "postal_code": "28005", "district": "01"},
    }  # fmt: skip
    assert item.type == ITEM_TYPE and item.subject == "LT-1"
    assert item.data["section"] == "permits" and item.data["title"] == "Licencia de obra menor: Reforma de cocina"
    assert item.data["as_of"] == AT.isoformat() and item.data["amount_eur"] == "187.40" and not item.data["removed"]
    assert licencias.problem(record) is None and licencias.problem(item) is None


def test_a_company_holder_fails_the_citizen_record_schema_with_the_reason() -> None:
    company = fakes.row(HOLDERS, id="LT-3", tipo_documento="CIF", numero_documento="B12345674", nombre="Bar SL")
    (record,) = changes_of(fakes.insert(HOLDERS, company))
    assert "document.type" in (licencias.problem(record) or "")


def test_deletes_and_a_file_moved_to_another_holder() -> None:
    # a file deleted: removed from its holder's position (the old row names her); a holder deleted: nothing
    (removed,) = changes_of(fakes.delete(FILES, FILE))
    assert removed.data["removed"] and removed.subject == "LT-1"
    assert changes_of(fakes.delete(HOLDERS, HOLDER)) == []
    # a file moved: removed from the old holder, then upserted for the new one, in that order
    moved = fakes.row(FILES, **{**dict(zip(TABLES[FILES].columns, FILE, strict=True)), "titular_id": "LT-2"})
    gone, new = changes_of(fakes.update(FILES, moved, FILE))
    assert (gone.subject, gone.data["removed"]) == ("LT-1", True) and (new.subject, new.data["removed"]) == (
        "LT-2",
        False,
    )
    assert gone.id != new.id


def test_event_ids_name_the_change_so_a_redelivery_is_the_same_event() -> None:
    first = changes_of(fakes.insert(FILES, FILE), lsn=1000)
    again = changes_of(fakes.insert(FILES, FILE), lsn=1000)
    later = changes_of(fakes.insert(FILES, FILE), lsn=5000)
    assert [e.id for e in first] == [e.id for e in again] and first[0].id != later[0].id


# ---- the capture ----------------------------------------------------------------------------------------------


def capture(slot: FakeSlot, broker: FakeBroker, batch: int = 1000) -> Capture:
    return Capture(slot, broker, TABLES, licencias.events_for, licencias.problem, batch=batch, sleep=lambda s: False)


def stream() -> list[tuple[int, bytes]]:
    return (txn(1000, fakes.insert(HOLDERS, HOLDER), xid=1) + txn(2000, fakes.insert(FILES, FILE), xid=2)
            + txn(3000, fakes.delete(FILES, FILE), xid=3))  # fmt: skip


def test_events_go_in_commit_order_and_the_position_moves_after_them() -> None:
    slot, broker = FakeSlot(stream()), FakeBroker()
    assert capture(slot, broker).step() == 3
    assert [(e.type, e.data.get("removed")) for e in broker.accepted] == [
        (RECORD_TYPE, None), (ITEM_TYPE, False), (ITEM_TYPE, True)]  # fmt: skip
    assert slot.confirms == [3100]


def test_a_broker_away_is_waited_for_and_nothing_is_confirmed_before_it_took_the_event() -> None:
    slot, broker = FakeSlot(stream()), FakeBroker()
    broker.fail = [TransientPublishError("503"), TransientPublishError("401")]
    cdc = capture(slot, broker)
    cdc.step()
    assert len(broker.accepted) == 3 and cdc.counters.retries == 2 and slot.confirms == [3100]


def test_a_crash_mid_stream_redelivers_the_same_events_and_loses_none() -> None:
    # GIVEN the capture dies while posting the second event of a transaction (a holder and her file)
    both = txn(1000, fakes.insert(HOLDERS, HOLDER), fakes.insert(FILES, FILE), xid=1)
    slot, broker = FakeSlot(both + txn(3000, fakes.delete(FILES, FILE), xid=3)), FakeBroker()
    broker.fail = [None, CrashError("killed")]
    with pytest.raises(CrashError):
        capture(slot, broker).step()
    assert slot.confirms == [] and len(broker.accepted) == 1
    # WHEN a new capture starts from the slot's position THEN every event arrives, the first one again, same id
    capture(slot, broker).step()
    ids = [e.id for e in broker.accepted]
    assert len(ids) == 4 and len(set(ids)) == 3 and ids[0] == ids[1]
    assert slot.confirms == [3100]


def test_a_restart_reads_from_the_confirmed_position_batch_by_batch() -> None:
    # a batch ends after whole transactions: what the slot returns up to the limit
    slot, broker = FakeSlot(stream()), FakeBroker()
    cdc = capture(slot, broker, batch=5)
    slot.peek = lambda limit: [r for r in slot.rows if r[0] > slot.confirmed][:5]  # type: ignore[method-assign]
    cdc.step()
    assert slot.confirms == [1100] and len(broker.accepted) == 1
    cdc.step()
    cdc.step()
    assert slot.confirms == [1100, 2100, 3100] and len(broker.accepted) == 3


def test_an_event_refused_for_good_is_skipped_and_the_stream_goes_on() -> None:
    slot, broker = FakeSlot(stream()), FakeBroker()
    broker.fail = [RefusedError("413 too large")]
    cdc = capture(slot, broker)
    cdc.step()
    assert cdc.counters.refused == 1 and len(broker.accepted) == 2 and slot.confirms == [3100]


def test_a_sender_not_admitted_stops_the_capture_without_confirming() -> None:
    slot, broker = FakeSlot(stream()), FakeBroker()
    broker.fail = [None, NotAdmittedError("403")]
    with pytest.raises(NotAdmittedError):
        capture(slot, broker).step()
    assert slot.confirms == [1100]  # the first transaction was published: its position is kept


def test_a_schema_change_mid_batch_confirms_what_came_before_and_stops() -> None:
    gone = {k: v for k, v in TABLES[HOLDERS].columns.items() if k != "nombre"}
    later = [(4000, fakes.begin(4090, AT, 4)), (4000, fakes.relation(HOLDERS, gone)), (4001, b"I")]
    slot, broker = FakeSlot(stream() + later), FakeBroker()
    with pytest.raises(SchemaChangedError):
        capture(slot, broker).step()
    assert slot.confirms == [3100] and len(broker.accepted) == 3


def test_a_snapshot_is_published_with_ids_from_its_content() -> None:
    from functions.cdc.changes import Change

    row = dict(zip(TABLES[FILES].columns, FILE, strict=True))
    snap = Change(FILES, "snapshot", "711/2026/00101", row, None, 0, AT)  # type: ignore[arg-type]
    slot, broker = FakeSlot([]), FakeBroker()
    capture(slot, broker).publish_snapshot([snap])
    capture(slot, broker).publish_snapshot([snap])
    assert len({e.id for e in broker.accepted}) == 1 and broker.accepted[0].data["as_of"] == "2026-12-07T10:00:00+00:00"
