"""Campaigns: segments at the scale of the city (CAMP, issue 16). The audience columns of Madrid's 3,527,924
residents are generated straight to Parquet by DuckDB (seeded, streamed: constant memory), then the segment
engine is timed on them as a campaign manager uses it: the issue's example counted by channel, a city-wide
segment counted by channel, a city-wide snapshot built and paged by the dispatcher, and a saved segment's
membership re-evaluated on one consent change.

Each step runs in a fresh process (``multiprocessing`` spawn), so its peak RSS (``resource.getrusage``) is its
own. ``python -m bench.campaigns [scale | --quick]`` (scale 1 is the city) or ``python -m bench campaigns``.

Where the rates come from (all stated; every one is an assumption unless a source is named):
- population 3,527,924 (Padrón at 1 January 2025, ../shared/data/madrid/facts.md), spread over the 21 districts
  in proportion to their Padrón populations at 1 January 2020 (../shared/data/madrid/districts.json), and
  evenly over each district's barrios (barrios.json; even: an assumption);
- age pyramid: ASSUMED bands close to the Padrón's shape for Madrid city (0–13 12 %, 14–17 3.5 %, 18–29 14 %,
  30–44 21 %, 45–64 29 %, 65–79 14 %, 80+ 6.5 %: ≈20.5 % aged 65+); uniform within a band;
- language English 4 % (assumption: the share choosing English in PIC), else Spanish;
- contact points (assumptions): e-mail 70 % of adults, mobile 85 %, push (app installed) 20 %, in-app inbox for
  everyone known to PIC; none for children under 14;
- consents (assumptions; none under 14, LOPDGDD art. 7, facts.md): campaigns granted by 35 % of the rest —
  e-mail 80 %, SMS 35 %, push 20 %, in-app 50 % of those; surveys by 25 % — e-mail 85 %, SMS 25 %, in-app 40 %;
- preferences: 30 % set a channel order (five common orders), quiet hours 22:00–08:00 for 15 %, 23:00–07:00
  for 5 % (assumptions);
- zones of interest: own district 10 %, own barrio 5 %, another district 3 % (assumptions);
- relationships: IBI payer 45 % of adults (assumption), a traffic fine in the last year 20 % of adults (≈2.6–2.7 M
  fines a year, ../shared/MISSION.md, over fewer distinct people), a case 8 % (in one of eight areas), a card 10 %,
  an appointment 5 %, a permit 2 % (assumptions);
- RGPD: restriction 0.05 %, objection to campaigns 0.5 %, to surveys 0.2 % (assumptions: rare);
- last interaction: 40 % in the last 90 days, 30 % in the last three years, 30 % never (assumption).
"""

from __future__ import annotations

import gc
import json
import multiprocessing
import os
import random
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.stats import ms, pct, record_section, recorded

TITLE = "## Campaigns: segments"
RESIDENTS = 3_527_924  # Padrón 1 January 2025 (../shared/data/madrid/facts.md)
SEED = 16
AT = datetime(2026, 12, 10, 10, 0, tzinfo=UTC)  # a Thursday, 11:00 in Madrid: outside everyone's quiet hours
DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "madrid"
AGE_BANDS = ((0, 13, 12.0), (14, 17, 3.5), (18, 29, 14.0), (30, 44, 21.0), (45, 64, 29.0), (65, 79, 14.0),
             (80, 100, 6.5))  # fmt: skip
ORDERS = (["email"], ["sms", "email"], ["push", "email"], ["email", "sms"], ["inapp"])
CASE_AREAS = ("urbanismo", "servicios-sociales", "medio-ambiente", "limpieza", "movilidad", "vivienda",
              "empadronamiento", "hacienda")  # fmt: skip
EXAMPLE = {"version": 1, "filter": {"all": [
    {"district": ["02"]}, {"age": {"min": 65}},
    {"consent": {"purpose": "campaigns", "channels": ["sms", "email"]}}]}}  # fmt: skip
