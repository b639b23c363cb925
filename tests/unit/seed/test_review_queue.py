"""The city ``make run`` seeds fills the clerical review queue: the README's review step shows entries.

The city's records are resolved here as the C360 event function resolves them (its handlers, the real match
model and policies, an in-memory store), in the order the loader sends them.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from events.citizen import CitizenRecordUpserted
from functions.citizen import handlers, matching
from functions.citizen.handlers import CitizenPorts
from functions.core.policy import EmbeddedPolicy
from local.load_records import read_lines, system_files
from seed.city import local_city, write_city
from tests.unit.citizen.fakes import FakeCitizenStore
from tests.unit.fakes import FixedClock


def test_the_seeded_city_leaves_possible_matches_for_an_agent(tmp_path: Path, policy: EmbeddedPolicy) -> None:
    # GIVEN the city make run seeds on a new data directory, loaded record by record
    write_city(local_city(), tmp_path)
    store = FakeCitizenStore()
    ports = CitizenPorts(
        store=store, policy=policy, model=matching.load_model(), clock=FixedClock(datetime(2026, 3, 2, tzinfo=UTC))
    )
    for path in system_files(tmp_path):
        for line in read_lines(path):
            assert line.record is not None, line.problem
            record = CitizenRecordUpserted.model_validate(line.record)
            store.commit(handlers.resolve_record(line.source, record, ports, traceparent=None))
    # THEN the review queue holds several pairs, each about a person known by a nickname at a counter
    truth = [json.loads(text) for text in (tmp_path / "ground_truth.jsonl").read_text().splitlines()]
    nicknamed = {t["person_id"] for t in truth if "nickname" in t["noise"]}
    person_of = {(t["source"], t["local_id"]): t["person_id"] for t in truth}
    assert len(store.reviews) >= 3
    assert {person_of[(r.source, r.local_id)] for r in store.reviews.values()} <= nicknamed
