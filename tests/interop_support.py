"""The independent SD-JWT VC implementation the unit tests check PIC against: the OpenWallet Foundation's
``@sd-jwt`` packages (pinned in ``tests/interop/package-lock.json``, installed by ``make setup``), driven through
``tests/interop/sdjwt.mjs``. Every request of a test module goes in one Node start (each costs ~0.5 s)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

INTEROP = Path(__file__).resolve().parent / "interop"
NODE = shutil.which("node")
NEEDS_NODE = [
    pytest.mark.skipif(NODE is None, reason="node is not installed: the independent SD-JWT implementation is Node's"),
    pytest.mark.skipif(
        not (INTEROP / "node_modules" / "@sd-jwt" / "sd-jwt-vc").is_dir(),
        reason="tests/interop/node_modules is missing: run `make setup` (npm ci in tests/interop)",
    ),
]


def batch(requests: list[tuple[str, dict[str, Any]]]) -> list[dict[str, Any]]:
    """The independent side's answers to ``(command, input)`` requests, in order, from one Node start."""
    assert NODE is not None
    payload = [{"command": command, "input": data} for command, data in requests]
    done = subprocess.run([NODE, str(INTEROP / "sdjwt.mjs"), "batch"], input=json.dumps(payload), capture_output=True,
                          text=True, timeout=60, check=True, cwd=INTEROP)  # fmt: skip
    answer: dict[str, Any] = json.loads(done.stdout)
    assert answer["ok"], answer
    answers: list[dict[str, Any]] = answer["answers"]
    return answers
