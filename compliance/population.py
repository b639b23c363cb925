"""Populations of decision inputs for the impact report: the generated city, or recorded inputs.

A ``Case`` is one question a function would ask: the policy package, the rule it falls under (the
action, purpose/channel or retention category a compliance officer thinks in) and the input. The city's
people come from ``seed.city`` (synthetic, never real); what the city does not hold (consents, quiet
hours, restriction, the ages of records) is drawn from a seeded generator, so the same arguments give
the same population on every machine and two runs of the report compare like with like.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from functions.core.bundle import PolicyBundle
from seed.city import CityConfig, Person, generate

NOW = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)  # fixed: the report compares bundles, not days
LOCAL_TIMES = ["07:30", "09:00", "13:00", "21:30", "22:30", "23:30", "02:00"]
QUIET_HOURS = [None, {"start": "22:00", "end": "08:00"}, {"start": "23:00", "end": "07:00"}]
AGENT_AREAS = ["atencion-ciudadania", "hacienda", "servicios-sociales", "proteccion-datos", "movilidad"]
RECORD_AGES_DAYS = [10, 200, 380, 500, 900, 1100, 1300, 1500, 2000, 4000]


@dataclass(frozen=True)
class Case:
    package: str
    rule: str
    input: dict[str, Any]


def city_cases(bundles: list[PolicyBundle], people: int, seed: int = 0) -> Iterator[Case]:
    """Every question the packages both bundles know would be asked about ``people`` generated citizens.

    Purposes, channels, actions and retention categories are the union of both bundles' data: a rule
    only one of them declares is asked of both, so adding or removing one shows up as flips.
    """
    rng = random.Random(seed)
    packages = set.intersection(*(set(b.packages) for b in bundles))
    consent_data = _union(bundles, "consent")
    purposes = sorted(consent_data.get("purposes", {}))
    channels = sorted(consent_data.get("channels", {}))
    actions = sorted(_union(bundles, "authz").get("actions", {}))
    categories = _retention_categories(bundles)
    for person, _records in generate(CityConfig(people=people, seed=seed)):
        citizen = _citizen(person, purposes, channels, rng)
        if "consent" in packages:
            yield from _consent_cases(person, citizen, purposes, channels, rng)
        if "notifications" in packages:
            yield from _notification_cases(citizen, purposes, channels, rng)
        if "authz" in packages:
            yield from _authz_cases(person, actions, rng)
        if "rgpd.retention" in packages:
            yield from _retention_cases(categories, rng)


def recorded_cases(path: Path) -> Iterator[Case]:
    """Recorded inputs, one JSON object a line: ``{"policy": ..., "input": ...}`` (``rule`` optional).

    Decision logs carry only a hash of each input; a recording is made on purpose, pseudonymised
    (ids replaced, no names or contacts), and kept no longer than docs/compliance.md says.
    """
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            row = json.loads(line)
            if not isinstance(row, dict) or not isinstance(row.get("input"), dict) or "policy" not in row:
                raise ValueError(f"{path}:{number}: expected {{'policy': ..., 'input': {{...}}}}")
            yield Case(row["policy"], str(row.get("rule") or rule_of(row["policy"], row["input"])), row["input"])


def rule_of(package: str, input_: dict[str, Any]) -> str:
    """The rule a recorded input falls under, named as the generated ones are."""
    if package == "authz":
        return str(input_.get("action"))
    if package == "rgpd.retention":
        return f"{input_.get('domain')}/{input_.get('category')}"
    return f"{input_.get('purpose')}/{input_.get('channel')}"


def _union(bundles: list[PolicyBundle], key: str) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for bundle in bundles:
        for name, value in bundle.data.get(key, {}).items():
            merged[name] = {**merged.get(name, {}), **value} if isinstance(value, dict) else value
    return merged


def _retention_categories(bundles: list[PolicyBundle]) -> list[tuple[str, str, str | None]]:
    """(domain, category, the record's date field) for every category either bundle declares."""
    found: dict[tuple[str, str], str | None] = {}
    for bundle in bundles:
        retention = bundle.data.get("rgpd", {}).get("retention", {})
        for domain, spec in retention.get("domains", {}).items():
            for category, rule in spec.get("categories", {}).items():
                found[(domain, category)] = found.get((domain, category)) or (rule.get("keep") or {}).get("from")
        for category, rule in retention.get("shared", {}).get("categories", {}).items():
            for domain in retention.get("domains", {}):
                found.setdefault((domain, category), (rule.get("keep") or {}).get("from"))
    return [(domain, category, field) for (domain, category), field in sorted(found.items())]


def _citizen(person: Person, purposes: list[str], channels: list[str], rng: random.Random) -> dict[str, Any]:
    reachable = [c for c in channels if _reachable(person, c)]
    consents = {
        purpose: {
            "granted": rng.random() < 0.6,
            "channels": sorted(rng.sample(reachable, k=rng.randint(1, len(reachable)))) if reachable else [],
            "text_version": "2026-01",
        }
        for purpose in purposes
        if rng.random() < 0.7
    }
    objections = [p for p in purposes if rng.random() < 0.03]
    return {
        "consents": consents,
        "preferences": {"quiet_hours": rng.choice(QUIET_HOURS)},
        "flags": {"restricted": rng.random() < 0.02, "objections": objections},
        "reachable": reachable,
    }


def _reachable(person: Person, channel: str) -> bool:
    if channel == "email":
        return person.email is not None
    if channel in ("sms", "whatsapp"):
        return person.mobile is not None
    if channel == "phone":
        return person.mobile is not None or person.landline is not None
    return True  # push, in-app, post: every resident of the generated city has an address and the app


def _public(citizen: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in citizen.items() if key != "reachable"}


def _consent_cases(
    person: Person, citizen: dict[str, Any], purposes: list[str], channels: list[str], rng: random.Random
) -> Iterator[Case]:
    for purpose in purposes:
        for channel in channels:
            input_: dict[str, Any] = {
                "purpose": purpose,
                "channel": channel,
                "citizen": _public(citizen),
                "now": {"local_time": rng.choice(LOCAL_TIMES)},
            }
            if purpose == "alerts" and rng.random() < 0.2:
                input_["message"] = {"topic": "civil-protection", "severity": rng.choice(["moderate", "extreme"])}
            yield Case("consent", f"{purpose}/{channel}", input_)


def _notification_cases(
    citizen: dict[str, Any], purposes: list[str], channels: list[str], rng: random.Random
) -> Iterator[Case]:
    for purpose in purposes:
        channel = rng.choice(channels)
        yield Case(
            "notifications",
            f"{purpose}/{channel}",
            {
                "purpose": purpose,
                "channel": channel,
                "recipient": "citizen",
                "reachable": citizen["reachable"],
                "citizen": _public(citizen),
                "now": {"local_time": rng.choice(LOCAL_TIMES)},
                "message": {"kind": "notification"},
            },
        )


def _authz_cases(person: Person, actions: list[str], rng: random.Random) -> Iterator[Case]:
    own = person.person_id
    subjects: list[tuple[dict[str, Any], str]] = [
        ({"id": own, "role": "citizen", "level": 0, "area": None}, own),
        ({"id": own, "role": "citizen", "level": 0, "area": None}, "c-someone-else"),
        ({"id": "agent-1", "role": "agent", "level": rng.randint(0, 3), "area": rng.choice(AGENT_AREAS)}, own),
        ({"id": "sys-1", "role": "system", "level": 0, "area": rng.choice(AGENT_AREAS)}, own),
        ({"id": "admin-1", "role": "admin", "level": 0, "area": None}, own),
    ]
    for action in actions:
        subject, citizen_id = rng.choice(subjects)
        input_: dict[str, Any] = {"subject": subject, "action": action, "resource": {"citizen_id": citizen_id}}
        if subject["role"] == "agent" and rng.random() < 0.8:
            input_["purpose"] = "EXP-2026-001"
        yield Case("authz", action, input_)


def _retention_cases(categories: list[tuple[str, str, str | None]], rng: random.Random) -> Iterator[Case]:
    for domain, category, field in categories:
        record: dict[str, str] = {}
        if field:
            at = NOW - timedelta(days=rng.choice(RECORD_AGES_DAYS) + rng.randint(0, 30))
            record[field] = at.strftime("%Y-%m-%dT%H:%M:%SZ")
        yield Case(
            "rgpd.retention",
            f"{domain}/{category}",
            {"domain": domain, "category": category, "record": record, "now": NOW.strftime("%Y-%m-%dT%H:%M:%SZ")},
        )
