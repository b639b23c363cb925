"""Contract: ``schemas/`` (every event type's data schema and the OpenAPI) keeps the contracts of the last release
kept in ``contracts/released/`` — a breaking change fails here naming the type or operation, the place and the rule
(``events/compat.py``; how to break on purpose, with a new version: docs/contracts.md)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from events import compat

REPO_ROOT = Path(__file__).resolve().parents[2]
SCHEMAS_DIR = REPO_ROOT / "schemas"
HOW = "a break needs a new version (.v2 type, /v2 path): docs/contracts.md"


def test_the_contracts_keep_those_of_the_last_release() -> None:
    # GIVEN the last release and the schemas the code generates
    release = compat.latest_release()

    # WHEN every event type and every operation is compared with it
    breaks = compat.check(release, SCHEMAS_DIR)

    # THEN nothing breaks (else each break is named: type or operation, place, rule)
    assert not breaks, f"{len(breaks)} breaking change(s) against {release.name}; {HOW}:\n" + "\n".join(
        map(str, breaks)
    )


@pytest.mark.parametrize("release", compat.releases(), ids=lambda p: p.name)
def test_a_release_is_what_its_manifest_recorded(release: Path) -> None:
    # GIVEN a release kept in the repository
    manifest = json.loads((release / compat.MANIFEST).read_text(encoding="utf-8"))

    # WHEN its files are hashed
    altered = compat.altered(release)

    # THEN none was edited (a baseline is never changed to let a break through), and it says what it was
    assert not altered, f"{release.name} was edited: {altered}; cut a new release with `make release-contracts`"
    assert manifest["release"] == release.name and manifest["date"] and len(manifest["commit"]) >= 7
    assert (release / compat.OPENAPI_FILE).is_file() and list(release.glob(compat.EVENT_GLOB))


def test_the_first_release_is_main_at_the_start_of_issue_19() -> None:
    # GIVEN release v1
    manifest = json.loads((compat.RELEASED_DIR / "v1" / compat.MANIFEST).read_text(encoding="utf-8"))

    # THEN it records the commit it was cut from
    assert manifest["commit"].startswith("0be580d")


def _real() -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    return compat.read_contracts(compat.latest_release())


def test_a_real_event_schema_narrowed_is_caught_by_name() -> None:
    # GIVEN the released consent.changed schema and a copy whose actor kind no longer admits "system"
    events, _ = _real()
    event_type = "es.madrid.pic.consent.changed.v1"
    narrowed = copy.deepcopy(events[event_type])
    narrowed["$defs"]["Actor"]["properties"]["kind"]["enum"].remove("system")

    # WHEN it is compared with the release
    breaks = compat.compare_events(events, {**events, event_type: narrowed})

    # THEN the break names the type, the field and the rule
    assert [str(b) for b in breaks] == [
        f'{event_type}: data.actor.kind: ENUM_NARROWED: "system" admitted by the release, no longer'
    ]


def test_a_real_response_field_removed_is_caught_at_every_operation_answering_it() -> None:
    # GIVEN the released OpenAPI and a copy whose consent view lost citizen_id
    _, api = _real()
    changed = copy.deepcopy(api)
    del changed["components"]["schemas"]["ConsentsView"]["properties"]["citizen_id"]

    # WHEN it is compared with the release
    breaks = compat.compare_openapi(api, changed)

    # THEN each operation answering that view says so
    assert {(b.contract, b.rule) for b in breaks} >= {("GET /v1/citizens/{citizen_id}/consents", "PROPERTY_REMOVED")}
    assert all(b.where.endswith(".citizen_id") for b in breaks)


def test_what_other_work_adds_passes_as_an_addition() -> None:
    # GIVEN the released contracts and a copy with a new event type, a new path and a new optional field
    events, api = _real()
    grown_events = {**events, "es.madrid.pic.intake.file.reported.v1": {"type": "object", "properties": {}}}
    consent = copy.deepcopy(events["es.madrid.pic.consent.changed.v1"])
    consent["properties"]["reason"] = {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None}
    grown_events["es.madrid.pic.consent.changed.v1"] = consent
    grown_api = copy.deepcopy(api)
    grown_api["paths"]["/v1/intake/files"] = copy.deepcopy(api["paths"]["/v1/consent-terms"])

    # WHEN they are compared with the release THEN nothing breaks
    assert compat.compare_events(events, grown_events) == []
    assert compat.compare_openapi(api, grown_api) == []
