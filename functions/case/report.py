"""The SLA report (CASE): % of SLA clocks met per agent, team (queue), area and level, for the cases resolved in a
month, with the backlog's age — as rows for the API, CSV for a spreadsheet, and a plot (PNG or SVG).

Each case resolved in the month counts once per clock its category runs: met when what it measures happened
within its business-time target, breached otherwise (computed from the case's history on the area's calendar as
of its resolution, ``functions/case/sla.py``). It is attributed to the agent who resolved it, the queue and level it
was in, and its area. Zammad's and Chatwoot's users ask for exactly this per agent and team, with export.
"""

from __future__ import annotations

import io
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from functions.case.config import AreaConfig
from functions.case.service import Case, clocks
from functions.core.csvfile import to_csv

By = Literal["agent", "queue", "area", "level"]
BY: tuple[By, ...] = ("agent", "queue", "area", "level")
MEASURES = ("first-response", "next-response", "resolution")


@dataclass(frozen=True)
class Row:
    key: str
    measure: str
    met: int
    breached: int

    @property
    def total(self) -> int:
        return self.met + self.breached

    @property
    def percent_met(self) -> float:
        return round(100.0 * self.met / self.total, 1) if self.total else 0.0


def resolver_of(case: Case) -> str:
    """The agent who resolved it (the last move to ``resolved``), else whoever it was assigned to."""
    moves = [e.actor for e in case.history if e.kind == "state" and e.state == "resolved"]
    actor = moves[-1] if moves else f"agent:{case.assignee or '—'}"
    return actor.split(":", 1)[1] if ":" in actor else actor


def key_of(case: Case, by: By) -> str:
    return {"agent": resolver_of(case), "queue": case.queue, "area": case.area, "level": str(case.level)}[by]


def rows(cases: Iterable[Case], configs: dict[str, AreaConfig], by: By) -> list[Row]:
    """Met and breached per key and measure, for cases with a resolution (as of it)."""
    counts: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for case in cases:
        config = configs.get(case.area)
        if config is None or case.resolved_at is None:
            continue
        for clock in clocks(case, config, case.resolved_at):
            if clock.status in ("met", "breached"):
                counts[(key_of(case, by), clock.measure)][0 if clock.status == "met" else 1] += 1
    return [Row(key, measure, met, breached) for (key, measure), (met, breached) in sorted(counts.items())]


def backlog_age(waiting: Iterable[Case], now: datetime) -> dict[str, float]:
    """How long the cases still waiting have waited, in hours: the oldest and the median."""
    ages = sorted((now - c.opened_at).total_seconds() / 3600 for c in waiting)
    if not ages:
        return {"waiting": 0, "oldest_hours": 0.0, "median_hours": 0.0}
    return {"waiting": len(ages), "oldest_hours": round(ages[-1], 1), "median_hours": round(ages[len(ages) // 2], 1)}


def as_csv(report: list[Row], by: By) -> str:
    """The rows as CSV through the kernel's writer (cells a spreadsheet would run are neutralised)."""
    columns = [by, "measure", "met", "breached", "total", "percent_met"]
    return to_csv(
        [
            dict(zip(columns, (r.key, r.measure, r.met, r.breached, r.total, r.percent_met), strict=True))
            for r in report
        ],
        columns,
    )


# the plot's words in the report's language (the desk's; Spanish by default, the council's)
LABELS: dict[str, dict[str, str]] = {
    "es": {"ylabel": "% ANS cumplido", "title": "ANS cumplido por {by}, casos resueltos en {month}",
           "agent": "agente", "queue": "cola", "area": "área", "level": "nivel", "first-response": "primera respuesta",
           "next-response": "siguiente respuesta", "resolution": "resolución", "empty": "ningún caso resuelto"},
    "en": {"ylabel": "% SLA met", "title": "SLA met by {by}, cases resolved in {month}", "agent": "agent",
           "queue": "queue", "area": "area", "level": "level", "first-response": "first response",
           "next-response": "next response", "resolution": "resolution", "empty": "no case resolved"},
}  # fmt: skip


def plot(report: list[Row], by: By, month: str, fmt: Literal["png", "svg"], language: str = "es") -> bytes:
    """A grouped bar chart: % met per key, one bar per measure, with the count of clocks on each bar, labelled in
    ``language``. matplotlib is imported here, on the first plot: no other route of the function pays for it."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    words = LABELS.get(language, LABELS["es"])
    keys = sorted({r.key for r in report})
    measures = [m for m in MEASURES if any(r.measure == m for r in report)]
    found = {(r.key, r.measure): r for r in report}
    figure, axes = plt.subplots(figsize=(max(6.0, 1.2 * len(keys) + 2), 4), dpi=100)
    width = 0.8 / max(1, len(measures))
    for i, measure in enumerate(measures):
        xs = [k + i * width for k in range(len(keys))]
        values = [found[(key, measure)].percent_met if (key, measure) in found else 0.0 for key in keys]
        bars = axes.bar(xs, values, width, label=words[measure])
        for bar, key in zip(bars, keys, strict=True):
            row = found.get((key, measure))
            if row:
                axes.annotate(str(row.total), (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                              ha="center", va="bottom", fontsize=7)  # fmt: skip
    axes.set_xticks([k + width * (len(measures) - 1) / 2 for k in range(len(keys))], keys, rotation=20, ha="right")
    axes.set_ylim(0, 105)
    axes.set_ylabel(words["ylabel"])
    axes.set_title(words["title"].format(by=words[by], month=month))
    if measures:
        axes.legend(loc="lower right", fontsize=8)
    else:
        axes.text(0.5, 0.5, words["empty"], ha="center", va="center", transform=axes.transAxes)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format=fmt, metadata={"Software": None} if fmt == "png" else {"Date": None})
    plt.close(figure)
    return buffer.getvalue()
