"""docs/security.md's roles table says what ``policies/authz/data.json`` says: a compliance officer who edits
the data (or a developer who adds an action) must update the page people read."""

from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ROW = re.compile(r"^\| `(?P<action>[a-z.-]+)` \| (?P<roles>[a-z, ]+) \|", re.MULTILINE)


def test_the_roles_table_matches_the_policy_data() -> None:
    # GIVEN the actions of policies/authz and the table of docs/security.md
    actions = json.loads((ROOT / "policies/authz/data.json").read_text(encoding="utf-8"))["actions"]
    table = {
        m["action"]: [r.strip() for r in m["roles"].split(",")]
        for m in ROW.finditer((ROOT / "docs/security.md").read_text(encoding="utf-8"))
    }
    # THEN every action is in the table with exactly its roles, and the table names no other action
    assert {name: spec["roles"] for name, spec in actions.items()} == table
