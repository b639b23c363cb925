"""The data platform's exports on the real local platform: facts in through the broker (a case opened through the
API, office tickets from the queue manager), the day's Parquet in a Delta table with pseudonyms, read by DuckDB; no
raw identifier in any byte of the lake; a special category left out; a redelivery exported once; the erasure
removes the person's rows and the files that held them, and a late fact stays out; bad input refused."""

from __future__ import annotations

import hashlib
import hmac
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from local.harness import Platform

pytestmark = pytest.mark.functional

TICKET = "es.madrid.pic.office.ticket.served.v1"
DNI = "50012345T"
VISIT = "person_pseudonym, area, outcome"


def admin(platform: Platform) -> dict[str, str]:
    return platform.as_("lake-admin", role="admin")


def ticket(citizen: str, area: str, at: datetime) -> dict[str, Any]:
    return {"office": "oac-centro", "ticket": "B017", "issued_at": (at - timedelta(minutes=9)).isoformat(),
            "queue": "oac-centro-padron", "service": "Empadronamiento", "area": area, "at": at.isoformat(),
            "citizen_id": citizen, "record": None, "desk": "4",
            "agent_id": "agent-lake", "outcome": "resolved"}  # fmt: skip


def send_ticket(platform: Platform, data: dict[str, Any], event_id: str) -> None:
    sent = platform.send_event(TICKET, data, source="/legacy/gestor-colas", event_id=event_id)
    assert sent.status_code in (200, 202), sent.text


def flush(platform: Platform) -> dict[str, Any]:
    def once() -> dict[str, Any] | None:
        response = platform.http.post(platform.url("/v1/lake/flush"), headers=admin(platform), timeout=60)
        if response.status_code == 409:  # the flusher part holds the lease this moment
            return None
        assert response.status_code == 200, response.text
        return dict(response.json())

    return dict(platform.wait_for(once, timeout=20, what="a flush"))


def partition(platform: Platform, table: str, day: str) -> dict[str, Any]:
    response = platform.http.get(platform.url(f"/v1/lake/tables/{table}/partitions/{day}"), headers=admin(platform),
                                 timeout=30)  # fmt: skip
    assert response.status_code == 200, response.text
    return dict(response.json())


def lake_bytes(root: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file() and p.name != "pseudonym.key")


def rows_of(root: Path, table: str, files: list[dict[str, Any]], columns: str) -> list[tuple[Any, ...]]:
    """The partition's current files (as the table's log lists them) read by DuckDB, as any engine would."""
    paths = [str(root / "tables" / table / f["path"]) for f in files]
    if not paths:
        return []
    return duckdb.sql(f"SELECT {columns} FROM read_parquet({paths!r})").fetchall()


