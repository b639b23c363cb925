"""Change data capture on a real PostgreSQL (logical decoding, pgoutput) into the real platform: Licencias' rows
become the holder's record (resolved by C360 to the person the Padrón knows) and the permit in their global
position; an update and a delete follow; a capture killed in the middle of a stream and started again loses
nothing and delivers nothing twice to the consumers; a row that fails the event's schema is dead-lettered with the
reason while the stream goes on; a DDL under the mapping stops the capture with the reason.

PostgreSQL is started once for the module (``local.postgres``, as ``make run`` does), the capture as its own
process (``python -m functions.cdc run``) so that it can be killed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from local import lifeline, postgres
from local.harness import ROOT, Platform, free_port

pytestmark = pytest.mark.functional

RECORD = "es.madrid.pic.citizen.record.upserted.v1"
ITEM = "es.madrid.pic.position.item.upserted.v1"
SOURCE = "/legacy/licencias"

if postgres.missing_reason():
    pytest.skip(postgres.missing_reason() or "", allow_module_level=True)


class Licencias:
    """The module's PostgreSQL and the capture process against the session's platform."""

    def __init__(self, platform: Platform, data_dir: Path) -> None:
        self.platform, self.data_dir = platform, data_dir
        self.server = postgres.start(data_dir, free_port())
        postgres.wait_ready(data_dir)
        postgres.load_sample(data_dir)
        token = data_dir / "legacy-licencias.token"
        token.write_text(platform.senders.token("legacy-licencias"), encoding="utf-8")
        self.status = data_dir / "status.json"
        self.env = {
            **os.environ, "PYTHONPATH": str(ROOT), "PIC_CDC_DSN": postgres.dsn(data_dir, postgres.CDC_ROLE),
            "K_SINK": platform.url("/events"), "PIC_SENDER_TOKEN_FILE": str(token),
            "PIC_CDC_STATUS_FILE": str(self.status), "PIC_CDC_IDLE_SECONDS": "0.05", "PIC_CDC_BATCH": "8",
        }  # fmt: skip
        self.capture: subprocess.Popen[str] | None = None

    def start_capture(self) -> None:
        lifeline.require_main_thread()
        self.capture = subprocess.Popen(
            lifeline.command([sys.executable, "-m", "functions.cdc", "run"]),
            cwd=ROOT, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip

    def kill_capture(self) -> None:
        assert self.capture is not None
        self.capture.send_signal(signal.SIGKILL)
        self.capture.wait(timeout=10)

    def sql(self, statement: str, *params: Any) -> None:
        with psycopg.connect(postgres.dsn(self.data_dir, postgres.APP_ROLE), autocommit=True) as conn:
            conn.execute(statement, params or None)

    def published(self, subject: str, type_: str = ITEM) -> list[dict[str, Any]]:
        return [e for e in self.platform.events(type_, subject) if e["source"] == SOURCE]

    def close(self) -> None:
        if self.capture is not None and self.capture.poll() is None:
            self.capture.terminate()
            self.capture.wait(timeout=10)
        postgres.stop(self.server, self.data_dir)


@pytest.fixture(scope="module")
def licencias(platform: Platform, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Licencias]:
    running = Licencias(platform, tmp_path_factory.mktemp("licencias"))
    running.start_capture()
    yield running
    running.close()


def golden_record(platform: Platform, dni: str) -> str:
    """A person the Padrón knows, with her DNI: her golden record's id."""
    local_id = f"PAD{uuid.uuid4().hex[:10]}"
    data = {"local_id": local_id, "document": {"type": "DNI", "number": dni}, "given_name": "Elena",
            "first_surname": "Soto", "birth_date": "1980-05-17"}  # fmt: skip
    assert platform.send_event(RECORD, data, source="/legacy/padron", subject=local_id).status_code == 202
    system = platform.as_("svc-licencias-test", role="system")

    def found() -> str | None:
        got = platform.http.get(platform.url("/v1/citizens"), params={"source": "/legacy/padron", "local_id": local_id},
                                headers=system, timeout=10)  # fmt: skip
        return str(got.json()["citizen_id"]) if got.status_code == 200 else None

    return str(platform.wait_for(found, timeout=30, what="the Padrón record's golden record"))


def permits(platform: Platform, citizen_id: str) -> dict[str, dict[str, Any]]:
    got = platform.http.get(platform.url(f"/v1/citizens/{citizen_id}/position"), headers=platform.as_(citizen_id),
                            timeout=10)  # fmt: skip
    assert got.status_code == 200, got.text
    section = {s["section"]: s for s in got.json()["sections"]}.get("permits") or {}
    return {i["item_id"]: i for i in section.get("items") or []}


def dni() -> str:
    number = uuid.uuid4().int % 10**8
    return f"{number:08d}{'TRWAGMYFPDXBNJZSQVHLCKE'[number % 23]}"


