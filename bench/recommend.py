"""Recommendations (REC, issue 18) over the generated city: suggestions per citizen per second in process, the share
of the city that gets at least one suggestion, by rule, and the throughput extrapolated to Madrid's 3.5 M.

People come from ``seed.city.generate`` (the same synthetic Madrid as C360's work: birth dates, home districts and
the area systems each person is known to). What the seed does not carry is derived from each person's id by a
seeded hash, every rate stated here an ASSUMPTION of this benchmark, not a statistic:
- mode b (consented to personalisation): 30 % of adults; under 14 never (LOPDGDD art. 7, facts.md);
- RGPD: an objection to personalisation 0.5 %, a restriction 0.05 %;
- IBI: a person known to Tributos pays the IBI of 2024 and 2025; each year by card 45 %, Bizum 15 %, at the bank
  40 %, drawn once per person (habits repeat) with a 20 % chance of changing in the second year; 35 % of them
  already pay it by direct debit;
- vehicles: Tributos' seed facts give every person it knows a vehicle (IVTM): registered at their home district;
  the SER resident card is held by the people the seed puts in SER's system;
- Madrid Mayor card held: 50 % of residents aged 65 or over (assumption);
- bookings: people in Deportes booked ``deporte``, people in Cultura ``musica`` or ``teatro`` (half each); their
  home zone is shared for location by 60 % of mode-b people;
- agenda: 5,000 events over the 21 districts (in proportion to none: uniform), categories among ``deporte``,
  ``musica``, ``teatro``, ``talleres``, ``exposiciones``, ``infantil``, each with a date in the next 100 days.

Timed: ``handlers.suggestions_for`` on each person's profile with the real ``policies/recommend`` (embedded regorus,
its per-process memo as deployed) and the agenda events of their zones handed in (what the store's by-district Query
returns): the rules, the policy, its decision log line (written to /dev/null) and the suggestions' texts; not the
store. Shares are reported twice: over the whole
city with the mode-b rate above, and "if everyone were in mode b" (what the facts alone would fire), which does not
depend on the assumed consent rate.

``python -m bench.recommend [people]`` (default 200,000) or ``python -m bench recommend``.
"""

from __future__ import annotations

import hashlib
import sys
import time
from collections import Counter
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.cpu import decision_log_discarded
from bench.stats import record_section, recorded
from functions.core.policy import EmbeddedPolicy, PolicyBundle
from functions.recommend import handlers
from functions.recommend.handlers import RecommendPorts
from functions.recommend.service import AgendaEvent, Profile
from seed.city import CityConfig, Person, SystemRecord, age_on, generate

TITLE = "## Recommendations: suggestions over the generated city"
RESIDENTS = 3_527_924  # Padrón 1 January 2025 (../shared/data/madrid/facts.md)
SEED = 18
AT = datetime(2026, 12, 10, 10, 0, tzinfo=UTC)
TODAY = date(2026, 12, 10)
CATEGORIES = ("deporte", "musica", "teatro", "talleres", "exposiciones", "infantil")
DISTRICTS = tuple(f"{i:02d}" for i in range(1, 22))
RULES = ("ibi-direct-debit", "ser-resident-card", "madrid-mayor", "agenda-events")
ROOT = Path(__file__).resolve().parents[1]


class FixedClock:
    """The benchmark's instant: every person is suggested to on the same day."""

    def now(self) -> datetime:
        return AT


