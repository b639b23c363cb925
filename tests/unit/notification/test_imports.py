"""What starting the notification functions costs: textstat (and the nltk it pulls, ~0.6 s) loads only when a
template's readability is scored (a template write or preview), never on a cold start (issue 12 §5)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
HEAVY = ("textstat", "nltk")


def modules_after_import(module: str) -> set[str]:
    code = f"import json, sys; import {module}; print(json.dumps(sorted(sys.modules)))"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    return set(json.loads(out.stdout))


def test_importing_the_notification_functions_does_not_load_textstat_or_nltk() -> None:
    loaded = modules_after_import("functions.notification.main")
    heavy = sorted(m for m in loaded if m.split(".")[0] in HEAVY)
    assert not heavy, f"functions.notification.main imports {heavy}"


def test_scoring_readability_loads_textstat() -> None:
    """The other side: the lazy import is real (the score still comes from textstat)."""
    scored = "functions.notification.templates; functions.notification.templates.readability('Hola.')"
    loaded = modules_after_import(scored)
    assert "textstat" in loaded
