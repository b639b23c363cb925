"""NOT's blocklist, pure: what the providers' feedback does to an address.

The rules are data (``policies/notifications/data.json`` ``blocklist``, with their rationale): operational
policy that keeps PIC's sending reputation with the providers, not law. A hard bounce blocks the address for
every purpose (it does not exist); three soft bounces within 30 days, or one complaint, block it for campaigns
and surveys. The state is kept per address by its blind index (``service.address_key``), never the address:

``{"seen": {rule: {notification_id: at}}, "blocked": rule | None, "blocked_at": at | None}``

A notification counts once per rule (a provider that delivers the same feedback twice changes nothing), and
only the events inside a rule's window count. ``policies/notifications`` refuses a blocked address with code
``blocked`` for the purposes its rule names.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from functions.core.settings import get_settings

STRENGTH = ("soft-bounce", "complaint", "hard-bounce")  # weakest first: a stronger block replaces a weaker one


@dataclass(frozen=True)
class Rule:
    name: str
    count: int
    window: timedelta | None
    purposes: tuple[str, ...] | None  # None: every purpose

    def blocks(self, purpose: str) -> bool:
        return self.purposes is None or purpose in self.purposes


@lru_cache(maxsize=1)
def rules() -> dict[str, Rule]:
    """The rules of ``policies/notifications/data.json``: the same data the policy refuses with."""
    path = get_settings().policies_dir / "notifications" / "data.json"
    raw = json.loads(path.read_text(encoding="utf-8"))["blocklist"]["rules"]
    return {
        name: Rule(
            name,
            int(spec["count"]),
            timedelta(days=spec["window_days"]) if spec.get("window_days") else None,
            None if spec["purposes"] == "*" else tuple(spec["purposes"]),
        )
        for name, spec in raw.items()
    }


def rule_of(kind: str, bounce: str | None) -> str | None:
    """The rule a feedback counts for: a bounce by its kind, a complaint; opens and clicks count for none."""
    if kind == "bounced":
        return "hard-bounce" if bounce == "hard" else "soft-bounce"
    return "complaint" if kind == "complained" else None


def stronger(held: str | None, new: str) -> str:
    return new if held is None or STRENGTH.index(new) > STRENGTH.index(held) else held


def record(state: dict[str, Any], rule_name: str, notification_id: str, at: datetime) -> dict[str, Any] | None:
    """The state after one feedback of ``rule_name`` about ``notification_id`` at ``at``; ``None`` when that
    notification was already counted for the rule (a redelivered webhook). Events outside the rule's window are
    forgotten; reaching the rule's count blocks the address (a stronger rule's block is kept)."""
    rule = rules()[rule_name]
    seen: dict[str, dict[str, str]] = {k: dict(v) for k, v in (state.get("seen") or {}).items()}
    mine = seen.get(rule_name, {})
    if notification_id in mine:
        return None
    mine[notification_id] = at.isoformat()
    if rule.window is not None:
        since = at - rule.window
        mine = {n: when for n, when in mine.items() if datetime.fromisoformat(when) > since}
    seen[rule_name] = mine
    blocked = state.get("blocked")
    blocked_at = state.get("blocked_at")
    if len(mine) >= rule.count and stronger(blocked, rule_name) != blocked:
        blocked, blocked_at = rule_name, at.isoformat()
    return {"seen": seen, "blocked": blocked, "blocked_at": blocked_at}


def newly_blocked(before: dict[str, Any], after: dict[str, Any]) -> str | None:
    """The rule that blocks the address now and did not before (to tell the citizen's projection)."""
    return after["blocked"] if after.get("blocked") != before.get("blocked") else None
