"""The inbox on a directory: files written aside are not read half way, a loaded file moves to done/ or refused/ with
its report and dead letters beside it, a name taken gets another; the worker's pass stops when the broker is away."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from functions.intake import inbox as inbox_module
from functions.intake import job
from functions.intake.inbox import LocalInbox, one_pass, safe_name
from tests.unit.intake.fakes import FakeBroker, FakeIntakeStore, make_ports

SAMPLES = Path(__file__).resolve().parents[3] / "functions" / "intake" / "samples"


def test_put_pending_and_finish(tmp_path: Path) -> None:
    box = LocalInbox(tmp_path)
    content = (SAMPLES / "padron-2026-12.txt").read_bytes()
    assert box.put("padron", "padron.txt", content) == "padron.txt"
    other = box.put("padron", "padron.txt", b"other")  # the name is waiting: another name, nothing overwritten
    assert other != "padron.txt" and other.startswith("padron.") and other.endswith(".txt")
    (tmp_path / "padron" / ".half.txt.part").write_bytes(b"half")
    assert box.pending("padron") == sorted(["padron.txt", other])
    outcome = job.run("padron", "padron.txt", box.read("padron", "padron.txt"), make_ports())
    where = Path(box.finish("padron", "padron.txt", outcome.report, outcome.dead_letters))
    assert where == tmp_path / "padron" / "done" / "padron.txt" and where.read_bytes() == content
    report = json.loads((where.parent / "padron.txt.report.json").read_text(encoding="utf-8"))
    assert report["loaded"] == 12
    dead = (where.parent / "padron.txt.dead-letters.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(d)["line"] for d in dead] == [5, 8, 11] and json.loads(dead[0])["file"] == "padron.txt"


def test_a_pass_loads_each_file_and_stops_when_the_broker_is_away(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    box = LocalInbox(tmp_path)
    box.put("padron", "a.txt", (SAMPLES / "padron-2026-12.txt").read_bytes())
    box.put("padron", "b-utf8.txt", (SAMPLES / "padron-2026-12-utf8.txt").read_bytes())
    box.put("tributos", "t.csv", (SAMPLES / "tributos-2026-ibi-ivtm.csv").read_bytes())
    store = FakeIntakeStore()
    away = make_ports(store, FakeBroker(fail_after=0))
    monkeypatch.setattr("functions.intake.bootstrap.ports", lambda: away)
    # the broker away: the first file stops the pass, every file stays where it was
    assert one_pass(box, ["padron", "tributos"]) == []
    assert box.pending("padron") == ["a.txt", "b-utf8.txt"] and box.pending("tributos") == ["t.csv"]
    back = make_ports(store, FakeBroker())
    monkeypatch.setattr("functions.intake.bootstrap.ports", lambda: back)
    done = one_pass(box, ["padron", "tributos"])
    assert [(r.name, r.status) for r in done] == [("a.txt", "done"), ("b-utf8.txt", "refused"), ("t.csv", "done")]
    assert box.pending("padron") == [] and box.pending("tributos") == []
    assert (tmp_path / "padron" / "refused" / "b-utf8.txt.report.json").exists()
    assert (tmp_path / "tributos" / "done" / "t.csv").exists()
    assert inbox_module.DONE == "done"


def test_names_are_made_safe() -> None:
    assert safe_name("../../etc/passwd") == "passwd"
    assert safe_name(".hidden.csv") == "hidden.csv"
    assert safe_name("padrón 2026.txt") == "padr_n_2026.txt"