CITY_WIDE = {"version": 1, "filter": {"all": [{"age": {"min": 18}}, {"not": {"restricted": True}}]}}
BROAD = {"version": 1, "filter": {"any": [
    {"relation": {"section": "taxes", "area": "hacienda"}}, {"relation": {"section": "fines"}},
    {"all": [{"zone": ["02", "03", "023"]}, {"interacted": {"within_days": 365}}]}]}}  # fmt: skip


def _districts() -> list[tuple[str, int, list[str]]]:
    """(code, residents, barrio codes) per district: the 2020 Padrón's shares of the 2025 total."""
    districts = json.loads((DATA / "districts.json").read_text(encoding="utf-8"))["districts"]
    barrios = json.loads((DATA / "barrios.json").read_text(encoding="utf-8"))["barrios"]
    total = sum(d["population"] for d in districts)
    found, given = [], 0
    for i, d in enumerate(districts):
        n = RESIDENTS - given if i == len(districts) - 1 else round(RESIDENTS * d["population"] / total)
        given += n
        codes = sorted(b["barrio_code"] for b in barrios if b["district_code"] == d["code"])
        found.append((d["code"], n, codes))
    return found


def _list(items: list[tuple[str, str]]) -> str:
    """A VARCHAR[] of the items whose condition holds (SQL)."""
    parts = [f"CASE WHEN {cond} THEN ['{item}'] ELSE CAST([] AS VARCHAR[]) END" for item, cond in items]
    return "list_concat(" + ", ".join(parts) + ")" if len(parts) > 1 else parts[0]


