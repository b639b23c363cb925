"""Which channel a message to a person goes by, as ``policies/notifications`` decides it: one code for the
notification service (NOT decides each message at send time) and for whoever must predict that decision (a
campaign's count per channel), so that what is counted is what will be sent.

The candidates are the person's preferred channels (else the default order), reachable ones first;
``policies/notifications`` is asked per channel until one is allowed; the first allowed wins, else the first
one quiet hours defer, else the message is not allowed, with the reason of the first reachable refusal
(``no-channel`` when every candidate failed only for lack of a contact point).

The policy's input holds no id and no address, so people alike (same consents, preferences, flags and
reachable channels) share one decision: NOT memoises it during a fan-out, a count asks it once per group.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from functions.core.clock import MADRID
from functions.core.policy import Decision, Policy

CHANNELS = ("email", "sms", "push", "inapp")
DEFAULT_ORDER = CHANNELS


class Person(Protocol):
    """What deciding needs about a person (no id, no address)."""

    @property
    def consents(self) -> dict[str, dict[str, Any]]: ...
    @property
    def quiet_hours(self) -> dict[str, str] | None: ...
    @property
    def restricted(self) -> bool: ...
    @property
    def objections(self) -> tuple[str, ...]: ...


@dataclass(frozen=True)
class Message:
    """What is being sent, as the policy sees it (no personal data)."""

    purpose: str
    kind: str = "notification"  # or "alert"
    topic: str | None = None
    severity: str | None = None

    def as_input(self) -> dict[str, Any]:
        found: dict[str, Any] = {"kind": self.kind}
        if self.topic:
            found["topic"] = self.topic
        if self.severity:
            found["severity"] = self.severity
        return found


def candidates_of(channels: Sequence[str]) -> tuple[str, ...]:
    """The channels to try, most preferred first: the person's own order, else the default one."""
    preferred = tuple(c for c in channels if c in CHANNELS)
    return preferred or DEFAULT_ORDER


def policy_input(
    message: Message, channel: str, person: Person | None, reachable: Sequence[str], now: datetime
) -> dict[str, Any]:
    """The input of ``policies/notifications`` (a superset of ``policies/consent``'s): no ids, no addresses,
    so that people alike share one memoised decision."""
    return {
        "purpose": message.purpose,
        "channel": channel,
        "recipient": "citizen" if person else "direct",
        "reachable": list(reachable),
        "citizen": {
            "consents": person.consents if person else {},
            "preferences": {"quiet_hours": person.quiet_hours if person else None},
            "flags": {
                "restricted": person.restricted if person else False,
                "objections": list(person.objections) if person else [],
            },
            # NOT's blocklist (bounces, complaints) per channel of the person's current addresses; a person
            # model without one (a segment's row) is blocked nowhere
            "blocked": dict(getattr(person, "blocked", None) or {}),
        },
        "now": {"local_time": now.astimezone(MADRID).strftime("%H:%M")},
        "message": message.as_input(),
    }


@dataclass(frozen=True)
class Choice:
    """The outcome of deciding: a channel (maybe deferred) or not-allowed with the reason."""

    allowed: bool
    channel: str | None
    deliver_after: datetime | None
    reason: str | None
    reasons: list[str]
    legal_basis: str = ""


def choose(decisions: Iterable[tuple[str, Decision]], quiet_end: Callable[[], datetime | None]) -> Choice:
    """First allowed channel in order; else the first one deferred by quiet hours; else not-allowed.

    The reason of a refusal is ``no-channel`` when every candidate failed only for lack of a contact point,
    else the code of the first reachable candidate's refusal (``no-consent``, ``restricted``, ...).
    """
    seen = list(decisions)
    for channel, decision in seen:
        if decision.allow:
            return Choice(True, channel, None, None, decision.reasons, str(decision.result.get("legal_basis", "")))
    for channel, decision in seen:
        if decision.result.get("defer"):
            return Choice(
                True, channel, quiet_end(), "quiet-hours", decision.reasons, str(decision.result.get("legal_basis", ""))
            )
    codes = [str(d.result.get("code", "not-allowed")) for _, d in seen]
    reason = next((c for c in codes if c != "no-channel"), "no-channel")
    reasons = [f"{channel}: {r}" for channel, d in seen for r in d.reasons]
    if not seen:
        reasons = ["No channel was asked about."]
    return Choice(False, None, None, reason, reasons)


def quiet_hours_end(quiet_hours: dict[str, str] | None, now: datetime) -> datetime | None:
    """When the person's quiet hours next end (Europe/Madrid, DST-safe), as UTC-comparable aware time."""
    if not quiet_hours:
        return None
    local = now.astimezone(MADRID)
    hour, minute = (int(part) for part in quiet_hours["end"].split(":"))
    end = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if end <= local:
        end += timedelta(days=1)
    return end.replace(tzinfo=None).replace(tzinfo=MADRID)


def decide(
    message: Message, person: Person | None, candidates: Sequence[str], reachable: Sequence[str], at: datetime,
    policy: Policy,
) -> Choice:  # fmt: skip
    """Ask the policy about each candidate, reachable ones first (in the person's order), stopping at the first
    allowed one: a fan-out asks about one channel for most people. The others are asked only to give the
    reasons of a refusal."""
    decisions = []
    ordered = [c for c in candidates if c in reachable] + [c for c in candidates if c not in reachable]
    for channel in ordered:
        decision = policy.decide("notifications", policy_input(message, channel, person, reachable, at))
        decisions.append((channel, decision))
        if decision.allow:
            break
    return choose(decisions, lambda: quiet_hours_end(person.quiet_hours if person else None, at))
