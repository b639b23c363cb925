"""Consent & preferences rules, pure: no Flask, no boto3, no pynamodb.

The citizen decides, per purpose, what the council may do with their data. Giving or withdrawing
records proof (RGPD art. 7.1: the controller must be able to demonstrate consent); withdrawing is one
call, as easy as giving (RGPD art. 7.3). History is append-only; the current state is derived from it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Literal, Protocol

from events.consent import (
    Actor,
    ConsentChanged,
    ConsentSnapshot,
    Preferences,
    PreferencesChanged,
    SubscriptionChanged,
)
from functions.core.clock import MADRID
from functions.core.errors import NotFoundError, ValidationError
from functions.core.madrid import Zone, find_zone
from functions.core.terms import ConsentText, Terms

if TYPE_CHECKING:  # the port names the kernel's unit of work; this module stays free of its adapters
    from functions.core.store import UnitOfWork

Mode = Literal["a", "b"]
PERSONALISATION = "personalisation"


class ConsentError(ValidationError):
    """A consent request that breaks the terms (unknown purpose, channel, text version...)."""

    slug = "consent-invalid"
    title = "The consent request does not fit the published terms"


class SubscriptionNotFoundError(NotFoundError):
    slug = "subscription-not-found"
    title = "No such subscription"


@dataclass(frozen=True)
class PurposeConsent:
    granted: bool
    channels: tuple[str, ...] = ()
    text_version: str | None = None
    changed_at: datetime | None = None
    proof_id: str | None = None

    def snapshot(self) -> ConsentSnapshot:
        return ConsentSnapshot(granted=self.granted, channels=list(self.channels), text_version=self.text_version)


NEVER_ASKED = PurposeConsent(granted=False)


@dataclass(frozen=True)
class ConsentState:
    """The current consents of one citizen, derived from their proof history."""

    citizen_id: str
    purposes: dict[str, PurposeConsent] = field(default_factory=dict)
    version: int | None = None

    def of(self, purpose: str) -> PurposeConsent:
        return self.purposes.get(purpose, NEVER_ASKED)

    @property
    def mode(self) -> Mode:
        """Mode (b), proactive and personalised, only with consent for personalisation; else (a)."""
        return "b" if self.of(PERSONALISATION).granted else "a"


@dataclass(frozen=True)
class ConsentProof:
    """One append-only record that a consent was given or withdrawn, and by whom."""

    proof_id: str
    citizen_id: str
    purpose: str
    action: str  # "give" or "withdraw": what the citizen did; granted/channels: the resulting state
    granted: bool
    channels: tuple[str, ...]
    text_version: str | None
    text_sha256: str | None
    language: str
    actor: Actor
    capture_channel: str
    recorded_at: datetime
    captured_at: datetime | None = None
    document_ref: str | None = None
    access_purpose: str | None = None


@dataclass(frozen=True)
class ChangeConsent:
    citizen_id: str
    purpose: str
    granted: bool
    channels: tuple[str, ...]
    text_version: str | None
    language: str
    actor: Actor
    capture_channel: str
    captured_at: datetime | None = None
    document_ref: str | None = None
    access_purpose: str | None = None


@dataclass(frozen=True)
class ConsentOutcome:
    """What a change produced: the new state, and (unless nothing changed) its proof and event."""

    state: ConsentState
    proof: ConsentProof | None
    event: ConsentChanged | None


def change_consent(cmd: ChangeConsent, state: ConsentState, terms: Terms, now: datetime) -> ConsentOutcome:
    """Apply a give/withdraw; repeating the same decision changes nothing and records nothing."""
    purpose = terms.purposes.get(cmd.purpose)
    if purpose is None:
        raise ConsentError(
            f"unknown purpose {cmd.purpose!r}",
            errors=[{"field": "purpose", "message": f"one of {', '.join(sorted(terms.purposes))}"}],
        )
    channels = _checked_channels(cmd, purpose.channel_scoped, terms)
    text = None
    if cmd.granted:
        if not cmd.text_version:
            raise ConsentError("giving consent needs the text_version the citizen was shown")
        text = terms.text(cmd.purpose, cmd.text_version, cmd.language)
        if text is None:
            raise ConsentError(
                f"no consent text {cmd.text_version!r} in {cmd.language!r} for {cmd.purpose!r}",
                errors=[{"field": "text_version", "message": f"one of {', '.join(terms.versions_of(cmd.purpose))}"}],
            )
    before = state.of(cmd.purpose)
    after = _after(cmd, before, channels)
    if _same_decision(before, after):
        return ConsentOutcome(state=state, proof=None, event=None)
    if text is None:  # a withdrawal proves which text it withdraws: the hash of the version in force
        text = _text_in_force(terms, cmd.purpose, before.text_version, cmd.language)
    proof = ConsentProof(
        proof_id=str(uuid.uuid4()),
        citizen_id=cmd.citizen_id,
        purpose=cmd.purpose,
        action="give" if cmd.granted else "withdraw",
        granted=after.granted,
        channels=after.channels,
        text_version=after.text_version,
        text_sha256=text.sha256 if text else None,
        language=cmd.language,
        actor=cmd.actor,
        capture_channel=cmd.capture_channel,
        recorded_at=now,
        captured_at=cmd.captured_at,
        document_ref=cmd.document_ref,
        access_purpose=cmd.access_purpose,
    )
    after = replace(after, changed_at=now, proof_id=proof.proof_id)
    new_state = replace(state, purposes={**state.purposes, cmd.purpose: after})
    event = ConsentChanged(
        citizen_id=cmd.citizen_id,
        purpose=cmd.purpose,
        before=before.snapshot(),
        after=after.snapshot(),
        mode=new_state.mode,
        proof_id=proof.proof_id,
        actor=cmd.actor,
        capture_channel=cmd.capture_channel,
        language="en" if cmd.language == "en" else "es",
        text_sha256=proof.text_sha256,
        changed_at=now,
    )
    return ConsentOutcome(state=new_state, proof=proof, event=event)


def _text_in_force(terms: Terms, purpose: str, version: str | None, language: str) -> ConsentText | None:
    """The text the citizen had consented to, in their language if it exists in it, else in Spanish."""
    if not version:
        return None
    return terms.text(purpose, version, language) or terms.text(purpose, version, "es")


def _after(cmd: ChangeConsent, before: PurposeConsent, channels: tuple[str, ...]) -> PurposeConsent:
    """Giving sets the channels; withdrawing named channels keeps the others, withdrawing none keeps none."""
    if cmd.granted:
        return PurposeConsent(granted=True, channels=channels, text_version=cmd.text_version)
    remaining = tuple(c for c in before.channels if c not in channels) if channels and before.granted else ()
    return PurposeConsent(granted=bool(remaining), channels=remaining, text_version=before.text_version)


def _checked_channels(cmd: ChangeConsent, channel_scoped: bool, terms: Terms) -> tuple[str, ...]:
    unknown = [c for c in cmd.channels if c not in terms.channels]
    if unknown:
        raise ConsentError(
            f"unknown channel(s) {', '.join(unknown)}",
            errors=[{"field": "channels", "message": f"each one of {', '.join(terms.channels)}"}],
        )
    if not channel_scoped and cmd.channels:
        raise ConsentError(f"purpose {cmd.purpose!r} is not given per channel: send no channels")
    if channel_scoped and cmd.granted and not cmd.channels:
        raise ConsentError(f"purpose {cmd.purpose!r} is given per channel: name at least one channel")
    return tuple(dict.fromkeys(cmd.channels))


def _same_decision(before: PurposeConsent, after: PurposeConsent) -> bool:
    return (before.granted, set(before.channels), before.text_version if before.granted else None) == (
        after.granted,
        set(after.channels),
        after.text_version if after.granted else None,
    )


def derive_state(citizen_id: str, proofs: Iterable[ConsentProof]) -> ConsentState:
    """The current state is a fold of the append-only history, oldest first."""
    purposes: dict[str, PurposeConsent] = {}
    for proof in sorted(proofs, key=lambda p: p.recorded_at):
        purposes[proof.purpose] = PurposeConsent(
            granted=proof.granted,
            channels=proof.channels,
            text_version=proof.text_version,
            changed_at=proof.recorded_at,
            proof_id=proof.proof_id,
        )
    return ConsentState(citizen_id=citizen_id, purposes=purposes)


def consent_entries(state: ConsentState, terms: Terms) -> list[dict[str, object]]:
    """One entry per purpose and channel (``channel`` null for purposes not given per channel)."""
    entries: list[dict[str, object]] = []
    for pid, purpose in terms.purposes.items():
        current = state.of(pid)
        channels: list[str | None] = list(terms.channels) if purpose.channel_scoped else [None]
        for channel in channels:
            granted = current.granted and (channel is None or channel in current.channels)
            entries.append(
                {
                    "purpose": pid,
                    "channel": channel,
                    "granted": granted,
                    "requires_consent": purpose.requires_consent,
                    "legal_basis": purpose.legal_basis,
                    "text_version": current.text_version if granted else None,
                    "changed_at": current.changed_at,
                    "proof_id": current.proof_id,
                    "current_text_version": purpose.current_text_version,
                }
            )
    return entries


def change_preferences(
    citizen_id: str, before: Preferences, after: Preferences, actor: Actor, terms: Terms, now: datetime
) -> PreferencesChanged | None:
    """Validate new preferences against the terms; ``None`` when nothing changed."""
    unknown = [c for c in after.channels if c not in terms.channels]
    if unknown:
        raise ConsentError(
            f"unknown channel(s) {', '.join(unknown)}",
            errors=[{"field": "channels", "message": f"each one of {', '.join(terms.channels)}"}],
        )
    if len(set(after.channels)) != len(after.channels):
        raise ConsentError("preferred channels must not repeat")
    if before == after:
        return None
    return PreferencesChanged(citizen_id=citizen_id, before=before, after=after, actor=actor, changed_at=now)


@dataclass(frozen=True)
class Subscription:
    id: str
    citizen_id: str
    topic: str
    zone: Zone
    created_at: datetime


def subscription_id(topic: str, zone: str) -> str:
    """One subscription per topic and zone: the id is derived, so subscribing twice is idempotent."""
    return f"{topic}.{zone}"


def new_subscription(
    citizen_id: str, topic: str, zone_code: str, actor: Actor, terms: Terms, now: datetime
) -> tuple[Subscription, SubscriptionChanged]:
    if topic not in terms.topics:
        raise ConsentError(
            f"unknown topic {topic!r}", errors=[{"field": "topic", "message": f"one of {', '.join(terms.topics)}"}]
        )
    zone = find_zone(zone_code)
    if zone is None:
        raise ConsentError(
            f"unknown zone {zone_code!r}",
            errors=[{"field": "zone", "message": "an official district (01-21) or barrio (e.g. 011) code of Madrid"}],
        )
    sub = Subscription(subscription_id(topic, zone.code), citizen_id, topic, zone, now)
    event = SubscriptionChanged(
        citizen_id=citizen_id,
        subscription_id=sub.id,
        change="created",
        topic=topic,
        zone=zone.code,
        actor=actor,
        changed_at=now,
    )
    return sub, event


def removed_subscription(sub: Subscription, actor: Actor, now: datetime) -> SubscriptionChanged:
    return SubscriptionChanged(
        citizen_id=sub.citizen_id,
        subscription_id=sub.id,
        change="deleted",
        topic=sub.topic,
        zone=sub.zone.code,
        actor=actor,
        changed_at=now,
    )


@dataclass(frozen=True)
class RgpdFlags:
    """The restriction (RGPD art. 18) and objection (art. 21) flags functions/rgpd owns, as projected here."""

    restricted: bool = False
    objections: tuple[str, ...] = ()
    changed_at: datetime | None = None


def contact_question(
    state: ConsentState,
    preferences: Preferences,
    purpose: str,
    channel: str,
    now: datetime,
    message: dict[str, str] | None = None,
    flags: RgpdFlags | None = None,
) -> dict[str, object]:
    """The input of ``policies/consent``: "may the council contact this citizen for P on C now?".

    Local time is Europe/Madrid's (the policy compares "HH:MM" strings with the citizen's quiet hours).
    ``flags`` are the citizen's restriction and objections (none when not given).
    """
    quiet = preferences.quiet_hours
    flags = flags or RgpdFlags()
    return {
        "purpose": purpose,
        "channel": channel,
        "citizen": {
            "consents": {pid: p.snapshot().model_dump() for pid, p in state.purposes.items()},
            "preferences": {"quiet_hours": quiet.model_dump() if quiet else None},
            "flags": {"restricted": flags.restricted, "objections": list(flags.objections)},
        },
        "now": {"local_time": now.astimezone(MADRID).strftime("%H:%M")},
        **({"message": message} if message else {}),
    }


def quiet_hours_end(preferences: Preferences, now: datetime) -> datetime | None:
    """When the citizen's quiet hours next end (Europe/Madrid), as an aware datetime; None without them."""
    if preferences.quiet_hours is None:
        return None
    local = now.astimezone(MADRID)
    hour, minute = (int(part) for part in preferences.quiet_hours.end.split(":"))
    end = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if end <= local:
        end += timedelta(days=1)
    return end.replace(tzinfo=None).replace(tzinfo=MADRID)  # re-resolve the offset across DST changes


