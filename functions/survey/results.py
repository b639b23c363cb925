"""A survey's results: response rate, per question counts (and mean and median on a scale), NPS, CSAT, the
breakdown by district and channel, the free-text answers; as JSON, CSV and a plot.

- NPS (Net Promoter Score, Reichheld 2003): % promoters (9–10) − % detractors (0–6) of the NPS answers, −100..100.
- CSAT: % of the answers of a 1–5 scale that are 4 or 5.
- Anonymous surveys: a breakdown group (a district, a channel) with fewer than ``MIN_GROUP`` respondents is not
  shown (it is counted in ``suppressed``): so few answers could point at a person. Free-text answers are listed
  shuffled and without time, so their order says nothing of who answered when.
Pure functions over the responses: ``handlers.results`` reads them, the entry point renders.
"""

from __future__ import annotations

import io
import random
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any, Literal

from functions.core.csvfile import to_csv
from functions.survey.service import Language, Question, Response, Survey, bounds

MIN_GROUP = 5


def nps(scores: list[int]) -> float | None:
    """% promoters (9–10) − % detractors (0–6), one decimal; None without answers."""
    if not scores:
        return None
    promoters = sum(1 for s in scores if s >= 9)
    detractors = sum(1 for s in scores if s <= 6)
    return round(100 * (promoters - detractors) / len(scores), 1)


def csat(scores: list[int]) -> float | None:
    """% of 4–5 answers on a 1–5 scale, one decimal; None without answers."""
    if not scores:
        return None
    return round(100 * sum(1 for s in scores if s >= 4) / len(scores), 1)


def _is_csat(q: Question) -> bool:
    return q.kind == "scale" and (q.min, q.max) == (1, 5)


def _question(q: Question, answers: list[Any], language: Language, anonymous: bool) -> dict[str, Any]:
    text = q.text.es if language == "es" else q.text.en
    item: dict[str, Any] = {"id": q.id, "kind": q.kind, "text": text, "answered": len(answers)}
    if q.kind in ("single", "multiple"):
        counts: Counter[str] = Counter()
        for a in answers:
            counts.update(a if isinstance(a, list) else [a])
        item["choices"] = [{"id": c.id, "label": c.label.es if language == "es" else c.label.en,
                            "count": counts.get(c.id, 0)} for c in q.choices]  # fmt: skip
    elif q.kind in ("scale", "nps"):
        scores = [int(a) for a in answers]
        low, high = bounds(q)
        distribution = Counter(scores)
        item["distribution"] = {str(v): distribution.get(v, 0) for v in range(low, high + 1)}
        item["mean"] = round(statistics.fmean(scores), 2) if scores else None
        item["median"] = statistics.median(scores) if scores else None
        if q.kind == "nps":
            item["nps"] = nps(scores)
        if _is_csat(q):
            item["csat"] = csat(scores)
    else:
        texts = [str(a) for a in answers]
        if anonymous:
            random.SystemRandom().shuffle(texts)
        item["answers"] = texts
    return item


def _headline(survey: Survey, responses: list[Response]) -> tuple[str | None, str | None]:
    """The survey's headline measure: its first NPS question, else its first 1–5 scale (CSAT)."""
    for q in survey.definition.questions:
        if q.kind == "nps":
            return "nps", q.id
    for q in survey.definition.questions:
        if _is_csat(q):
            return "csat", q.id
    return None, None


def _measure(kind: str | None, qid: str | None, group: list[Response]) -> float | None:
    if kind is None or qid is None:
        return None
    scores = [int(v) for r in group if isinstance(v := r.answers.get(qid), int)]
    return nps(scores) if kind == "nps" else csat(scores)


def _breakdown(
    survey: Survey, responses: list[Response], by: Literal["district", "channel"], kind: str | None, qid: str | None
) -> dict[str, Any]:
    groups: dict[str, list[Response]] = defaultdict(list)
    for r in responses:
        groups[(r.district if by == "district" else r.channel) or "unknown"].append(r)
    anonymous = survey.definition.mode == "anonymous"
    rows, suppressed = [], 0
    for key in sorted(groups):
        group = groups[key]
        if anonymous and len(group) < MIN_GROUP:
            suppressed += len(group)
            continue
        rows.append({by: key, "responded": len(group), kind or "measure": _measure(kind, qid, group)})
    note = None
    if anonymous:
        note = (
            f"groups of fewer than {MIN_GROUP} respondents are not shown (anonymous); {suppressed} response(s) in them"
        )
    return {"rows": rows, "suppressed": suppressed, "note": note}


