"""Small helpers: percentiles, the machine, the report table."""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

REPORT = Path("docs/benchmarks.md")


@dataclass
class Figure:
    name: str
    value: str
    goal: str = ""
    verdict: str = ""


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def us(seconds: float) -> str:
    return f"{seconds * 1e6:.1f} µs"


def ms(seconds: float) -> str:
    return f"{seconds * 1e3:.1f} ms"


def median(samples: list[float]) -> float:
    return statistics.median(samples)


def machine() -> str:
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            cpu = next((ln.split(":", 1)[1].strip() for ln in info if ln.startswith("model name")), cpu)
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    java = subprocess.run(["java", "-version"], capture_output=True, text=True).stderr.splitlines()[:1]
    return (
        f"{cpu}, {os.cpu_count()} cores, {mem:.0f} GiB RAM; {platform.system()} {platform.release()}; "
        f"Python {platform.python_version()}; {java[0] if java else 'no java'}"
    )


def load() -> str:
    """The load average when a figure was taken: the machine is shared, so it goes next to the figure."""
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def table(figures: list[Figure]) -> str:
    rows = "\n".join(f"| {f.name} | {f.value} | {f.goal} | {f.verdict} |" for f in figures)
    return f"| measure | figure | goal | verdict |\n|---|---|---|---|\n{rows}\n"


def recorded(started: datetime, command: str) -> str:
    """The line that says when, where and how a section was recorded."""
    return (
        f"Recorded by `{command}` (and `make bench`) on {started:%Y-%m-%d %H:%M} UTC; machine: {machine()}; "
        f"load average {load()} when recorded (the machine is shared with other sessions)."
    )


def record_section(title: str, text: str, report: Path = REPORT) -> None:
    """Put a ``## title`` section in the report: replacing the one recorded before, else before "Goals not met"
    (each benchmark owns its section, so recording one leaves the others as they were)."""
    current = report.read_text(encoding="utf-8")
    if not text.startswith(title):
        text = f"{title}\n\n{text}"
    if title in current:
        head, rest = current.split(title, 1)
        tail = rest[rest.find("\n## ") + 1 :] if "\n## " in rest else ""
        report.write_text(f"{head}{text}\n{tail}", encoding="utf-8")
        return
    marker = "## Goals not met"
    head, found, tail = current.partition(marker)
    report.write_text(f"{head}{text}\n{found}{tail}" if found else f"{current}\n{text}", encoding="utf-8")


def timed(step: Callable[[int], object], n: int) -> tuple[float, float]:
    """p50 and p99 of one call, in microseconds (each call timed on its own, after a warm-up)."""
    for i in range(min(n, 2_000)):
        step(i)
    samples = []
    for i in range(n):
        start = time.perf_counter_ns()
        step(i)
        samples.append((time.perf_counter_ns() - start) / 1_000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.99) - 1]