def generation_sql(residents: int, out: Path) -> str:
    """One streaming COPY: every column from seeded hashes of the row number (``u(i, k)`` uniform in [0, 1))."""
    districts = _districts()
    scale = residents / RESIDENTS
    bounds, lo = [], 0
    for k, (code, n, codes) in enumerate(districts):
        hi = residents if k == len(districts) - 1 else lo + max(1, round(n * scale))
        bounds.append((code, lo, hi, codes))
        lo = hi
    district = "CASE " + " ".join(f"WHEN i < {hi} THEN '{code}'" for code, _, hi, _ in bounds) + " END"
    barrio = "CASE district " + " ".join(
        f"WHEN '{code}' THEN {codes}[1 + CAST(floor(u(i, 2) * {len(codes)}) AS INTEGER)]"
        for code, _, _, codes in bounds
    ) + " END"  # fmt: skip
    age_case, acc = [], 0.0
    for low, high, share in AGE_BANDS:
        acc += share / 100
        age_case.append(f"WHEN u(i, 3) < {acc:.4f} THEN {low} + CAST(floor(u(i, 4) * {high - low + 1}) AS INTEGER)")
    age = "CASE " + " ".join(age_case) + " ELSE 90 END"
    orders = "CASE " + " ".join(
        f"WHEN u(i, 20) < {0.06 * (k + 1):.2f} THEN {order}" for k, order in enumerate(ORDERS)
    ) + " ELSE CAST([] AS VARCHAR[]) END"  # fmt: skip
    campaigns = _list([("email", "u(i, 31) < 0.80"), ("sms", "u(i, 32) < 0.35"), ("push", "u(i, 33) < 0.20"),
                       ("inapp", "u(i, 34) < 0.50")])  # fmt: skip
    surveys = _list([("email", "u(i, 41) < 0.85"), ("sms", "u(i, 42) < 0.25"), ("inapp", "u(i, 43) < 0.40")])
    reachable = _list([("email", "adult_contact AND u(i, 11) < 0.70"), ("sms", "adult_contact AND u(i, 12) < 0.85"),
                       ("push", "adult_contact AND u(i, 13) < 0.20"), ("inapp", "TRUE")])  # fmt: skip
    zones = (
        "list_concat(CASE WHEN u(i, 50) < 0.10 THEN [district] ELSE CAST([] AS VARCHAR[]) END, "
        "CASE WHEN u(i, 51) < 0.05 THEN [barrio] ELSE CAST([] AS VARCHAR[]) END, "
        "CASE WHEN u(i, 52) < 0.03 THEN [other_district] ELSE CAST([] AS VARCHAR[]) END)"
    )
    case_area = f"{list(CASE_AREAS)}[1 + CAST(floor(u(i, 65) * {len(CASE_AREAS)}) AS INTEGER)]"
    relations = (
        "list_concat("
        "CASE WHEN adult AND u(i, 60) < 0.45 THEN ['taxes', 'taxes:hacienda'] ELSE CAST([] AS VARCHAR[]) END, "
        "CASE WHEN adult AND u(i, 61) < 0.20 THEN ['fines', 'fines:movilidad'] ELSE CAST([] AS VARCHAR[]) END, "
        f"CASE WHEN u(i, 62) < 0.08 THEN ['cases', 'cases:' || {case_area}] ELSE CAST([] AS VARCHAR[]) END, "
        "CASE WHEN u(i, 63) < 0.10 THEN ['wallet', 'wallet:mayor'] ELSE CAST([] AS VARCHAR[]) END, "
        "CASE WHEN u(i, 64) < 0.05 THEN ['appointments', 'appointments:empadronamiento'] "
        "ELSE CAST([] AS VARCHAR[]) END, "
        "CASE WHEN adult AND u(i, 66) < 0.02 THEN ['permits', 'permits:urbanismo'] ELSE CAST([] AS VARCHAR[]) END)"
    )  # fmt: skip
    today = AT.date()
    days_old = "CASE WHEN u(i, 70) < 0.40 THEN u(i, 71) * 90 WHEN u(i, 70) < 0.70 THEN 90 + u(i, 71) * 1005 END"
    district_codes = [code for code, *_ in bounds]
    return f"""
    COPY (
      WITH base AS (
        SELECT i, {district} AS district, {age} AS age FROM range({lo}) AS t(i)
      ), people AS (
        SELECT *, age >= 14 AS adult_contact, age >= 18 AS adult, {barrio} AS barrio,
               {district_codes}[1 + CAST(floor(u(i, 53) * 21) AS INTEGER)] AS other_district,
               age >= 14 AND u(i, 30) < 0.35 AS campaigns_granted, age >= 14 AND u(i, 40) < 0.25 AS surveys_granted
        FROM base
      ), cols AS (
        SELECT i, district, barrio, age, adult, adult_contact, other_district,
               CASE WHEN campaigns_granted THEN {campaigns} ELSE CAST([] AS VARCHAR[]) END AS campaigns_channels,
               CASE WHEN surveys_granted THEN {surveys} ELSE CAST([] AS VARCHAR[]) END AS surveys_channels,
               campaigns_granted, surveys_granted
        FROM people
      )
      SELECT
        printf('%016x', hash(i, {SEED})) AS citizen_id,
        DATE '{today.isoformat()}' - CAST(age * 365.25 + u(i, 5) * 365 AS INTEGER) AS birth_date,
        CASE WHEN u(i, 6) < 0.04 THEN 'en' ELSE 'es' END AS language,
        district, barrio,
        {zones} AS zones,
        {relations} AS relations,
        {orders} AS channels,
        CASE WHEN u(i, 21) < 0.15 THEN '22:00' WHEN u(i, 21) < 0.20 THEN '23:00' END AS quiet_start,
        CASE WHEN u(i, 21) < 0.15 THEN '08:00' WHEN u(i, 21) < 0.20 THEN '07:00' END AS quiet_end,
        CAST(json_object(
          'campaigns', CASE WHEN adult_contact THEN json_object('channels', campaigns_channels,
                       'granted', campaigns_granted, 'text_version', '2026-01') END,
          'surveys', CASE WHEN adult_contact THEN json_object('channels', surveys_channels,
                     'granted', surveys_granted, 'text_version', '2026-01') END) AS VARCHAR) AS consents,
        campaigns_channels AS consent_campaigns,
        surveys_channels AS consent_surveys,
        CASE WHEN adult_contact THEN CAST(json_object('channels', campaigns_channels, 'granted', campaigns_granted,
             'text_version', '2026-01') AS VARCHAR) ELSE '{{}}' END AS consent_json_campaigns,
        CASE WHEN adult_contact THEN CAST(json_object('channels', surveys_channels, 'granted', surveys_granted,
             'text_version', '2026-01') AS VARCHAR) ELSE '{{}}' END AS consent_json_surveys,
        u(i, 80) < 0.0005 AS restricted,
        list_concat(CASE WHEN u(i, 81) < 0.005 THEN ['campaigns'] ELSE CAST([] AS VARCHAR[]) END,
                    CASE WHEN u(i, 82) < 0.002 THEN ['surveys'] ELSE CAST([] AS VARCHAR[]) END) AS objections,
        {reachable} AS reachable,
        TIMESTAMP '{today.isoformat()} 00:00:00' - to_microseconds(CAST({days_old} * 86400e6 AS BIGINT))
          AS last_interaction
      FROM cols
    ) TO '{out}' (FORMAT parquet, ROW_GROUP_SIZE 100000)
    """


