"""The impact of a policy change: which decisions flip between the current bundle and the changed one.

Both bundles answer every case of a population with the embedded engine (the one production runs, every
decision evaluated, none memoised); the report counts, per policy and rule, the decisions whose ``allow``
flips either way and those whose other fields change (``defer``, ``keep_until``, ``view``...), with one
example of each: its input's hash and the reasons before and after. OPA has no such report; compliance
officers read it before they publish (docs/compliance.md).
"""

from __future__ import annotations

import subprocess
import tarfile
import tempfile
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from io import BytesIO
from pathlib import Path
from typing import Any

from compliance.population import Case
from functions.core import bundle as bundles
from functions.core.bundle import PolicyBundle
from functions.core.policy import EmbeddedPolicy, input_hash

IGNORED_FIELDS = {"allow", "reasons"}  # allow is counted on its own; reasons are wording


@dataclass
class RuleImpact:
    """What changes for one rule (an action, a purpose/channel, a retention category) of one policy."""

    policy: str
    rule: str
    asked: int = 0
    allow_to_deny: int = 0
    deny_to_allow: int = 0
    other_changes: int = 0
    changed_fields: list[str] = field(default_factory=list)
    example: dict[str, Any] | None = None

    @property
    def flipped(self) -> int:
        return self.allow_to_deny + self.deny_to_allow


@dataclass
class Report:
    base: str
    changed: str
    asked: int
    rules: list[RuleImpact]

    @property
    def flipped(self) -> int:
        return sum(rule.flipped for rule in self.rules)

    def as_json(self) -> dict[str, Any]:
        touched = [rule for rule in self.rules if rule.flipped or rule.other_changes]
        return {
            "base_revision": self.base,
            "changed_revision": self.changed,
            "decisions_asked": self.asked,
            "decisions_flipped": self.flipped,
            "decisions_otherwise_changed": sum(rule.other_changes for rule in self.rules),
            "rules": [{**asdict(rule), "flipped": rule.flipped} for rule in touched],
        }


def load(source: str, public_key: Path | None = None) -> PolicyBundle:
    """A bundle from ``git:<ref>`` (policies/ at that commit), a signed ``.tar.gz``, or a policies folder."""
    if source.startswith("git:"):
        return _from_git(source.removeprefix("git:"))
    path = Path(source)
    if path.is_dir():
        return PolicyBundle.load(path)
    if public_key is None or not public_key.is_file():
        raise ValueError(f"{source} is a bundle: its public key is needed (make policy-keys, or --public-key)")
    return bundles.read(path.read_bytes(), public_key.read_bytes())


def _from_git(ref: str) -> PolicyBundle:
    archive = subprocess.run(
        ["git", "archive", "--format=tar", ref, "policies"], check=True, capture_output=True
    ).stdout
    with tempfile.TemporaryDirectory() as tmp, tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(tmp, filter="data")
        return PolicyBundle.load(Path(tmp) / "policies")


def compare(base: PolicyBundle, changed: PolicyBundle, cases: Iterable[Case]) -> Report:
    """Ask both bundles every case (only packages both have) and count what changes, per rule."""
    engines = EmbeddedPolicy(base), EmbeddedPolicy(changed)
    common = set(base.packages) & set(changed.packages)
    rules: dict[tuple[str, str], RuleImpact] = {}
    asked = 0
    for case in cases:
        if case.package not in common:
            continue
        before, after = (engine.evaluate_uncached(case.package, case.input) for engine in engines)
        impact = rules.setdefault((case.package, case.rule), RuleImpact(case.package, case.rule))
        impact.asked += 1
        asked += 1
        _count(impact, case, before, after)
    ordered = sorted(rules.values(), key=lambda r: (-r.flipped, -r.other_changes, r.policy, r.rule))
    return Report(base.version, changed.version, asked, ordered)


def _count(impact: RuleImpact, case: Case, before: dict[str, Any], after: dict[str, Any]) -> None:
    was, now = bool(before.get("allow")), bool(after.get("allow"))
    fields = sorted(key for key in (before.keys() | after.keys()) - IGNORED_FIELDS if before.get(key) != after.get(key))
    if was and not now:
        impact.allow_to_deny += 1
    elif now and not was:
        impact.deny_to_allow += 1
    elif fields:
        impact.other_changes += 1
    else:
        return
    impact.changed_fields = sorted(set(impact.changed_fields) | set(fields))
    example_flips = impact.example is not None and impact.example["allow"][0] != impact.example["allow"][1]
    if impact.example is None or (was != now and not example_flips):  # a flip is the better example
        impact.example = {
            "input_sha256": input_hash(case.input),
            "allow": [was, now],
            "reasons_before": before.get("reasons", []),
            "reasons_after": after.get("reasons", []),
        }


def table(report: Report, limit: int = 40) -> str:
    """The report as a plain-text table: flipped rules first, then rules whose other fields change."""
    touched = [rule for rule in report.rules if rule.flipped or rule.other_changes]
    lines = [
        f"Policy impact: revision {report.base} -> {report.changed}",
        f"{report.asked} decisions asked; {report.flipped} flip (allow changes); "
        f"{sum(r.other_changes for r in report.rules)} change otherwise.",
        "",
    ]
    if not touched:
        return "\n".join([*lines, "No decision changes."])
    header = ("policy", "rule", "asked", "allow->deny", "deny->allow", "other", "fields changed")
    rows = [
        (
            r.policy,
            r.rule,
            str(r.asked),
            str(r.allow_to_deny),
            str(r.deny_to_allow),
            str(r.other_changes),
            ",".join(r.changed_fields) or "-",
        )
        for r in touched[:limit]
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines += ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) for row in [header, *rows]]
    if len(touched) > limit:
        lines.append(f"... and {len(touched) - limit} more rules (all in the JSON report)")
    first = next((r for r in touched if r.example), None)
    if first and first.example:
        lines += [
            "",
            f"Example ({first.policy} {first.rule}, input {first.example['input_sha256'][:12]}):",
            f"  before: {'; '.join(first.example['reasons_before']) or '-'}",
            f"  after:  {'; '.join(first.example['reasons_after']) or '-'}",
        ]
    return "\n".join(lines)
