"""The routing benchmark (``bench/routing.py``): its city is generated the same from the same seed and looks like
Madrid's (levels, areas, skills, capacities, loads; contacts and open cases' histories), and a run at a small scale
times every decision, simulates the contact centre, sweeps SLA clocks and renders its section."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime

import pytest

from bench import routing
from functions.core.assignment import AgentPool, WaitingQueue, next_for, pick_agent

SMALL = routing.Scale(agents=60, contacts=400, cases=1_000, samples=30)


def test_the_city_is_the_same_for_the_same_seed_and_another_for_another() -> None:
    assert routing.city(SMALL) == routing.city(SMALL)
    assert routing.city(SMALL) != routing.city(SMALL, seed=routing.SEED + 1)
    assert routing.cases(3, 50) == routing.cases(3, 50) and routing.cases(3, 50) != routing.cases(4, 50)


def test_the_city_is_the_same_in_every_process_whatever_its_hash_seed() -> None:
    # a set of strings iterates in another order in another process: the generator must never depend on it
    script = "from bench import routing; print(routing.fingerprint(routing.QUICK))"
    digests = {
        subprocess.run([sys.executable, "-c", script], env={**os.environ, "PYTHONHASHSEED": seed},
                       capture_output=True, text=True, check=True).stdout.strip()
        for seed in ("1", "2")
    }  # fmt: skip
    assert digests == {routing.fingerprint(routing.QUICK)}


def test_the_agents_are_a_realistic_mix() -> None:
    agents, _ = routing.city(routing.Scale(agents=2_000, contacts=200, cases=1_000, samples=10))
    levels = Counter(a.level for a in agents)
    assert set(levels) == {1, 2, 3} and levels[1] > levels[2] > levels[3]
    assert len({a.id for a in agents}) == len(agents)
    assert {area for a in agents for area in a.areas} == set(routing.AREAS)
    assert all(not a.areas for a in agents if a.level == 1) and all(a.areas for a in agents if a.level > 1)
    assert all(1 <= p <= 5 for a in agents for p in a.skills.values())
    assert all(a.capacity[c] == routing.CAPACITY[c] for a in agents for c in a.capacity)
    assert all(0 <= a.load.get(c, 0) <= a.capacity[c] for a in agents for c in a.capacity)
    assert all(not a.load for a in agents if a.presence in ("away", "offline"))
    presence = Counter(a.presence for a in agents)
    assert presence.most_common(1)[0][0] == "online" and set(presence) == {"online", "busy", "away", "offline"}


def test_the_waiting_contacts_are_of_every_channel_level_and_age() -> None:
    _, contacts = routing.city(routing.Scale(agents=50, contacts=3_000, cases=1_000, samples=10))
    assert {c.channel for c in contacts} == set(routing.CHANNELS) and {c.level for c in contacts} == {1, 2, 3}
    assert len({c.id for c in contacts}) == len(contacts)
    assert all(c.created_at <= routing.NOW for c in contacts)
    assert all((c.due_at is not None) == (c.channel == "case") for c in contacts)
    skilled = [c for c in contacts if c.skill]
    assert 0.7 < len(skilled) / len(contacts) < 0.9
    assert all(c.skill in routing.SKILLS[c.area] for c in skilled)
    assert all(4 <= c.min_proficiency <= 5 for c in skilled if c.level == 3)


def test_an_open_cases_history_starts_new_and_happens_in_order_before_now() -> None:
    page = routing.cases(0, 2_000)
    assert all(h[0].kind == "state" and h[0].state == "new" for _, h in page)
    assert all([e.at for e in h] == sorted(e.at for e in h) and h[-1].at <= routing.NOW for _, h in page)
    kinds = Counter(e.state or e.kind for _, h in page for e in h)
    assert {"open", "agent-reply", "citizen-message", "waiting-on-citizen", "waiting-on-area", "resolved"} <= set(kinds)
    assert routing.pages(25_001) == [(0, 10_000), (1, 10_000), (2, 5_001)]


def test_the_indexes_the_bench_times_answer_what_the_scans_answer() -> None:
    agents, backlog = routing.city(SMALL)
    pool, queue = AgentPool(agents), WaitingQueue(backlog)
    arriving = routing.arrivals(200)
    assert [pool.pick(w) for w in arriving] == [pick_agent(w, agents) for w in arriving]
    assert sum(pool.pick(w) is not None for w in arriving) > 50
    assert [queue.next_for(a) for a in agents] == [next_for(a, backlog) for a in agents]


def test_a_small_run_times_each_decision_simulates_sweeps_and_renders() -> None:
    agents, backlog = routing.city(SMALL)
    rows = routing.simple_rows(agents, backlog, SMALL) + routing.indexed_rows(agents, backlog, SMALL)
    assert len(rows) == 9 and all("/s" in r.value for r in rows if not r.name.startswith("index built"))
    fair = routing.simulate(agents)
    assert fair.decisions == len(fair.push) + len(fair.pull) > 500 and fair.seconds > 0
    assert all(0 <= o <= 1 for found in fair.occupation.values() for o in found.values())
    fairness = routing.fairness_rows(agents)
    assert len(fairness) == 5 and "fairness, call" in fairness[1].name and "all channels" in fairness[4].name
    sweep = routing.sweep_pages([(0, 300)])
    assert sum(sweep.found.values()) == 900 and sweep.computing > 0 and sweep.generating > 0
    assert sweep.peak_kib >= sweep.grown_kib >= 0 and sweep.wall >= sweep.computing + sweep.generating
    assert {key.split()[0] for key in sweep.found} == {"first-response", "next-response", "resolution"}
    text = routing.section(rows + fairness, SMALL, datetime(2026, 12, 10, tzinfo=UTC), "python -m bench.routing")
    assert text.startswith(routing.TITLE) and text.count("\n| ") == len(rows) + len(fairness) + 1


def test_the_scale_is_read_from_the_command_line() -> None:
    assert routing.parse([]) == routing.FULL and routing.parse(["--quick"]) == routing.QUICK
    assert routing.FULL.agents == 5_000 and routing.FULL.contacts == 50_000 and routing.FULL.cases == 1_000_000
    assert routing.parse(["0.1"]).contacts == 5_000
    with pytest.raises(ValueError):
        routing.parse(["many"])
