"""The legacy adapters on the real platform (the inbox part, the broker, C360, PAY over HTTP): a Padrón extract dropped
in the inbox and a Tributos file posted to the API become golden records and debts, their bad lines reported; a file
in the wrong encoding is refused whole; the same file again changes nothing."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from local.harness import Platform

pytestmark = pytest.mark.functional

SAMPLES = Path(__file__).resolve().parents[3] / "functions" / "intake" / "samples"


def fresh(name: str, run: str) -> bytes:
    """A sample with keys of this run's own (the same length: the fixed-width layout keeps its positions)."""
    content = (SAMPLES / name).read_bytes()
    return (
        content.replace(b"M190000", f"M{run}".encode())
        .replace(b"CT19", f"CT{run}".encode())
        .replace(b"-2026-19", f"-2026-{run}".encode())
    )


def system(platform: Platform) -> dict[str, str]:
    return platform.as_("svc-area-files", role="system")


def report(platform: Platform, file_id: str) -> dict[str, Any]:
    answer = platform.http.get(platform.url(f"/v1/intake/files/{file_id}"), headers=system(platform), timeout=15)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def finished(platform: Platform, file_id: str) -> dict[str, Any]:
    def done() -> dict[str, Any] | None:
        answer = platform.http.get(platform.url(f"/v1/intake/files/{file_id}"), headers=system(platform), timeout=15)
        body = answer.json() if answer.status_code == 200 else {}
        return body if body.get("status") in ("done", "refused") else None

    return dict(platform.wait_for(done, timeout=30, what=f"the report of {file_id}"))


def submit(platform: Platform, system_name: str, name: str, content: bytes) -> dict[str, Any]:
    head = {**system(platform), "content-type": "application/octet-stream"}
    url = platform.url(f"/v1/intake/{system_name}/files?name={name}")
    answer = platform.http.post(url, data=content, headers=head, timeout=30)
    assert answer.status_code == 202, answer.text
    return dict(answer.json())


def test_a_padron_extract_and_a_tributos_file_become_golden_records_and_debts(platform: Platform) -> None:
    run = os.urandom(3).hex()  # six hex digits: this run's keys
    padron, tributos = fresh("padron-2026-12.txt", run), fresh("tributos-2026-ibi-ivtm.csv", run)
    # WHEN the Padrón's extract is dropped in the inbox and Tributos' receipts are posted to the API
    inbox = platform.data_dir / "inbox" / "padron"
    inbox.mkdir(parents=True, exist_ok=True)
    (inbox / ".padron.part").write_bytes(padron)
    (inbox / ".padron.part").replace(inbox / f"padron-{run}.txt")
    posted = submit(platform, "tributos", f"tributos-{run}.csv", tributos)
    assert posted["status"] == "queued" and posted["report"] == f"/v1/intake/files/{posted['file_id']}"
    # THEN each file is loaded, its bad lines reported with line, reason and (to a system) the raw text
    pad = platform.wait_for(lambda: next((inbox / "done").glob(f"padron-{run}.txt.report.json"), None), timeout=30,
                            what="the Padrón extract moved to done/")  # fmt: skip
    body = json.loads(pad.read_text(encoding="utf-8"))
    assert (body["status"], body["loaded"], body["refused"]) == ("done", 12, 3)
    assert [b["line"] for b in body["bad_lines"]] == [5, 8, 11]
    dead = (inbox / "done" / f"padron-{run}.txt.dead-letters.jsonl").read_text(encoding="utf-8").splitlines()
    assert json.loads(dead[0])["reason"].startswith("fecha_nacimiento") and len(dead) == 3
    tri = finished(platform, posted["file_id"])
    assert (tri["status"], tri["loaded"], tri["refused"]) == ("done", 13, 3) and tri["bad_lines"][0]["raw"]
    # AND the Padrón's person and Tributos' taxpayer (the same DNI) are one golden record, whose debts PAY shows
    lookup = platform.url(f"/v1/citizens?source=/legacy/padron&local_id=M{run}00002")

    def golden() -> str | None:
        answer = platform.http.get(lookup, headers=system(platform), timeout=15)
        return answer.json()["citizen_id"] if answer.status_code == 200 else None

    citizen = platform.wait_for(golden, timeout=30, what="the Padrón record's golden record")
    debts_url = platform.url(f"/v1/citizens/{citizen}/debts")

    def debts() -> list[str] | None:
        found = platform.http.get(debts_url, headers=platform.as_(citizen), timeout=15).json().get("debts", [])
        ids = sorted(d["id"] for d in found if run in d["id"])
        return ids if len(ids) == 2 else None

    assert platform.wait_for(debts, timeout=30, what="the IBI and IVTM receipts in PAY") == [
        f"receipt-IBI-2026-{run}00002", f"receipt-IVTM-2026-{run}00002"]  # fmt: skip
    # AND an administrator reads the report without the refused lines' raw text (personal data)
    admin = platform.http.get(platform.url(f"/v1/intake/files/{posted['file_id']}"),
                              headers=platform.as_("adm-1", role="admin"), timeout=15).json()  # fmt: skip
    assert admin["bad_lines"] and "raw" not in admin["bad_lines"][0]

    # WHEN the same extract is posted again
    sent = len(platform.events("es.madrid.pic.citizen.record.upserted.v1"))
    again = finished(platform, submit(platform, "padron", f"padron-{run}.txt", padron)["file_id"])
    # THEN nothing changes: twelve unchanged, no event sent
    assert (again["loaded"], again["unchanged"], again["refused"], again["runs"]) == (0, 12, 3, 2)
    assert len(platform.events("es.madrid.pic.citizen.record.upserted.v1")) == sent


def test_a_file_in_the_wrong_encoding_is_refused_whole_and_bad_requests_are_problems(platform: Platform) -> None:
    # WHEN the Padrón's extract written in UTF-8 by mistake is posted
    utf8 = fresh("padron-2026-12-utf8.txt", os.urandom(3).hex())
    refused = finished(platform, submit(platform, "padron", "padron-utf8.txt", utf8)["file_id"])
    # THEN it is refused whole, with the reason, and moved to refused/
    assert refused["status"] == "refused" and "written in UTF-8" in refused["reason"] and refused["loaded"] == 0
    assert list((platform.data_dir / "inbox" / "padron" / "refused").glob("*padron-utf8.txt.report.json"))
    # AND an unknown system, a format the system does not send, an unknown report, a citizen: problems
    head = {**system(platform), "content-type": "text/csv"}
    unknown = platform.http.post(
        platform.url("/v1/intake/catastro/files?name=a.csv"), data=b"x", headers=head, timeout=15
    )
    assert unknown.status_code == 404 and unknown.json()["type"] == "/problems/intake-system-unknown"
    wrong = platform.http.post(
        platform.url("/v1/intake/tributos/files?name=a.txt"), data=b"x", headers=head, timeout=15
    )
    assert wrong.status_code == 422 and wrong.json()["type"] == "/problems/intake-file-refused"
    missing = platform.http.get(platform.url("/v1/intake/files/padron-00000000000000000000"), headers=system(platform),
                                timeout=15)  # fmt: skip
    assert missing.status_code == 404
    citizen = platform.http.get(platform.url("/v1/intake/files"), headers=platform.as_("c-x"), timeout=15)
    assert citizen.status_code == 403
    listed = platform.http.get(platform.url("/v1/intake/files?system=padron&limit=5"), headers=system(platform),
                               timeout=15).json()["files"]  # fmt: skip
    assert listed and all(f["system"] == "padron" for f in listed)
