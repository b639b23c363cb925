"""No path of one machine in code, docs or messages: a clone elsewhere must read the same (issue 12 §7).

Shared facts are cited relative to the repository (``../shared/data/madrid/facts.md``) or by their legal
source; a home or work directory of the machine that wrote a line means nothing anywhere else.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NOT_OURS = {".git", ".venv", ".tools", ".pic-data", ".mypy_cache", ".ruff_cache", ".pytest_cache", ".hypothesis"}
NOT_OURS |= {"__pycache__", "node_modules", ".benchmarks", ".cache"}
# Spelt in pieces so that this file does not match itself.
MACHINE_PATH = re.compile("(?<![\\w.])/(" + "|".join(("wo" + "rk", "ho" + "me", "ro" + "ot", "Us" + "ers")) + ")/")


def repository_files() -> list[Path]:
    """Every file of the repository, not what the local tools or runs put beside it."""
    return [
        path for path in ROOT.rglob("*") if path.is_file() and not NOT_OURS.intersection(path.relative_to(ROOT).parts)
    ]


def test_no_file_names_a_directory_of_one_machine() -> None:
    # GIVEN every text file of the repository
    found = []
    for path in repository_files():
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue  # binary
        # THEN none names a home, work or root directory
        found += [
            f"{path.relative_to(ROOT)}:{number}: {line.strip()[:120]}"
            for number, line in enumerate(text.splitlines(), start=1)
            if MACHINE_PATH.search(line)
        ]
    assert not found, "paths of one machine (cite relative to the repository instead):\n" + "\n".join(found)


def test_the_check_sees_such_a_path() -> None:
    # GIVEN lines as they were found in functions/rgpd, and lines that are fine
    bad = ["see " + "/wo" + "rk/shared/data/madrid/facts.md §5", "cwd=" + "/ho" + "me/ana/pic"]
    good = ["see ../shared/data/madrid/facts.md §5", "GET /v1/citizens/c-ana/work/", "https://example.org/home/x"]
    # THEN the first are caught and the others are not
    assert all(MACHINE_PATH.search(line) for line in bad)
    assert not any(MACHINE_PATH.search(line) for line in good)