# ---- the domain's port ------------------------------------------------------------------------------


class ConsentStore(Protocol):
    """What the consent domain reads and stages (``storage.DynamoConsentStore`` in production; an in-memory
    fake in the handlers' unit tests)."""

    def fetch_state(self, citizen_id: str) -> ConsentState: ...
    def fetch_history(
        self, citizen_id: str, limit: int, cursor: str | None
    ) -> tuple[list[ConsentProof], str | None]: ...
    def fetch_all_proofs(self, citizen_id: str) -> list[ConsentProof]: ...
    def fetch_preferences(self, citizen_id: str) -> tuple[Preferences, int | None]: ...
    def fetch_subscriptions(self, citizen_id: str) -> list[Subscription]: ...
    def fetch_subscription(self, citizen_id: str, subscription_id: str) -> Subscription | None: ...
    def fetch_flags(self, citizen_id: str) -> RgpdFlags: ...
    def stage_consent_change(
        self, uow: UnitOfWork, state: ConsentState, proof: ConsentProof, now: datetime
    ) -> None: ...
    def stage_preferences(
        self, uow: UnitOfWork, citizen_id: str, preferences: Preferences, version: int | None, now: datetime
    ) -> None: ...
    def stage_subscription(self, uow: UnitOfWork, sub: Subscription) -> None: ...
    def stage_unsubscribe(self, uow: UnitOfWork, sub: Subscription) -> None: ...
    def stage_flags(self, uow: UnitOfWork, citizen_id: str, flags: RgpdFlags) -> None: ...
    def stage_proof(self, uow: UnitOfWork, proof: ConsentProof) -> None: ...
    def stage_erase_state(self, uow: UnitOfWork, citizen_id: str, version: int | None) -> None: ...
    def stage_erase_preferences(self, uow: UnitOfWork, citizen_id: str, version: int | None) -> None: ...
    def stage_erase_subscription(self, uow: UnitOfWork, sub: Subscription) -> None: ...
    def stage_erase_proof(self, uow: UnitOfWork, proof: ConsentProof) -> None: ...
