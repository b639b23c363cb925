"""The legacy adapters on fakes: layouts as data, encodings and layouts refused whole, bad lines as dead letters,
re-runs that change nothing, and a run cut short by the broker completed by the next without a second effect."""

from __future__ import annotations

from pathlib import Path

import pytest

from functions.intake import job
from functions.intake.files import decode
from functions.intake.layouts import layouts
from functions.intake.service import IntakeBrokerUnavailableError, IntakeFileRefusedError, event_id
from seed.intake_samples import padron_extract
from tests.unit.intake.fakes import FakeBroker, FakeIntakeStore, make_ports

SAMPLES = Path(__file__).resolve().parents[3] / "functions" / "intake" / "samples"
CITIZEN = "es.madrid.pic.citizen.record.upserted.v1"


def load(system: str, name: str, ports: job.IntakePorts | None = None) -> job.Outcome:
    return job.run(system, name, (SAMPLES / name).read_bytes(), ports or make_ports())


def test_every_fixed_width_layout_is_contiguous_and_fills_its_record() -> None:
    # GIVEN every layout's fixed-width records (positions are data: a typo there would shift every field after it)
    for lay in layouts().values():
        for fmt in (f for f in lay.formats if f.name == "fixed"):
            for record in (fmt.header, fmt.detail, fmt.trailer):
                assert record is not None
                # THEN each field starts where the last ended, and together they fill the record length
                position = 1
                for field in record.fields:
                    assert field.start == position, f"{lay.system} {field.name} starts at {field.start}"
                    position += field.length
                assert position - 1 == fmt.record_length


def test_the_padron_extract_becomes_citizen_records_and_its_bad_lines_dead_letters() -> None:
    # WHEN the Padrón's fixed-width sample (ISO-8859-15) is loaded
    ports = make_ports()
    outcome = load("padron", "padron-2026-12.txt", ports)
    report = outcome.report
    # THEN 12 people are sent as legacy-padron, and the three bad lines are reported with line, reason and raw text
    assert (report.status, report.records, report.loaded, report.unchanged, report.refused) == ("done", 15, 12, 0, 3)
    assert report.encoding == "iso-8859-15" and report.format == "fixed"
    assert [b.line for b in outcome.dead_letters] == [5, 8, 11]
    assert "fecha_nacimiento" in outcome.dead_letters[0].reason and len(outcome.dead_letters[0].raw) == 300
    sender, source, _, first = ports.publisher.posted[0]  # type: ignore[attr-defined]
    assert (sender, source, first.type) == ("legacy-padron", "/legacy/padron", CITIZEN)
    assert first.data["local_id"] == "M19000000001" and first.data["given_name"] == "Asunción"
    assert first.data["document"] == {"type": "DNI", "number": "90882290K"}
    assert first.data["address"]["district"] == "11" and first.data["birth_date"] == "1993-05-11"


def test_each_system_and_format_loads_its_sample() -> None:
    # GIVEN every sample of the four systems; THEN each loads with its bad lines reported, nothing else refused
    expected = {
        ("padron", "padron-2026-12.csv"): (3, 1),
        ("tributos", "tributos-2026-ibi-ivtm.csv"): (13, 3),
        ("multas", "multas-2026-12.csv"): (4, 1),
        ("multas", "multas-2026-12.json"): (3, 2),
        ("cita-previa", "cita-previa-2026-12.csv"): (6, 1),
    }
    for (system, name), (loaded, refused) in expected.items():
        report = load(system, name).report
        assert (report.status, report.loaded, report.refused) == ("done", loaded, refused), name


def test_a_tributos_receipt_names_the_taxpayers_record_sent_once() -> None:
    ports = make_ports()
    load("tributos", "tributos-2026-ibi-ivtm.csv", ports)
    posted = [p[3] for p in ports.publisher.posted]  # type: ignore[attr-defined]
    receipts = [p for p in posted if p.kind == "receipt"]
    people = [p for p in posted if p.kind == "person"]
    # THEN a taxpayer with two receipts (IBI and IVTM) is sent once, and each receipt names the taxpayer's record
    assert len(receipts) == 13 and len(people) == len({p.key for p in people}) == 9
    ivtm = next(r for r in receipts if r.data["tax"] == "IVTM")
    assert ivtm.data["record"] == {"source": "/legacy/tributos", "local_id": ivtm.data["record"]["local_id"]}
    assert ivtm.data["amount_cents"] == 9275 and ivtm.data["voluntary_period"]["end"] == "2026-12-31"
    debited = next(r for r in receipts if r.data["direct_debit"]["status"] == "active")
    assert debited.data["direct_debit"]["modality"] == "fraccionado-bonificado"


@pytest.mark.parametrize(
    ("system", "name", "reason"),
    [
        ("padron", "padron-2026-12-utf8.txt", "the file was written in UTF-8"),
        ("padron", "padron-2026-12-cortado.txt", "not the trailer record"),
        ("multas", "cita-previa-2026-12.csv", "the header is not this layout's"),
        ("multas", "tributos-2026-ibi-ivtm.csv", "not utf-8: byte 0x"),
        ("cita-previa", "padron-2026-12.txt", "sends .csv files"),
    ],
)
def test_a_file_in_the_wrong_encoding_or_layout_is_refused_whole(system: str, name: str, reason: str) -> None:
    ports = make_ports()
    report = load(system, name, ports).report
    # THEN nothing is sent, and the report (stored) says why
    assert report.status == "refused" and reason in (report.reason or "")
    assert ports.publisher.posted == []  # type: ignore[attr-defined]
    assert ports.store.fetch_report(report.file_id).status == "refused"  # type: ignore[union-attr]