def _connect(threads: int, memory_limit: str | None) -> Any:
    from functions.campaign.columnar import connect

    con = connect(memory_limit, threads)
    con.execute(f"CREATE MACRO u(i, k) AS CAST(hash(i, k, {SEED}) % 1000000007 AS DOUBLE) / 1000000007.0")
    return con


# ---------------------------------------------------------------------------------------------------------------
# The steps, each in its own process
# ---------------------------------------------------------------------------------------------------------------


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def step_write(residents: int, out: str, memory_limit: str | None) -> dict[str, Any]:
    started = time.perf_counter()
    con = _connect(2, memory_limit)
    con.execute(generation_sql(residents, Path(out)))
    took = time.perf_counter() - started
    rows, groups = con.execute(
        f"SELECT count(*), count(DISTINCT consent_json_campaigns) FROM read_parquet('{out}')"
    ).fetchone()
    return {"seconds": took, "peak_mib": _peak_mib(), "rows": rows, "size_mib": Path(out).stat().st_size / 2**20,
            "consent_variants": groups}  # fmt: skip


def step_write_rows(n: int, out: str) -> dict[str, Any]:
    """The projection's export path: ``n`` AudienceRows through ``columnar.write_rows``."""
    from functions.campaign import columnar
    from functions.campaign.audience import AudienceRow

    rng = random.Random(SEED)

    def rows() -> Any:
        for i in range(n):
            yield AudienceRow(
                f"c{i:08d}", date(1940 + i % 70, 1 + i % 12, 1 + i % 28), "es", f"{1 + i % 21:02d}", None, (),
                ("taxes:hacienda",) if rng.random() < 0.45 else (), ("email",) if rng.random() < 0.3 else (),
                None, {"campaigns": {"granted": rng.random() < 0.35, "channels": ["email", "sms"],
                                     "text_version": "2026-01", "at": "2026-03-01T10:00:00Z"}},
                False, (), ("email", "sms", "inapp"), None,
            )  # fmt: skip

    started = time.perf_counter()
    written = columnar.write_rows(rows(), Path(out))
    took = time.perf_counter() - started
    return {"seconds": took, "rows": written, "peak_mib": _peak_mib()}


def _policy() -> Any:
    from functions.core.policy import EmbeddedPolicy, PolicyBundle

    return EmbeddedPolicy(PolicyBundle.load(Path(__file__).resolve().parents[1] / "policies"))


def step_count(path: str, raw: dict[str, Any], purpose: str, memory_limit: str | None) -> dict[str, Any]:
    from functions.campaign import columnar, segments

    policy = _policy()
    found = segments.parse(raw)
    started = time.perf_counter()
    counted = columnar.count(Path(path), found, purpose, policy, AT, sample=10, memory_limit=memory_limit)
    took = time.perf_counter() - started
    return {"seconds": took, "peak_mib": _peak_mib(), "targeted": counted.targeted, "by_channel": counted.by_channel,
            "not_sent": counted.not_sent, "groups": counted.groups,
            "explain_en": segments.explain(found, "en")}  # fmt: skip


