"""The impact report: a rule changed on a small population flips exactly the decisions it should."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from compliance import impact
from compliance.__main__ import main
from compliance.population import Case, city_cases, recorded_cases
from functions.core.bundle import PolicyBundle
from tests.unit.conftest import ROOT

POLICIES = ROOT / "policies"


def changed_copy(tmp_path: Path, edit: str, value: object) -> PolicyBundle:
    """policies/ copied with one data.json value replaced (``file:key.key``), as a compliance officer would."""
    copy = tmp_path / "policies"
    shutil.copytree(POLICIES, copy, ignore=shutil.ignore_patterns("*_test.rego"))
    file, keys = edit.split(":")
    path = copy / file
    data = json.loads(path.read_text(encoding="utf-8"))
    node = data
    *parents, last = keys.split(".")
    for key in parents:
        node = node[key]
    node[last] = value
    path.write_text(json.dumps(data), encoding="utf-8")
    return PolicyBundle.load(copy)


def test_the_same_policies_change_nothing() -> None:
    base = PolicyBundle.load(POLICIES)
    report = impact.compare(base, base, city_cases([base], people=20))
    assert report.asked > 1000 and report.flipped == 0
    assert "No decision changes." in impact.table(report)


def test_a_longer_retention_period_keeps_older_records_and_only_those(tmp_path: Path) -> None:
    base = PolicyBundle.load(POLICIES)
    longer = changed_copy(tmp_path, "rgpd/retention/data.json:domains.consent.categories.consent-proofs.keep.years", 10)
    report = impact.compare(base, longer, city_cases([base, longer], people=60))
    touched = {(r.policy, r.rule): r for r in report.rules if r.flipped or r.other_changes}
    assert set(touched) == {("rgpd.retention", "consent/consent-proofs")}
    proofs = touched[("rgpd.retention", "consent/consent-proofs")]
    assert proofs.allow_to_deny > 0 and proofs.deny_to_allow == 0  # records older than 3 years are now kept
    assert proofs.other_changes > 0 and "keep_until" in proofs.changed_fields  # the kept ones: a later date
    assert proofs.asked - proofs.allow_to_deny - proofs.other_changes > 0  # older than 10 years: erased by both
    assert proofs.example is not None and proofs.example["allow"] == [True, False]


def test_a_channel_no_longer_interruptive_flips_quiet_hours_deferrals(tmp_path: Path) -> None:
    base = PolicyBundle.load(POLICIES)
    calm_sms = changed_copy(tmp_path, "consent/data.json:channels.sms.interruptive", False)
    report = impact.compare(base, calm_sms, city_cases([base, calm_sms], people=60))
    flipped = {r.rule for r in report.rules if r.flipped}
    assert flipped and all(rule.endswith("/sms") for rule in flipped)
    assert all(r.allow_to_deny == 0 for r in report.rules)  # fewer refusals, never more
    document = report.as_json()
    assert document["decisions_flipped"] == report.flipped > 0
    assert all(rule["rule"].endswith("/sms") for rule in document["rules"])


def test_recorded_inputs_are_read_and_named_by_rule(tmp_path: Path) -> None:
    path = tmp_path / "inputs.jsonl"
    authz = {"subject": {"id": "p-1", "role": "citizen", "level": 0}, "action": "consent.read"}
    path.write_text(json.dumps({"policy": "authz", "input": authz}) + "\n\n", encoding="utf-8")
    assert list(recorded_cases(path)) == [Case("authz", "consent.read", authz)]
    path.write_text('{"input": {}}\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"inputs\.jsonl:1"):
        list(recorded_cases(path))


def test_the_command_compares_a_signed_bundle_with_a_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    keys, published, report = tmp_path / "keys", tmp_path / "bundle.tar.gz", tmp_path / "impact.json"
    assert main(["keys", "--dir", str(keys)]) == 0
    assert main(["bundle", "--key", str(keys / "private.pem"), "--out", str(published), "--revision", "r-1"]) == 0
    changed_copy(tmp_path, "consent/data.json:channels.push.interruptive", False)
    argv = ["impact", "--base", str(published), "--public-key", str(keys / "public.pem")]
    argv += ["--changed", str(tmp_path / "policies"), "--people", "30", "--json", str(report)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "Policy impact: revision r-1 ->" in out and "/push" in out
    assert json.loads(report.read_text())["base_revision"] == "r-1"
    wrong = ["impact", "--base", str(published), "--public-key", str(tmp_path / "none.pem"), "--people", "1"]
    assert main(wrong) == 2  # a bundle is never read unverified
