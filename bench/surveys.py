"""Surveys in process (SURV, issue 16): ``python -m bench surveys``.

- responses recorded per second by the use case (``handlers.respond``: the link verified, the answers checked
  against the conditions, the response and its ``survey.answered`` staged, the unit committed) on the in-memory
  store of the unit tests, with the store calls each response makes (reads and writes through the port, which the
  DynamoDB adapter turns into one GetItem each and one TransactWriteItems);
- results computed for 100,000 responses (rate, per question counts, mean and median, NPS, CSAT, the breakdowns
  by district and channel, the free texts), time and peak memory (``tracemalloc``), and the PNG plot.
"""

from __future__ import annotations

import random
import sys
import time
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.stats import machine, record_section
from functions.core import signed_links
from functions.core.policy import EmbeddedPolicy, PolicyBundle
from functions.survey import handlers, results
from functions.survey.handlers import SurveyPorts
from functions.survey.service import Response, SurveyInput
from tests.unit.fakes import FixedClock
from tests.unit.survey.fakes import FakeSurveyStore

TITLE = "## Surveys in process (SURV)"
RESPONSES = 5_000
RESULTS = 100_000
NOW = datetime(2026, 12, 14, 9, tzinfo=UTC)
TEXT = {"es": "Pregunta", "en": "Question"}
DEFINITION = {
    "title": {"es": "Atención", "en": "Service"},
    "mode": "anonymous",
    "questions": [
        {"id": "csat", "kind": "scale", "min": 1, "max": 5, "text": TEXT},
        {"id": "why", "kind": "text", "text": TEXT, "show_if": {"question": "csat", "one_of": [1, 2]}},
        {"id": "nps", "kind": "nps", "text": TEXT},
        {"id": "channel", "kind": "single", "text": TEXT,
         "choices": [{"id": c, "label": TEXT} for c in ("office", "phone", "web")]},
        {"id": "topics", "kind": "multiple", "text": TEXT, "required": False,
         "choices": [{"id": c, "label": TEXT} for c in ("tax", "fine", "census", "waste")]},
    ],
}  # fmt: skip


class CountingStore(FakeSurveyStore):
    """The fake store, counting the port's calls (each a store call of the DynamoDB adapter)."""

    calls: int = 0

    def __getattribute__(self, name: str) -> Any:
        if name.startswith(("fetch_", "stage_")):
            object.__setattr__(self, "calls", object.__getattribute__(self, "calls") + 1)
        return object.__getattribute__(self, name)


def _ports(store: FakeSurveyStore) -> SurveyPorts:
    policy = EmbeddedPolicy(PolicyBundle.load(Path("policies")))
    return SurveyPorts(store=store, policy=policy, clock=FixedClock(NOW), api_url="https://pic.test")


def _answers(rng: random.Random) -> dict[str, Any]:
    score = rng.choice([1, 2, 3, 4, 4, 5, 5, 5])
    answers: dict[str, Any] = {"csat": score, "nps": rng.randint(0, 10), "channel": rng.choice(["office", "web"]),
                               "topics": rng.sample(["tax", "fine", "census", "waste"], 2)}  # fmt: skip
    if score <= 2:
        answers["why"] = "La espera fue larga y nadie me explicó el trámite."
    return answers


def record_responses(n: int = RESPONSES) -> tuple[float, float]:
    """Responses per second, and the port's reads and writes per response (a new response each)."""
    store = CountingStore()
    ports = _ports(store)
    survey = handlers.create("bench", SurveyInput.model_validate(DEFINITION), "agent:bench", ports)
    store.commit(survey.unit)
    store.commit(handlers.open_survey("bench", 1, ports).unit)
    rng = random.Random(7)
    tokens = [signed_links.sign("survey", {"s": "bench", "c": f"c-{i}", "n": f"n-{i:08d}", "d": "01", "cmp": None})
              for i in range(n)]  # fmt: skip
    bodies = [_answers(rng) for _ in range(n)]
    store.calls = 0
    start = time.perf_counter()
    for i in range(n):
        staged = handlers.respond(handlers.Respond("bench", tokens[i], None, bodies[i], None, "email"), ports, None)
        store.commit(staged.unit)
    elapsed = time.perf_counter() - start
    per_response = store.calls / n
    return n / elapsed, per_response


def compute_results(n: int = RESULTS) -> tuple[float, float, int]:
    """Seconds and peak MiB to compute the results of ``n`` responses, and the PNG's size."""
    store = FakeSurveyStore()
    ports = _ports(store)
    store.commit(handlers.create("bench", SurveyInput.model_validate(DEFINITION), "agent:bench", ports).unit)
    store.commit(handlers.open_survey("bench", 1, ports).unit)
    rng = random.Random(11)
    for i in range(n):
        store.responses[("bench", f"a-{i}")] = Response(
            "bench", f"a-{i}", _answers(rng), 1, district=f"{rng.randint(1, 21):02d}",
            channel=rng.choice(["email", "sms", "push", "inapp"]),
        )  # fmt: skip
    store.invited["bench"] = int(n * 1.6)
    start = time.perf_counter()
    found = handlers.results("bench", "es", ports)
    elapsed = time.perf_counter() - start
    tracemalloc.start()  # a second run for the memory: tracing slows the computation several times
    handlers.results("bench", "es", ports)
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    png = results.plot(found, "png", "es")
    return elapsed, peak, len(png)


def main(argv: list[str]) -> None:
    n = int(argv[0]) if argv else RESPONSES
    rate, calls = record_responses(n)
    seconds, peak, png = compute_results()
    print(f"responses recorded: {rate:,.0f}/s in process; {calls:.1f} store calls per response (port)")
    print(f"results of {RESULTS:,} responses: {seconds:.2f} s, peak {peak:.1f} MiB; PNG {png / 1024:.0f} KiB")
    rows = [
        (f"responses recorded in process, {n:,} new anonymous ones (`handlers.respond` on the in-memory store: link "
         "verified, answers checked against the conditions, response, marker and `survey.answered` committed)",
         f"{rate:,.0f} /s"),
        ("the port's calls per new response (reads: survey, response; writes: response, marker); on DynamoDB 2 "
         "GetItem + 1 TransactWriteItems with the outbox row (`store_call_budgets.json`)", f"{calls:.1f}"),
        (f"results of {RESULTS:,} responses (scale, text, NPS, single and multiple choice; NPS, CSAT, 21 districts, "
         "4 channels)", f"{seconds:.2f} s"),
        ("peak memory while computing them (`tracemalloc`, the responses already in memory)", f"{peak:.1f} MiB"),
        ("the results' PNG plot", f"{png / 1024:.0f} KiB"),
    ]  # fmt: skip
    table = "\n".join(f"| {name} | {figure} |" for name, figure in rows)
    when = f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {machine()}"
    note = (
        "The results read every response of the survey (one Query of index `by-survey`, paged by DynamoDB at 1 MB): "
        "at 100,000 responses of ~200 bytes that is ~20 pages; the computation above is what the function then "
        "spends. The machine is shared with other sessions: compare rows of one run."
    )
    body = f"Recorded {when} (`bench/surveys.py`, `python -m bench surveys`).\n\n| measure | figure |\n|---|---|\n"
    record_section(TITLE, f"{TITLE}\n\n{body}{table}\n\n{note}\n")


if __name__ == "__main__":
    main(sys.argv[1:])