def draw(person_id: str, what: str) -> float:
    """A uniform number in [0, 1) fixed by the person and what is drawn (the same city, the same facts)."""
    digest = hashlib.blake2b(f"{SEED}:{person_id}:{what}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def _method(u: float) -> str:
    return "card" if u < 0.45 else "bizum" if u < 0.60 else "bank"


def profile_of(person: Person, records: list[SystemRecord]) -> Profile:
    """The profile REC would have projected for this person from the events their facts give (module doc)."""
    pid = person.person_id
    systems = {r.system for r in records}
    age = age_on(person.birth_date, TODAY)
    district = person.address["district"] if person.resident else None
    mode = "b" if age >= 14 and draw(pid, "mode") < 0.30 else "a"
    objections = ("personalisation",) if draw(pid, "objection") < 0.005 else ()
    restricted = draw(pid, "restricted") < 0.0005
    ibi: dict[str, dict[str, object]] = {}
    debits: dict[str, dict[str, object]] = {}
    vehicles: dict[str, dict[str, object]] = {}
    cards: dict[str, str] = {}
    if "tributos" in systems:
        first = _method(draw(pid, "ibi-method"))
        second = _method(draw(pid, "ibi-method-2")) if draw(pid, "ibi-change") < 0.20 else first
        ref = f"REF{pid[-7:]}"
        domiciled = draw(pid, "ibi-debit") < 0.35
        for year, method in ((2024, first), (2025, second)):
            ibi[f"IBI-{year}-{pid}"] = {"tax": "IBI", "period": str(year), "object": ref, "debit": domiciled,
                                        "method": "bank" if domiciled else method}  # fmt: skip
        vehicles[f"P{pid[-7:]}"] = {"district": district, "at": AT.isoformat()}
    if "ser" in systems:
        cards[f"card-ser-{pid}"] = "ser-residente"
    if district and age >= 65 and draw(pid, "mayor-card") < 0.5:
        cards[f"card-mm-{pid}"] = "madrid-mayor"
    bookings: dict[str, str] = {}
    if "deportes" in systems:
        bookings[f"bk-d-{pid}"] = "deporte"
    if "cultura" in systems:
        bookings[f"bk-c-{pid}"] = "musica" if draw(pid, "culture") < 0.5 else "teatro"
    zones = ({"kind": "home", "district": district, "barrio": None, "label": None},) if (
        district and draw(pid, "zone") < 0.60) else ()  # fmt: skip
    return Profile(
        pid, mode, AT, restricted, objections, AT, person.birth_date, district, None, AT, ibi, debits, vehicles,
        cards, bookings, zones, AT, version=1,
    )  # fmt: skip


def agenda(count: int = 5_000) -> dict[str, list[AgendaEvent]]:
    """The agenda's events by district, as the by-district Query returns them."""
    by: dict[str, list[AgendaEvent]] = {d: [] for d in DISTRICTS}
    for i in range(count):
        eid = f"ag-{i:05d}"
        district = DISTRICTS[int(draw(eid, "district") * len(DISTRICTS))]
        category = CATEGORIES[int(draw(eid, "category") * len(CATEGORIES))]
        when = AT + timedelta(days=1 + int(draw(eid, "day") * 100), hours=int(draw(eid, "hour") * 10))
        by[district].append(AgendaEvent(eid, f"Actividad {i}", category, district, None, (when,)))
    return by


def run(people: int) -> dict[str, Any]:
    policy = EmbeddedPolicy(PolicyBundle.load(ROOT / "policies"))
    ports = RecommendPorts(store=None, policy=policy, clock=FixedClock())  # type: ignore[arg-type]
    events = agenda()
    fired: Counter[str] = Counter()
    fired_if_b: Counter[str] = Counter()
    any_rule = any_if_b = suggestions = mode_b = 0
    elapsed = 0.0
    started = time.perf_counter()
    for person, records in generate(CityConfig(people=people, seed=SEED)):
        profile = profile_of(person, records)
        mode_b += profile.mode == "b"
        near = [e for z in profile.zones for e in events.get(str(z["district"]), [])]
        tick = time.perf_counter()
        answer = handlers.suggestions_for(profile, ports, near)
        elapsed += time.perf_counter() - tick
        rules = {s.rule for s in answer.suggestions}
        suggestions += len(answer.suggestions)
        fired.update(rules)
        any_rule += bool(rules)
        if profile.mode != "b":  # what the facts alone would fire (not timed: the same work as above)
            answer = handlers.suggestions_for(replace(profile, mode="b"), ports, near)
            rules = {s.rule for s in answer.suggestions}
        fired_if_b.update(rules)
        any_if_b += bool(rules)
    total = time.perf_counter() - started
    return {
        "people": people, "elapsed": elapsed, "total": total, "per_second": people / elapsed, "fired": fired,
        "fired_if_b": fired_if_b, "any": any_rule, "any_if_b": any_if_b, "suggestions": suggestions,
        "mode_b": mode_b,
    }  # fmt: skip


def report(result: dict[str, Any], started: datetime) -> str:
    people, per_second, elapsed = int(result["people"]), float(result["per_second"]), float(result["elapsed"])
    mode_b, any_rule, any_if_b, count = (int(result[k]) for k in ("mode_b", "any", "any_if_b", "suggestions"))
    fired, fired_if_b = result["fired"], result["fired_if_b"]

    def pct(n: int) -> str:
        return f"{100 * n / people:.1f} %"

    rows = "\n".join(f"| `{rule}` | {pct(fired[rule])} | {pct(fired_if_b[rule])} |" for rule in RULES)
    city = RESIDENTS / per_second
    return f"""{TITLE}

{recorded(started, "python -m bench recommend")}

Measured on {people:,} people of the generated city (`seed.city`, seed {SEED}); the rates the seed does not carry
are the assumptions stated in `bench/recommend.py` (mode b 30 % of adults, IBI payment habits, cards held, zones
shared). In process: the rules, the real `policies/recommend` (embedded regorus with its per-process memo, as
deployed: people alike share a decision; its decision log line written, to /dev/null) and the suggestions' texts,
each person's profile and their zones' agenda events handed in (5,000 events); not the store (one GetItem of the
profile and one Query per zone district per read: `docs/benchmarks.md`, "Store calls per operation").

| measure | figure |
|---|---|
| suggestions per citizen per second, in process, one core | {per_second:,.0f} |
| time for the {people:,} people (suggesting only) | {elapsed:.1f} s |
| people in mode b (assumed 30 % of adults) | {pct(mode_b)} |
| people with at least one suggestion | {pct(any_rule)} |
| ... if everyone were in mode b | {pct(any_if_b)} |
| suggestions in all | {count:,} |
| **3,527,924 citizens (Madrid's Padrón), extrapolated** | **{city:,.0f} s on one core ({city / 60:.1f} min)** |

By rule, the share of the city with a suggestion of it (with the assumed consents; if everyone were in mode b):

| rule | share | if everyone were in mode b |
|---|---|---|
{rows}

The 3.5 M figure is extrapolated linearly from this run of {people:,} (the cost per person does not grow with the
city: no cross-person state but the policy's memo, which only helps); it was not run on 3.5 M people, which takes
the seed generator alone ~0.2 ms a person (~12 min). Spread over the event function's instances (Knative scales
`pic-recommend-events`/`pic-recommend` to 20 pods), or computed on read as REC does (a citizen's page asks for their
own suggestions; nothing is precomputed for 3.5 M people), the city-wide figure is a batch bound, not a latency.
"""


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    people = int(args[0]) if args and args[0] != "--quick" else (20_000 if args else 200_000)
    started = datetime.now(UTC)
    with decision_log_discarded():  # written as deployed (one JSON line a decision), into /dev/null
        result = run(people)
    text = report(result, started)
    print(text)
    record_section(TITLE, text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
