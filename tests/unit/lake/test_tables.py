"""The Delta adapter on a temporary directory (delta-rs, no service): the merge is exactly once, an erasure leaves
the person's pseudonym in no byte of the table (files, old versions, log), the snapshot replaces its partition."""

from __future__ import annotations

from pathlib import Path

from functions.lake import service
from functions.lake.service import Pseudonymiser
from functions.lake.tables import DeltaTables
from tests.unit.lake import samples
from tests.unit.lake.samples import CASE

PSEUDO = Pseudonymiser(b"k" * 32)


def every_byte(root: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file())


def test_merge_erase_and_snapshot(tmp_path: Path) -> None:
    r = service.rules()
    tables = DeltaTables(str(tmp_path), ["cases", "cases_current"])
    mine = service.row_of(r, CASE, "/pic/case", "e-1", samples.case(), PSEUDO)
    other = service.row_of(
        r, CASE, "/pic/case", "e-2", samples.case(citizen_id="cit-other", case_id="case-" + "0" * 23 + "9"), PSEUDO
    )
    assert mine and other
    columns = service.columns_of(r, "cases")
    assert tables.merge("cases", columns, [mine, other]) == 2
    assert tables.merge("cases", columns, [mine]) == 0  # a row committed again: no second row
    assert tables.snapshot("cases", "cases_current", "case_id", "version", "2026-12-07") == 2  # each case's latest
    assert tables.snapshot("cases", "cases_current", "case_id", "version", "2026-12-07") == 2  # a rerun replaces
    assert tables.summary("cases_current", "2026-12-07", 5)["rows"] == 2
    assert tables.summary("cases", "2026-12-07", 5, ("level", "1"))["rows"] == 2
    summary = tables.summary("cases", "2026-12-07", 5)
    assert summary["rows"] == 2 and summary["files"] and summary["files"][0]["path"].startswith("day=2026-12-07/")
    assert samples.CID.encode() not in every_byte(tmp_path) and mine.person.encode() in every_byte(tmp_path)

    assert tables.erase([mine.person]) == {"cases": 1, "cases_current": 1}
    assert mine.person.encode() not in every_byte(tmp_path)  # no file, old version or log entry keeps it
    assert other.person.encode() in every_byte(tmp_path)
    assert tables.summary("cases", "2026-12-07", 5)["rows"] == 1
    assert tables.expire("cases", "2026-12-07") == 0 and tables.expire("cases", "2026-12-08") == 1
    tables.compact("cases")  # after the expiry: nothing left to merge, and nothing breaks
    assert tables.summary("cases", None, 5)["rows"] == 0
    tables.write_catalogue(service.catalogue(r, tables.location))
    assert (tmp_path / "catalogue.json").exists()
