"""Contract: ``scripts/infra_check.sh`` (``make infra-check``) passes, so ``make test`` runs it too.

It checks Terraform (fmt, validate against the local provider mirror), that every kustomization builds and
what base and each overlay build validates against the vendored schemas (infra/k8s/validate.py), and
checkov over infra/ and the Dockerfile. Whatever it cannot check here it reports as ``SKIPPED``
with the reason and the command to run elsewhere; those lines are repeated here as warnings, so a skip
shows in pytest's summary instead of passing silently.

Here it runs the steps no other contract test runs (``PIC_INFRA_CHECK_STEPS="kustomize checkov"``):
Terraform's fmt, validate and test run in ``test_terraform.py``, the schemas in ``test_validate.py`` and
``test_k8s_schemas.py``.
"""

from __future__ import annotations

import os
import re
import subprocess
import warnings
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
SCRIPT = REPO_ROOT / "scripts" / "infra_check.sh"
ANSI = re.compile(r"\x1b\[[0-9;]*m")
# the closing summary: one line per step
STEP = re.compile(r"^  (ok|SKIPPED|FAILED) +(.+)$", re.MULTILINE)


def test_infra_check_passes_and_says_what_it_skipped() -> None:
    # first run installs checkov into .tools/checkov-venv (about a minute); later runs take ~30 s
    env = {**os.environ, "PIC_INFRA_CHECK_STEPS": "kustomize checkov"}
    result = subprocess.run(
        ["bash", str(SCRIPT)], cwd=REPO_ROOT, capture_output=True, text=True, timeout=1200, check=False, env=env
    )
    output = ANSI.sub("", result.stdout + result.stderr)
    summary = output.rpartition("summary (")[2]
    steps = STEP.findall(summary)
    assert steps, f"scripts/infra_check.sh printed no summary:\n{output}"
    for status, step in steps:
        if status == "SKIPPED":
            warnings.warn(f"infra-check SKIPPED {step}", stacklevel=1)
    assert result.returncode == 0, f"scripts/infra_check.sh failed ({result.returncode}):\n{output}"
    assert not [s for s in steps if s[0] == "FAILED"], output
    checked = " ".join(step for _, step in steps)
    # each part either ran or said why not
    parts = ("kubectl kustomize", "checkov (dockerfile)")
    for part in parts:
        assert part in checked, f"no result for {part!r}:\n{output}"
    assert "checkov (terraform)" in checked, output
    assert "checkov (kubernetes)" in checked, output