def compute(survey: Survey, responses: list[Response], invited: int, language: Language) -> dict[str, Any]:
    """Everything the results show, JSON-ready."""
    anonymous = survey.definition.mode == "anonymous"
    per_question = []
    for q in survey.definition.questions:
        answers = [r.answers[q.id] for r in responses if q.id in r.answers]
        per_question.append(_question(q, answers, language, anonymous))
    kind, qid = _headline(survey, responses)
    responded = len(responses)
    return {
        "survey_id": survey.id,
        "title": survey.definition.title.es if language == "es" else survey.definition.title.en,
        "mode": survey.definition.mode,
        "invited": invited,
        "responded": responded,
        "response_rate": round(100 * responded / invited, 1) if invited else None,
        "headline": {"measure": kind, "question": qid, "value": _measure(kind, qid, responses)},
        "questions": per_question,
        "by_district": _breakdown(survey, responses, "district", kind, qid),
        "by_channel": _breakdown(survey, responses, "channel", kind, qid),
    }


def as_csv(found: dict[str, Any]) -> str:
    """One row per question and value: question, kind, value, count (and the means and scores as rows)."""
    rows: list[dict[str, Any]] = []
    for q in found["questions"]:
        base = {"question": q["id"], "kind": q["kind"]}
        for c in q.get("choices", []):
            rows.append({**base, "value": c["id"], "count": c["count"]})
        for value, count in q.get("distribution", {}).items():
            rows.append({**base, "value": value, "count": count})
        for name in ("mean", "median", "nps", "csat"):
            if q.get(name) is not None:
                rows.append({**base, "value": name, "count": q[name]})
        for text in q.get("answers", []):
            rows.append({**base, "value": text, "count": 1})
    return to_csv(rows, ["question", "kind", "value", "count"])


LABELS: dict[str, dict[str, str]] = {
    "es": {"responses": "respuestas", "rate": "tasa de respuesta", "empty": "sin respuestas"},
    "en": {"responses": "responses", "rate": "response rate", "empty": "no answers"},
}


@dataclass(frozen=True)
class _Panel:
    title: str
    labels: list[str]
    values: list[int]


def _panels(found: dict[str, Any]) -> list[_Panel]:
    panels = []
    for q in found["questions"]:
        title = q["text"][:60]
        if "nps" in q and q["nps"] is not None:
            title += f" — NPS {q['nps']:+.1f}"
        if q.get("csat") is not None:
            title += f" — CSAT {q['csat']:.1f} %"
        if "choices" in q:
            panels.append(_Panel(title, [c["label"][:20] for c in q["choices"]], [c["count"] for c in q["choices"]]))
        elif "distribution" in q:
            panels.append(_Panel(title, list(q["distribution"]), list(q["distribution"].values())))
    return panels


def plot(found: dict[str, Any], fmt: Literal["png", "svg"], language: Language = "es") -> bytes:
    """One bar chart per closed question (choices, scale, NPS), the headline score in its title. matplotlib is
    imported on the first plot only."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    words = LABELS[language]
    panels = _panels(found) or [_Panel(words["empty"], [], [])]
    figure, axes_list = plt.subplots(len(panels), 1, figsize=(7, 2.4 * len(panels) + 0.6), dpi=100, squeeze=False)
    for axes, panel in zip(axes_list[:, 0], panels, strict=True):
        axes.bar(range(len(panel.values)), panel.values, color="#1f5f8b")
        axes.set_xticks(range(len(panel.labels)), panel.labels, fontsize=8)
        axes.set_title(panel.title, fontsize=9)
        axes.set_ylabel(words["responses"], fontsize=8)
    rate = found["response_rate"]
    figure.suptitle(f"{found['title']} — {found['responded']} {words['responses']}"
                    + (f", {words['rate']} {rate:.1f} %" if rate is not None else ""), fontsize=10)  # fmt: skip
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format=fmt, metadata={"Software": None} if fmt == "png" else {"Date": None})
    plt.close(figure)
    return buffer.getvalue()