def step_snapshot(path: str, raw: dict[str, Any], out: str, memory_limit: str | None) -> dict[str, Any]:
    from functions.campaign import columnar, segments

    policy = _policy()
    started = time.perf_counter()
    built = columnar.build_snapshot(Path(path), segments.parse(raw), "campaigns", policy, AT, Path(out),
                                    memory_limit=memory_limit)  # fmt: skip
    took = time.perf_counter() - started
    return {"seconds": took, "peak_mib": _peak_mib(), "members": built.targeted,
            "size_mib": Path(out).stat().st_size / 2**20}  # fmt: skip


def step_pages(out: str, members: int, n: int) -> dict[str, Any]:
    from functions.campaign import columnar

    rng = random.Random(SEED)
    samples = []
    columnar.page(Path(out), 0, 250)
    for _ in range(n):
        offset = rng.randrange(0, max(1, members - 250))
        started = time.perf_counter()
        got = columnar.page(Path(out), offset, 250)
        samples.append(time.perf_counter() - started)
        assert len(got) == min(250, members - offset)
    deep = []
    for _ in range(max(5, n // 10)):
        started = time.perf_counter()
        columnar.page(Path(out), max(0, members - 250), 250)
        deep.append(time.perf_counter() - started)
    return {"p50": pct(samples, 50), "p99": pct(samples, 99), "last_p50": pct(deep, 50), "peak_mib": _peak_mib()}


def saved_filters(rng: random.Random, n: int) -> list[dict[str, Any]]:
    """Realistic saved segments: a district or barrio, an age band, a consent, sometimes a relation or recency."""
    from functions.core.madrid import zones

    codes = sorted(zones())
    found = []
    for _ in range(n):
        leaves: list[dict[str, Any]] = [{"zone" if rng.random() < 0.3 else ("barrio" if len(c) == 3 else "district"):
                                         [c]} for c in rng.sample(codes, 1)]  # fmt: skip
        low = rng.choice([18, 30, 45, 65])
        leaves.append({"age": {"min": low, "max": low + rng.choice([10, 20, 40])}})
        leaves.append({"consent": {"purpose": rng.choice(["campaigns", "surveys"]),
                                   "channels": rng.sample(["email", "sms", "push", "inapp"], 2)}})  # fmt: skip
        if rng.random() < 0.5:
            leaves.append({"any": [{"relation": {"section": "taxes"}}, {"interacted": {"within_days": 180}}]})
        if rng.random() < 0.3:
            leaves.append({"not": {"objection": ["campaigns"]}})
        found.append({"version": 1, "filter": {"all": leaves}})
    return found


def step_saved(events: int) -> dict[Any, Any]:
    """One consent change: the person's row before and after, tested against every saved segment (in or out)."""
    from dataclasses import replace

    from functions.campaign import segments
    from functions.campaign.audience import AudienceRow

    rng = random.Random(SEED)
    parsed = [segments.parse(f) for f in saved_filters(rng, 100)]
    predicates = [segments.predicate(f, AT.date()) for f in parsed]
    base = AudienceRow("c1", date(1958, 5, 1), "es", "02", "023", ("02",), ("taxes:hacienda",), ("sms",), None,
                       {"campaigns": {"granted": True, "channels": ["sms"], "text_version": "2026-01"}}, False, (),
                       ("email", "sms", "inapp"), AT - timedelta(days=20))  # fmt: skip
    result = {}
    gc.collect()
    gc.disable()  # the predicate's own cost: a collection pause is the interpreter's, not the segment's
    for k in (1, 10, 100):
        chosen = predicates[:k]
        samples = []
        for e in range(events):
            after = replace(base, consents={"campaigns": {"granted": e % 2 == 0, "channels": ["sms", "email"],
                                                          "text_version": "2026-01"}})  # fmt: skip
            started = time.perf_counter_ns()
            flips = [p(base) != p(after) for p in chosen]
            samples.append((time.perf_counter_ns() - started) / 1e9)
            assert len(flips) == k
        result[k] = {"p50": pct(samples, 50), "p99": pct(samples, 99)}
    gc.enable()
    return result


def _in_process(target: Callable[..., dict[Any, Any]], *args: Any) -> dict[Any, Any]:
    """Run a step in a fresh interpreter (its own peak RSS)."""
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(1) as pool:
        return pool.apply(target, args)


def _counts(result: dict[str, Any]) -> str:
    channels = ", ".join(f"{c} {n:,}" for c, n in result["by_channel"].items())
    refused = ", ".join(f"{c} {n:,}" for c, n in result["not_sent"].items())
    return f"{result['targeted']:,} targeted → {channels}; not sent: {refused or 'none'} ({result['groups']} decisions)"


def run(scale: float = 1.0, memory_limit: str | None = None, pages: int = 200) -> str:
    os.environ.setdefault("PIC_LOG_LEVEL", "WARNING")  # the steps' processes: no decision log on stdout
    residents = max(10_000, round(RESIDENTS * scale))
    started_at = datetime.now(UTC)
    with tempfile.TemporaryDirectory(prefix="pic-campaign-bench-") as folder:
        city = str(Path(folder) / "audience.parquet")
        snapshot = str(Path(folder) / "snapshot.parquet")
        print(f"… writing the audience of {residents:,} residents", file=sys.stderr, flush=True)
        written = _in_process(step_write, residents, city, memory_limit)
        print("… counting", file=sys.stderr, flush=True)
        example = _in_process(step_count, city, EXAMPLE, "campaigns", memory_limit)
        city_wide = _in_process(step_count, city, CITY_WIDE, "campaigns", memory_limit)
        broad = _in_process(step_count, city, BROAD, "surveys", memory_limit)
        capped = _in_process(step_count, city, CITY_WIDE, "campaigns", "256MB")
        print("… snapshot and pages", file=sys.stderr, flush=True)
        built = _in_process(step_snapshot, city, CITY_WIDE, snapshot, memory_limit)
        built_capped = _in_process(step_snapshot, city, CITY_WIDE, snapshot, "512MB")
        paged = _in_process(step_pages, snapshot, built["members"], pages)
        saved = _in_process(step_saved, 2_000)
        exported = _in_process(step_write_rows, max(10_000, round(200_000 * min(scale, 1.0))),
                               str(Path(folder) / "export.parquet"))  # fmt: skip
    goal = 30.0
    rows = [
        ("write the city's audience columns (Parquet, 2 threads)",
         f"{written['seconds']:.1f} s, {written['size_mib']:.0f} MiB file, peak RSS {written['peak_mib']:.0f} MiB",
         f"{written['rows']:,} rows"),
        ("count: the issue's example (Arganzuela, 65+, consent for campaigns by SMS or e-mail)",
         f"{example['seconds']:.2f} s, peak RSS {example['peak_mib']:.0f} MiB", _counts(example)),
        ("count: city-wide (adults, not restricted), campaigns",
         f"{city_wide['seconds']:.2f} s, peak RSS {city_wide['peak_mib']:.0f} MiB", _counts(city_wide)),
        ("count: city-wide, DuckDB memory_limit 256MB",
         f"{capped['seconds']:.2f} s, peak RSS {capped['peak_mib']:.0f} MiB", "same counts" if capped["by_channel"]
         == city_wide["by_channel"] else "COUNTS DIFFER"),
        ("count: any of (IBI payer, a fine, interested in Arganzuela/Retiro and seen within a year), surveys",
         f"{broad['seconds']:.2f} s, peak RSS {broad['peak_mib']:.0f} MiB", _counts(broad)),
        ("snapshot: city-wide members with predicted channel, in citizen order",
         f"{built['seconds']:.1f} s, peak RSS {built['peak_mib']:.0f} MiB",
         f"{built['members']:,} members, {built['size_mib']:.0f} MiB"),
        ("snapshot: the same, DuckDB memory_limit 512MB",
         f"{built_capped['seconds']:.1f} s, peak RSS {built_capped['peak_mib']:.0f} MiB",
         f"{built_capped['members']:,} members"),
        (f"page of 250 at {pages} random offsets of the snapshot (one process, footer cached)",
         f"p50 {ms(paged['p50'])} / p99 {ms(paged['p99'])}; the last page p50 {ms(paged['last_p50'])}",
         f"peak RSS {paged['peak_mib']:.0f} MiB"),
    ]  # fmt: skip
    rows.append(
        (
            f"export: {exported['rows']:,} AudienceRows through `columnar.write_rows`",
            f"{exported['seconds']:.1f} s ({exported['rows'] / exported['seconds']:,.0f} rows/s), "
            f"peak RSS {exported['peak_mib']:.0f} MiB",
            "NDJSON → DuckDB → Parquet, atomic rename",
        )
    )
    for k, figures in saved.items():
        rows.append((f"a consent change re-tested against {k} saved segment(s) (before/after, `matches`)",
                     f"p50 {figures['p50'] * 1e6:.1f} µs / p99 {figures['p99'] * 1e6:.1f} µs",
                     "in process"))  # fmt: skip
    verdict = all(r["seconds"] < goal for r in (example, city_wide, broad))
    table = "| step | time, memory | result |\n|---|---|---|\n" + "\n".join(f"| {a} | {b} | {c} |" for a, b, c in rows)
    return f"""{TITLE}

{recorded(started_at, "python -m bench campaigns")}

{table}

Goal: a segment of the generated city counted by channel in < 30 s on the 2-core machine — **{
        "met" if verdict else "NOT met"
    }** (scale {scale:g}: {residents:,} residents). The count is what NOT will do: the matching rows are grouped
by the policy input (the purpose's consent, quiet hours, restriction, objection, reachable channels, preferred
order), `functions.core.channel_choice.decide` is asked once per group with the real `policies/notifications`
(embedded Rego), and the groups are summed by the chosen channel or the refusal's code (a unit test proves the
sum equals deciding each person alone). Generated rates and their sources: the docstring of `bench/campaigns.py`
(most are stated assumptions). Each step ran in a fresh process: the peak RSS is that step's own (Python, the
policy engine and DuckDB).

What transfers to production: the same `WHERE` (`functions/campaign/segments.py` `to_sql(..., dialect="spark")`,
identical but for `element_at(channels, 1)`) and a `GROUP BY` over the same seven columns of the same Parquet
files run on Spark SQL (or Athena) at the data platform, which returns one row per group to decide here (a few
thousand for the whole city: {city_wide["groups"]:,} decisions above); only `columnar.group_columns`' defensive
`COALESCE(..., CAST([] AS VARCHAR[]))` is spelt `array()` there. DuckDB's `memory_limit`
(`PIC_CAMPAIGN_DUCKDB_MEMORY`) bounds a function's memory, spilling to disk beyond it (the 256MB and 512MB rows:
same results, the snapshot slower). When the load average above is far over the 2 cores, the times are those of
a shared machine, several times a quiet one's. Pages of a snapshot are ranges of its `position` column, which
Parquet's row-group statistics let DuckDB skip to: a page deep in the file costs what the first one does. A saved
segment's event-driven update is one predicate per saved segment on the person's row before and after the event:
microseconds, no rebuild (the p99 at 100 segments is the shared machine's scheduling, the p50 the cost). The
writer is the benchmark's generator (hash-seeded SQL), not the projection's export, which streams rows through
`columnar.write_rows` (its row: AudienceRows → NDJSON → DuckDB → Parquet, the rate the export job can reach).
"""


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    quick = "--quick" in args
    numbers = [a for a in args if not a.startswith("--")]
    scale = 0.01 if quick else float(numbers[0]) if numbers else 1.0
    text = run(scale, pages=20 if quick else 200)
    print(text)
    if not quick:
        record_section(TITLE, text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