def test_layout_checks_name_the_line() -> None:
    good = padron_extract(3).decode("iso-8859-15").split("\r\n")
    short = "\r\n".join([good[0], good[1][:-1], *good[2:]]).encode("iso-8859-15")
    assert "line 2 is 299 characters" in (job.run("padron", "p.txt", short, make_ports()).report.reason or "")
    miscounted = "\r\n".join([*good[:-2], good[-2].replace("000000003", "000000004")]).encode("iso-8859-15")
    assert "trailer counts 000000004" in (job.run("padron", "p.txt", miscounted, make_ports()).report.reason or "")
    fields = b"a;b\r\n1;2\r\n"
    assert "missing" in (job.run("cita-previa", "c.csv", fields, make_ports()).report.reason or "")


def test_encodings_what_gives_a_wrong_one_away() -> None:
    assert decode("Núñez".encode("iso-8859-15"), "iso-8859-15") == "Núñez"
    assert decode("€".encode("windows-1252"), "windows-1252") == "€"
    with pytest.raises(IntakeFileRefusedError, match="byte order mark"):
        decode(b"\xef\xbb\xbfabc", "windows-1252")
    with pytest.raises(IntakeFileRefusedError, match="C1 control"):
        decode(b"Nu\x85ez", "iso-8859-15")
    with pytest.raises(IntakeFileRefusedError, match="0x81"):
        decode(b"a\x81b", "windows-1252")
    with pytest.raises(IntakeFileRefusedError, match="not UTF-8"):
        decode("Núñez".encode("iso-8859-15"), "utf-8")


def test_running_a_file_again_changes_nothing() -> None:
    # GIVEN the Padrón extract loaded once
    ports = make_ports()
    first = load("padron", "padron-2026-12.txt", ports).report
    sent = list(ports.publisher.ids)  # type: ignore[attr-defined]
    # WHEN the same file runs again
    again = load("padron", "padron-2026-12.txt", ports).report
    # THEN nothing is sent; the same report says 12 unchanged, the bad lines still bad, the second run
    assert ports.publisher.ids == sent  # type: ignore[attr-defined]
    assert (again.file_id, again.loaded, again.unchanged, again.refused, again.runs) == (first.file_id, 0, 12, 3, 2)


def test_a_changed_record_is_sent_again_with_a_new_id_and_the_rest_not() -> None:
    ports = make_ports()
    content = padron_extract(5)
    job.run("padron", "a.txt", content, ports)
    changed = content.replace(b"CALLE", b"PASEO", 1)  # the first person's street is now a paseo: a new content
    report = job.run("padron", "b.txt", changed, ports).report
    assert (report.loaded, report.unchanged) == (1, 4)
    ids = ports.publisher.ids  # type: ignore[attr-defined]
    assert len(ids) == len(set(ids)) == 6


def test_a_run_cut_short_is_completed_by_the_next_without_a_second_effect() -> None:
    # GIVEN a 250-person extract and a broker that goes away after 130 events (mid-chunk)
    content = padron_extract(250)
    store = FakeIntakeStore()
    broken = FakeBroker(fail_after=130)
    with pytest.raises(IntakeBrokerUnavailableError):
        job.run("padron", "p.txt", content, make_ports(store, broken))
    # WHEN the file runs again on a broker that works
    broker = FakeBroker()
    report = job.run("padron", "p.txt", content, make_ports(store, broker)).report
    # THEN the first chunk (100, in the ledger) is not sent again; the 30 sent before the crash but not yet in the
    # ledger are sent again under the SAME ids (deduplicated by their consumer); every person is sent, none lost
    assert report.status == "done" and report.loaded == 150 and report.unchanged == 100
    again = set(broken.ids) & set(broker.ids)
    assert len(again) == 30 and len(set(broken.ids) | set(broker.ids)) == 250
    assert len(store.ledger) == 250


def test_an_event_the_broker_refuses_is_a_dead_letter_and_not_in_the_ledger() -> None:
    store = FakeIntakeStore()
    broker = FakeBroker(refuse={"es.madrid.pic.tax.receipt.issued.v1": "403 not allowed"})
    report = load("tributos", "tributos-2026-ibi-ivtm.csv", make_ports(store, broker)).report
    assert report.loaded == 0 and report.refused == 16
    assert sum(b.reason == "the broker refused it: 403 not allowed" for b in report.bad_lines) == 13
    assert not any(k.startswith("receipt:") for _, k in store.ledger)


def test_event_ids_are_source_key_and_content() -> None:
    a = event_id("/legacy/padron", "PAD1", {"local_id": "PAD1", "given_name": "Ana"})
    assert a == event_id("/legacy/padron", "PAD1", {"given_name": "Ana", "local_id": "PAD1"})
    assert a != event_id("/legacy/tributos", "PAD1", {"local_id": "PAD1", "given_name": "Ana"})
    assert a != event_id("/legacy/padron", "PAD1", {"local_id": "PAD1", "given_name": "Ana María"})