def test_the_days_export_is_pseudonymised_exactly_once_and_erasure_removes_it(platform: Platform) -> None:
    citizen = f"c-lake-{uuid.uuid4().hex[:8]}"
    lake = platform.data_dir / "lake"
    now = datetime.now(UTC)
    day = now.date().isoformat()
    # GIVEN a case the person opens through the API and two office visits, one at Servicios Sociales (art. 9)
    me = {**platform.as_(citizen), "content-type": "application/json"}
    case = platform.http.post(platform.url("/v1/cases"), headers=me, timeout=15, json={
        "citizen_id": citizen, "area": "hacienda", "category": "fraccionamiento", "channel": "web",
        "subject": f"Fraccionar el IBI, mi DNI es {DNI}"})  # fmt: skip
    assert case.status_code == 201, case.text
    served = str(uuid.uuid4())
    send_ticket(platform, ticket(citizen, "atencion-ciudadania", now), served)
    send_ticket(platform, ticket(citizen, "servicios-sociales", now), str(uuid.uuid4()))
    platform.settle(citizen)
    assert not [d for d in platform.deadletters() if d["subscriber"] == "pic-lake-events"]

    # WHEN the staged rows are flushed
    flush(platform)

    # THEN the day's partitions hold the person's rows under their pseudonym, readable by DuckDB
    person = hmac.new((lake / "pseudonym.key").read_bytes(), citizen.encode(), hashlib.sha256).hexdigest()[:32]
    visits = partition(platform, "office_visits", day)
    mine = [r for r in rows_of(lake, "office_visits", visits["files"], VISIT) if r[0] == person]
    assert mine == [(person, "atencion-ciudadania", "resolved")]  # Servicios Sociales' visit is not exported
    assert all(f["path"].startswith(f"day={day}/") and f["path"].endswith(".parquet") for f in visits["files"])
    cases = partition(platform, "cases", day)
    assert (person, "hacienda", "new") in rows_of(lake, "cases", cases["files"], "person_pseudonym, area, state")
    # and no raw identifier, document or free text in any byte of the lake (files, log, catalogue)
    everything = lake_bytes(lake)
    for raw in (citizen, DNI, "Fraccionar", case.json()["id"], "agent-lake"):
        assert raw.encode() not in everything, raw
    assert (lake / "catalogue.json").exists()

    # WHEN the ticket is delivered again THEN it is still one row
    send_ticket(platform, ticket(citizen, "atencion-ciudadania", now), served)
    platform.settle(citizen)
    flush(platform)
    visits = partition(platform, "office_visits", day)
    assert [r for r in rows_of(lake, "office_visits", visits["files"], VISIT) if r[0] == person] == mine

    # WHEN the person asks for erasure and the lake has answered
    erasure = platform.http.post(platform.url(f"/v1/citizens/{citizen}/rgpd-requests"), headers=me, timeout=15,
                                 json={"right": "erasure", "grounds": "consent-withdrawn"})  # fmt: skip
    assert erasure.status_code == 202, erasure.text
    platform.wait_for(lambda: [e for e in platform.events("es.madrid.pic.rgpd.domain.answered.v1")
                               if e["data"]["domain"] == "lake" and e["data"]["citizen_id"] == citizen],
                      timeout=30, what="the lake's answer")  # fmt: skip
    # and a late ticket from before the erasure arrives
    send_ticket(platform, ticket(citizen, "atencion-ciudadania", now - timedelta(minutes=1)), str(uuid.uuid4()))
    platform.settle(citizen)
    flush(platform)  # (or the flusher part's own pass, every 10 s)

    # THEN the person's rows, the files that held them and the late fact are gone from every table
    assert person.encode() not in lake_bytes(lake / "tables")
    assert not [r for r in rows_of(lake, "office_visits", partition(platform, "office_visits", day)["files"], VISIT)
                if r[0] == person]  # fmt: skip


def test_bad_input_and_other_callers_are_refused(platform: Platform) -> None:
    def get(path: str, headers: dict[str, str]) -> Any:
        return platform.http.get(platform.url(path), headers=headers, timeout=15)

    bad_day = get("/v1/lake/tables/cases/partitions/2026-13-01", admin(platform))
    assert (bad_day.status_code, bad_day.json()["type"].rsplit("/", 1)[-1]) == (400, "lake-partition-invalid")
    unknown = get("/v1/lake/tables/secrets/partitions/2026-12-07", admin(platform))
    assert (unknown.status_code, unknown.json()["type"].rsplit("/", 1)[-1]) == (404, "lake-table-unknown")
    citizen = platform.as_("c-lake-stranger")
    assert platform.http.post(platform.url("/v1/lake/flush"), headers=citizen, timeout=15).status_code == 403
    assert get("/v1/lake/tables/cases/partitions/2026-12-07", citizen).status_code == 403
    catalogue = get("/v1/lake/catalogue", admin(platform))
    assert catalogue.status_code == 200 and {t["name"] for t in catalogue.json()["tables"]} >= {
        "cases",
        "office_visits",
    }
