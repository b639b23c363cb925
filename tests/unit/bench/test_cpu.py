"""``bench/cpu.py`` with a handful of operations each: every use case ran, each one did its work (writes staged
and committed on the fake store, or items a question answered or a fan-out wrote), so the benchmark cannot
silently measure a no-op; and recording the figures replaces their section of ``docs/benchmarks.md`` rather than
adding one."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from bench import cpu

N = 3


@pytest.fixture(scope="module")
def results() -> list[cpu.Result]:
    return cpu.run_all(n=N, warmup=1)


def test_every_operation_ran_n_times_on_the_cpu_clock(results: list[cpu.Result]) -> None:
    assert [r.operation for r in results] == list(cpu.OPERATIONS)
    for result in results:
        assert len(result.samples_ns) == N and all(s > 0 for s in result.samples_ns), result.operation.name
        assert result.mean_us > 0 and result.per_core > 0


def test_every_operation_did_its_work_each_time(results: list[cpu.Result]) -> None:
    # a command or event stages at least one write (its state, or its event) per run; a question answers
    for result in results:
        assert result.work >= N, f"{result.operation.name} measured {result.work} {result.operation.work}"


def test_the_writes_are_those_of_the_use_case_not_a_replay(results: list[cpu.Result]) -> None:
    # GIVEN what each command stages the first time (state + proof + consent.changed; a golden record with its
    # pointer, document claim, blocks and citizen.updated; a merge moving links, documents and the review)
    writes = {r.operation.name: r.work // N for r in results if r.operation.work == "writes"}
    assert writes["consent change (PUT, a first consent)"] == 3
    assert writes["record upserted, creating a golden record"] >= 5
    assert writes["review decided: match (merge)"] >= 5
    # AND the questions answered in full: the clerk's two sections, a page of 50 entries, an allowed contact
    items = {r.operation.name: r.work // N for r in results if r.operation.work == "items"}
    assert items["position read, decided part by part"] == 2
    assert items["access log page (50 entries)"] == 50
    assert items["contact decision (consent policy from memo)"] == 1


def test_notifications_are_decided_delivered_and_fanned_out_in_full(results: list[cpu.Result]) -> None:
    # GIVEN what notification's use cases write each time: a notification and its accepted event; a delivery's
    # claim committed ahead (sending + its event) and its outcome (delivered + its event), or in-app the message,
    # the notification delivered and the sending and delivered events in one unit; the consent in the profile
    work = {r.operation.name: r.work // N for r in results if r.operation.domain == "notification"}
    assert work["notification to a citizen (POST)"] == 2
    assert work["notification to a citizen (requested event)"] == 2
    assert work["delivery by e-mail (claim, send, outcome)"] == 4
    assert work["delivery in-app"] == 4
    assert work["consent projected (consent.changed)"] == 1
    # AND a fan-out wrote one notification per subscriber of the page, per row of the chunk
    assert work[f"alert page fan-out ({cpu.FAN_OUT} subscribers)"] == cpu.FAN_OUT
    assert work[f"bulk chunk ({cpu.FAN_OUT} rows)"] == cpu.FAN_OUT


def test_the_use_cases_the_issue_names_are_measured() -> None:
    domains = {op.domain for op in cpu.OPERATIONS}
    assert {"consent", "citizen", "position", "interaction", "audit", "rgpd", "notification"} <= domains


def test_recording_replaces_the_section_and_keeps_the_others(results: list[cpu.Result], tmp_path: Path) -> None:
    report = tmp_path / "benchmarks.md"
    report.write_text("# Benchmarks\n\n| a | b |\n\n## History\n\nold\n\n## Goals not met, and why\n\n- x\n")
    for _ in range(2):
        cpu.record(cpu.section(results, date(2026, 12, 3), N), report)
    text = report.read_text()
    assert text.count(cpu.TITLE) == 1 and text.count("## Goals not met") == 1 and "## History" in text
    assert text.index("## History") < text.index(cpu.TITLE) < text.index("## Goals not met")
    assert all(op.name in text for op in cpu.OPERATIONS)
