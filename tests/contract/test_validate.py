"""Contract: ``infra/k8s/validate.py`` (run by ``make infra-check``) passes on the tree and fails on a broken copy.

Each case copies infra/k8s to a temporary folder, breaks one manifest as a typo would, and runs the command
on the copy: it must exit 1 and name the resource and the place.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.contract.test_manifests import K8S_DIR, REPO_ROOT, _kustomize_command

SCRIPT = K8S_DIR / "validate.py"


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    _kustomize_command(K8S_DIR)  # skips, saying how to install it, without kubectl or kustomize
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], cwd=REPO_ROOT, capture_output=True, text=True, timeout=300, check=False
    )


def _replace(relative: str, old: str, new: str) -> Callable[[Path], None]:
    def edit(k8s_dir: Path) -> None:
        path = k8s_dir / relative
        text = path.read_text(encoding="utf-8")
        assert old in text, f"{relative} has no {old!r} to break"
        path.write_text(text.replace(old, new, 1), encoding="utf-8")

    return edit


BROKEN = {
    "a Trigger's subscriber names no Service": (
        _replace("base/trigger-consent-change-requested.yaml", "name: pic-consent-events", "name: pic-consent-event"),
        "Trigger/consent-change-requested: spec.subscriber.ref names Service 'pic-consent-event'",
    ),
    "a typo in a Trigger's subscriber": (
        _replace("base/trigger-consent-change-requested.yaml", "subscriber:", "subscribr:"),
        "Trigger/consent-change-requested: $.spec",
    ),
    "a typo in a Service's spec": (
        _replace("base/service-pic-consent.yaml", "containerConcurrency:", "containerConcurency:"),
        "Service/pic-consent: $.spec.template.spec",
    ),
    "an HTTPRoute sending to no Service": (
        _replace("base/routes/httproute-pic-audit.yaml", "name: pic-audit\n      port", "name: pic-audits\n      port"),
        "HTTPRoute/pic-audit: spec.rules[].backendRefs names Service 'pic-audits'",
    ),
}


def test_the_manifests_validate() -> None:
    result = _run()
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("ok ") == len(list((K8S_DIR / "overlays").glob("*/kustomization.yaml"))) + 1


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_a_broken_manifest_fails_validation(case: str, tmp_path: Path) -> None:
    # GIVEN a copy of infra/k8s with one manifest broken
    break_it, expected = BROKEN[case]
    copy = tmp_path / "k8s"
    shutil.copytree(K8S_DIR, copy)
    break_it(copy)

    # WHEN the command validates the copy's base
    result = _run("--k8s-dir", str(copy), "base")

    # THEN it fails, naming the resource and the place
    assert result.returncode == 1, result.stdout + result.stderr
    assert "FAILED base" in result.stdout and expected in result.stdout, result.stdout
