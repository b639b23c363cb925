"""Runs the Rego tests under policies/ the way `opa test policies/` would, with regorus.

Every `test_*` rule of every `*_test.rego` is one pytest case (`consent::test_name`) that passes
only if the rule is true: false, undefined or an evaluation error fail it. Also checks the policy
folder layout, the METADATA blocks, and that published consent texts match their sha256.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any, NamedTuple

import pytest
import regorus
import yaml

POLICIES = Path(__file__).resolve().parents[2] / "policies"

PACKAGE_RE = re.compile(r"^package\s+([A-Za-z_][A-Za-z0-9_.]*)\s*$", re.MULTILINE)
TEST_RULE_RE = re.compile(r"^(test_[A-Za-z0-9_]+)\b", re.MULTILINE)
METADATA_RE = re.compile(r"^# METADATA\n((?:#.*\n)+)", re.MULTILINE)


class RegoTest(NamedTuple):
    package: str
    rule: str
    source: Path


def policy_folders() -> list[Path]:
    """Every folder under policies/ that holds Rego: each one is one policy."""
    return sorted({path.parent for path in POLICIES.rglob("*.rego")})


def package_of(path: Path) -> str:
    match = PACKAGE_RE.search(path.read_text(encoding="utf-8"))
    assert match, f"{path} declares no package"
    return match.group(1)


def folder_package(folder: Path) -> str:
    return ".".join(folder.relative_to(POLICIES).parts)


def discover_tests() -> list[RegoTest]:
    tests: list[RegoTest] = []
    for path in sorted(POLICIES.rglob("*_test.rego")):
        names = TEST_RULE_RE.findall(path.read_text(encoding="utf-8"))
        duplicates = sorted({name for name in names if names.count(name) > 1})
        assert not duplicates, f"{path} defines these tests twice: {duplicates}"
        tests += [RegoTest(package_of(path), name, path) for name in names]
    return tests


def load_data() -> dict[str, Any]:
    """Each folder's data.json at the data path its folder names: a/b/data.json -> {"a": {"b": ...}}."""
    document: dict[str, Any] = {}
    for path in sorted(POLICIES.rglob("data.json")):
        node = document
        *parents, leaf = path.parent.relative_to(POLICIES).parts
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = json.loads(path.read_text(encoding="utf-8"))
    return document


@pytest.fixture(scope="session")
def engine() -> regorus.Engine:
    """All policies, their tests and their data in one engine, as `opa test policies/` loads them."""
    engine = regorus.Engine()
    for path in sorted(POLICIES.rglob("*.rego")):
        engine.add_policy(str(path.relative_to(POLICIES.parent)), path.read_text(encoding="utf-8"))
    engine.add_data_json(json.dumps(load_data()))
    return engine


REGO_TESTS = discover_tests()


def test_rego_tests_are_found() -> None:
    # GIVEN the policies folder THEN it holds Rego tests to run (an empty run proves nothing)
    assert REGO_TESTS


@pytest.mark.parametrize("case", REGO_TESTS, ids=[f"{case.package}::{case.rule}" for case in REGO_TESTS])
def test_rego(engine: regorus.Engine, case: RegoTest) -> None:
    # WHEN the test rule is evaluated THEN it is true (undefined comes back as None and fails)
    error = None
    try:
        result = engine.eval_rule(f"data.{case.package}.{case.rule}")
    except RuntimeError as raised:  # regorus appends a native stack trace: keep only the Rego part
        error = str(raised).split("Stack backtrace")[0]
    if error is not None:
        pytest.fail(f"{case.source.name}: {case.rule} failed to evaluate:{error}")
    assert result is True, f"{case.source.name}: {case.rule} is {result!r}, not true"


@pytest.mark.parametrize("folder", policy_folders(), ids=lambda f: folder_package(f))
def test_policy_folder_has_policy_tests_and_data(folder: Path) -> None:
    # GIVEN a policy folder x THEN it holds x.rego, x_test.rego and data.json, in package x
    name = folder.name
    for expected in (f"{name}.rego", f"{name}_test.rego", "data.json"):
        assert (folder / expected).is_file(), f"{folder} lacks {expected}"
    for rego in folder.glob("*.rego"):
        assert package_of(rego) == folder_package(folder), f"{rego} is not in package {folder_package(folder)}"


def metadata_blocks(path: Path) -> list[dict[str, Any]]:
    blocks = []
    for match in METADATA_RE.finditer(path.read_text(encoding="utf-8")):
        text = "\n".join(line[2:] if line.startswith("# ") else line[1:] for line in match.group(1).splitlines())
        blocks.append(yaml.safe_load(text))
    return blocks


@pytest.mark.parametrize(
    "path",
    sorted(p for p in POLICIES.rglob("*.rego") if not p.name.endswith("_test.rego")),
    ids=lambda p: p.stem,
)
def test_metadata_blocks_have_title_description_and_legal_source(path: Path) -> None:
    # GIVEN a policy THEN each METADATA block is YAML (as OPA requires) with what a compliance officer reads
    blocks = metadata_blocks(path)
    assert blocks, f"{path} has no METADATA"
    for block in blocks:
        assert isinstance(block, dict)
        assert block.get("title") and block.get("description"), block
        assert (block.get("custom") or {}).get("legal_source"), block
    assert "decision :=" in path.read_text(encoding="utf-8"), f"{path} has no decision entry point"


def test_published_consent_texts_match_their_sha256() -> None:
    # GIVEN the published consent texts
    texts = json.loads((POLICIES / "consent" / "data.json").read_text(encoding="utf-8"))["texts"]
    # THEN each matches its sha256, so a published text is never edited in place: a change is a new version
    checked = 0
    for purpose, versions in texts.items():
        for version, languages in versions.items():
            for language, entry in languages.items():
                digest = hashlib.sha256(entry["text"].encode("utf-8")).hexdigest()
                assert digest == entry["sha256"], f"text {purpose}/{version}/{language} changed after publication"
                checked += 1
    assert checked > 0