def test_rows_become_the_holder_and_the_permit_in_her_position(platform: Platform, licencias: Licencias) -> None:
    # GIVEN Elena on the Padrón, and the sample rows' snapshot published (the company's record dead-lettered)
    document = dni()
    citizen = golden_record(platform, document)
    holder, file = f"LT-{uuid.uuid4().hex[:8]}", f"711/2026/{uuid.uuid4().int % 10**5:05d}"
    # WHEN Licencias registers her as a holder and her licence file, in one transaction
    with psycopg.connect(postgres.dsn(licencias.data_dir, postgres.APP_ROLE)) as conn:
        conn.execute(
            "INSERT INTO licencias.titulares (id, tipo_documento, numero_documento, nombre, apellido1,"
            " fecha_nacimiento) VALUES (%s, 'DNI', %s, 'Elena', 'Soto', '1980-05-17')",
            (holder, document),
        )
        conn.execute(
            "INSERT INTO licencias.expedientes (id, titular_id, tipo, descripcion, estado, vigencia, tasa_eur)"
            " VALUES (%s, %s, 'obra-menor', 'Cambio de solado', 'en-tramite', NULL, 80.25)",
            (file, holder),
        )
    # THEN C360 resolves the holder to her, and her position lists the permit
    item = platform.wait_for(
        lambda: permits(platform, citizen).get(file), timeout=30, what="the permit in the position"
    )
    assert item["status"] == "en-tramite" and item["title"] == "Licencia de obra menor: Cambio de solado"
    # WHEN the file is granted, THEN the position follows
    licencias.sql("UPDATE licencias.expedientes SET estado = 'concedida', vigencia = '2027-06-30' WHERE id = %s", file)
    granted = platform.wait_for(lambda: (permits(platform, citizen).get(file) or {}).get("status") == "concedida"
                                and permits(platform, citizen)[file], what="the permit granted")  # fmt: skip
    assert granted["valid_until"] == "2027-06-30"
    # WHEN the file is deleted, THEN it leaves her position (the old row says whose it was: REPLICA IDENTITY FULL)
    licencias.sql("DELETE FROM licencias.expedientes WHERE id = %s", file)
    platform.wait_for(lambda: file not in permits(platform, citizen), what="the permit removed")
    # AND the sample company (a CIF is no person's document) is in the platform's dead letters, with the reason
    letters = [d for d in platform.deadletters() if d["event"]["source"] == SOURCE]
    assert any(d["event"]["subject"] == "LT-000003" and "document.type" in d["reason"] for d in letters), letters


def test_a_capture_killed_mid_stream_loses_nothing_and_sends_nothing_twice(
    platform: Platform, licencias: Licencias
) -> None:
    # GIVEN a holder with many files, one transaction each, read by the capture eight changes at a time
    holder = f"LT-{uuid.uuid4().hex[:8]}"
    licencias.sql("INSERT INTO licencias.titulares (id, nombre) VALUES (%s, 'Rafael')", holder)
    files = [f"500/2026/{holder[-5:]}{n:02d}" for n in range(40)]

    def commit(some: list[str]) -> None:
        for file in some:
            licencias.sql("INSERT INTO licencias.expedientes (id, titular_id, tipo, descripcion, estado) VALUES"
                          " (%s, %s, 'actividad', 'Local', 'en-tramite')", file, holder)  # fmt: skip

    # WHEN the capture is killed (SIGKILL: no clean shutdown) while it publishes the first sixteen, more are
    # committed while it is dead, and it is started again
    commit(files[:16])
    platform.wait_for(lambda: len(licencias.published(holder)) >= 5, what="the stream under way")
    licencias.kill_capture()
    before = len({e["id"] for e in licencias.published(holder)})
    commit(files[16:])
    licencias.start_capture()
    # THEN every file arrives: one event id per change, however often the ingress saw it
    platform.wait_for(lambda: len({e["id"] for e in licencias.published(holder)}) >= len(files), timeout=30,
                      what="every change published")  # fmt: skip
    events = licencias.published(holder)
    assert 5 <= before <= 16 < len(files)  # killed while the stream went on; the rest waited in the slot
    assert sorted({e["data"]["item_id"] for e in events}) == sorted(files)
    assert len({e["id"] for e in events}) == len(files)  # a change decoded again is the same event (deduplicated)
    # AND the slot's confirmed position moved past them (nothing left to re-read)
    platform.wait_for(lambda: json.loads(licencias.status.read_text())["counters"]["confirmed_lsn"],
                      what="the position confirmed")  # fmt: skip


def test_a_ddl_under_the_mapping_stops_the_capture_saying_why(platform: Platform, licencias: Licencias) -> None:
    # GIVEN the capture running (last in this module: it ends stopped)
    holder = f"LT-{uuid.uuid4().hex[:8]}"
    licencias.sql("INSERT INTO licencias.titulares (id, nombre) VALUES (%s, 'Before')", holder)
    platform.wait_for(lambda: licencias.published(holder, RECORD), what="a change before the DDL")
    # WHEN Licencias renames a column the mapping reads, and writes under the new schema
    licencias.sql("ALTER TABLE licencias.titulares RENAME COLUMN nombre TO nombre_completo")
    licencias.sql("UPDATE licencias.titulares SET nombre_completo = 'After' WHERE id = %s", holder)
    # THEN the capture exits 2 with the reason, and published nothing garbled
    assert licencias.capture is not None
    assert licencias.capture.wait(timeout=20) == 2
    output = licencias.capture.stdout.read() if licencias.capture.stdout else ""
    assert "licencias.titulares changed: column nombre is gone" in output, output[-2000:]
    assert [e["data"].get("given_name") for e in licencias.published(holder, RECORD)] == ["Before"]
    assert json.loads(licencias.status.read_text())["state"] == "halted"
