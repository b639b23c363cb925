"""Consent storage: one DynamoDB table, items keyed by citizen.

``item`` values: ``state`` (the derived current consents, versioned), ``proof#<time>#<id>`` (the
append-only history), ``preferences``, ``subscription#<topic>.<zone>``, ``rgpd-flags`` (the projection of
the restriction/objection flags functions/rgpd owns, latest ``changed_at`` wins). Subscriptions carry
``topic_zone`` for the ``by-topic-zone`` index that alert fan-out reads.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    ListAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
    VersionAttribute,
)
from pynamodb.indexes import GlobalSecondaryIndex, KeysOnlyProjection

from events.consent import Actor, Preferences
from functions.consent.service import ConsentProof, ConsentState, PurposeConsent, RgpdFlags, Subscription
from functions.core.madrid import find_zone
from functions.core.store import StoreModel, UnitOfWork, defines_table, model_meta, to_iso

PROOF_PREFIX = "proof#"
SUBSCRIPTION_PREFIX = "subscription#"
RGPD_FLAGS = "rgpd-flags"


class ByTopicZone(GlobalSecondaryIndex["SubscriptionItem"]):
    """Who is subscribed to a topic in a zone (alert fan-out)."""

    class Meta:
        index_name = "by-topic-zone"
        projection = KeysOnlyProjection()

    topic_zone = UnicodeAttribute(hash_key=True)
    citizen_id = UnicodeAttribute(range_key=True)


class ConsentItem(StoreModel):
    Meta = model_meta("consent")

    citizen_id = UnicodeAttribute(hash_key=True)
    item = UnicodeAttribute(range_key=True)


class StateItem(ConsentItem):
    purposes = UnicodeAttribute()  # JSON: purpose -> {granted, channels, text_version, changed_at, proof_id}
    version = VersionAttribute()
    updated_at = UTCDateTimeAttribute()


class ProofItem(ConsentItem):
    proof_id = UnicodeAttribute()
    purpose = UnicodeAttribute()
    action = UnicodeAttribute()  # give | withdraw
    granted = BooleanAttribute()
    channels = ListAttribute(of=UnicodeAttribute, default=list)
    text_version = UnicodeAttribute(null=True)
    text_sha256 = UnicodeAttribute(null=True)
    language = UnicodeAttribute()
    actor = UnicodeAttribute()  # JSON of events.consent.Actor
    capture_channel = UnicodeAttribute()
    recorded_at = UTCDateTimeAttribute()
    captured_at = UTCDateTimeAttribute(null=True)
    document_ref = UnicodeAttribute(null=True)
    access_purpose = UnicodeAttribute(null=True)


class PreferencesItem(ConsentItem):
    preferences = UnicodeAttribute()  # JSON of events.consent.Preferences
    version = VersionAttribute()
    updated_at = UTCDateTimeAttribute()


class RgpdFlagsItem(ConsentItem):
    """The citizen's restriction (RGPD art. 18) and objection (art. 21) flags, as rgpd.flags.changed says."""

    restricted = BooleanAttribute()
    objections = ListAttribute(of=UnicodeAttribute, default=list)
    changed_at = UTCDateTimeAttribute()


@defines_table
class SubscriptionItem(ConsentItem):
    """Defines the table (keys and the by-topic-zone index) for every consent item kind."""

    topic = UnicodeAttribute()
    zone = UnicodeAttribute()
    topic_zone = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    by_topic_zone = ByTopicZone()


class DynamoConsentStore:
    """The consent repository: ``fetch_`` reads, ``stage_`` adds writes to a unit of work."""

    def fetch_state(self, citizen_id: str) -> ConsentState:
        try:
            item = StateItem.get(citizen_id, "state", consistent_read=True)
        except StateItem.DoesNotExist:
            return ConsentState(citizen_id=citizen_id)
        purposes = {
            pid: PurposeConsent(
                granted=p["granted"],
                channels=tuple(p["channels"]),
                text_version=p["text_version"],
                changed_at=datetime.fromisoformat(p["changed_at"]) if p.get("changed_at") else None,
                proof_id=p.get("proof_id"),
            )
            for pid, p in json.loads(item.purposes).items()
        }
        return ConsentState(citizen_id=citizen_id, purposes=purposes, version=item.version)

    def stage_consent_change(self, uow: UnitOfWork, state: ConsentState, proof: ConsentProof, now: datetime) -> None:
        """The proof (append-only: it must not exist) and the derived state (versioned) together."""
        purposes = {
            pid: {
                "granted": p.granted,
                "channels": list(p.channels),
                "text_version": p.text_version,
                "changed_at": to_iso(p.changed_at),
                "proof_id": p.proof_id,
            }
            for pid, p in state.purposes.items()
        }
        item = StateItem(state.citizen_id, "state", purposes=json.dumps(purposes), updated_at=now)
        if state.version is not None:  # None: first write, pynamodb conditions on "does not exist"
            item.version = state.version
        uow.put(item, tag="consent-state")
        uow.put(_proof_item(proof), condition=ProofItem.item.does_not_exist(), tag="consent-proof")

    def fetch_history(
        self, citizen_id: str, limit: int = 50, cursor: str | None = None
    ) -> tuple[list[ConsentProof], str | None]:
        """Proofs newest first, a page at a time; the cursor is opaque to callers."""
        start = _decode_cursor(cursor, citizen_id) if cursor else None
        result = ProofItem.query(
            citizen_id,
            ProofItem.item.startswith(PROOF_PREFIX),
            scan_index_forward=False,
            limit=limit,
            last_evaluated_key=start,
            consistent_read=True,
        )
        proofs = [_proof_of(item) for item in result]
        last = result.last_evaluated_key
        next_cursor = base64.urlsafe_b64encode(json.dumps(last).encode()).decode() if last else None
        return proofs, next_cursor

    def fetch_preferences(self, citizen_id: str) -> tuple[Preferences, int | None]:
        try:
            item = PreferencesItem.get(citizen_id, "preferences", consistent_read=True)
        except PreferencesItem.DoesNotExist:
            return Preferences(), None
        return Preferences.model_validate_json(item.preferences), item.version

    def stage_preferences(
        self, uow: UnitOfWork, citizen_id: str, prefs: Preferences, version: int | None, now: datetime
    ) -> None:
        item = PreferencesItem(citizen_id, "preferences", preferences=prefs.model_dump_json(), updated_at=now)
        if version is not None:
            item.version = version
        uow.put(item, tag="preferences")

    def fetch_subscriptions(self, citizen_id: str) -> list[Subscription]:
        items = SubscriptionItem.query(
            citizen_id, SubscriptionItem.item.startswith(SUBSCRIPTION_PREFIX), consistent_read=True
        )
        return [_subscription_of(item) for item in items]

    def fetch_subscription(self, citizen_id: str, subscription_id: str) -> Subscription | None:
        try:
            item = SubscriptionItem.get(citizen_id, SUBSCRIPTION_PREFIX + subscription_id, consistent_read=True)
        except SubscriptionItem.DoesNotExist:
            return None
        return _subscription_of(item)

    def stage_subscription(self, uow: UnitOfWork, sub: Subscription) -> None:
        item = SubscriptionItem(
            sub.citizen_id,
            SUBSCRIPTION_PREFIX + sub.id,
            topic=sub.topic,
            zone=sub.zone.code,
            topic_zone=f"{sub.topic}#{sub.zone.code}",
            created_at=sub.created_at,
        )
        uow.put(item, condition=SubscriptionItem.item.does_not_exist(), tag="subscription")

    def stage_unsubscribe(self, uow: UnitOfWork, sub: Subscription) -> None:
        """Unsubscribing deletes the item (and so its index entry); it must exist."""
        item = SubscriptionItem(sub.citizen_id, SUBSCRIPTION_PREFIX + sub.id)
        uow.delete(item, condition=SubscriptionItem.item.exists(), tag="subscription")

    # ---- data-subject rights (functions/consent/rights.py) ------------------------------------------

    def fetch_flags(self, citizen_id: str) -> RgpdFlags:
        """The projected flags; none restricted nor objected until rgpd says otherwise."""
        try:
            item = RgpdFlagsItem.get(citizen_id, RGPD_FLAGS, consistent_read=True)
        except RgpdFlagsItem.DoesNotExist:
            return RgpdFlags()
        return RgpdFlags(
            restricted=bool(item.restricted),
            objections=tuple(str(o) for o in item.objections or ()),
            changed_at=item.changed_at,
        )

    def stage_flags(self, uow: UnitOfWork, citizen_id: str, flags: RgpdFlags) -> None:
        """Newer flags only: a redelivered or late older event must not undo a newer one."""
        assert flags.changed_at is not None
        item = RgpdFlagsItem(
            citizen_id,
            RGPD_FLAGS,
            restricted=flags.restricted,
            objections=list(flags.objections),
            changed_at=flags.changed_at,
        )
        newer = RgpdFlagsItem.item.does_not_exist() | (RgpdFlagsItem.changed_at < flags.changed_at)
        uow.put(item, condition=newer, tag="rgpd-flags")

    def fetch_all_proofs(self, citizen_id: str) -> list[ConsentProof]:
        """Every proof of a citizen, oldest first (an export or an erasure reads them all)."""
        items = ProofItem.query(citizen_id, ProofItem.item.startswith(PROOF_PREFIX), consistent_read=True)
        return [_proof_of(item) for item in items]

    def stage_proof(self, uow: UnitOfWork, proof: ConsentProof) -> None:
        """A proof on its own (append-only), e.g. the withdrawal an erasure records."""
        uow.put(_proof_item(proof), condition=ProofItem.item.does_not_exist(), tag="consent-proof")

    def stage_erase_state(self, uow: UnitOfWork, citizen_id: str, version: int | None) -> None:
        """Delete the derived state at the version read (pynamodb conditions a versioned delete on it)."""
        item = StateItem(citizen_id, "state")
        item.version = version
        uow.delete(item, tag="consent-state")

    def stage_erase_preferences(self, uow: UnitOfWork, citizen_id: str, version: int | None) -> None:
        item = PreferencesItem(citizen_id, "preferences")
        item.version = version
        uow.delete(item, tag="preferences")

    def stage_erase_subscription(self, uow: UnitOfWork, sub: Subscription) -> None:
        uow.delete(SubscriptionItem(sub.citizen_id, SUBSCRIPTION_PREFIX + sub.id), tag="subscription")

    def stage_erase_proof(self, uow: UnitOfWork, proof: ConsentProof) -> None:
        uow.delete(ProofItem(proof.citizen_id, _proof_sort_key(proof)), tag="consent-proof")


def _proof_sort_key(proof: ConsentProof) -> str:
    return f"{PROOF_PREFIX}{proof.recorded_at.isoformat()}#{proof.proof_id}"


def _decode_cursor(cursor: str, citizen_id: str) -> dict[str, Any]:
    """A cursor this API gave for this citizen's history, or ``ValueError``."""
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, TypeError) as exc:
        raise ValueError("not a cursor") from exc
    valid = (
        isinstance(key, dict)
        and set(key) == {"citizen_id", "item"}
        and key["citizen_id"] == {"S": citizen_id}
        and isinstance(key["item"], dict)
        and str(key["item"].get("S", "")).startswith(PROOF_PREFIX)
    )
    if not valid:
        raise ValueError("not a cursor of this citizen's history")
    return dict(key)


def _proof_item(proof: ConsentProof) -> ProofItem:
    return ProofItem(
        proof.citizen_id,
        _proof_sort_key(proof),
        proof_id=proof.proof_id,
        purpose=proof.purpose,
        action=proof.action,
        granted=proof.granted,
        channels=list(proof.channels),
        text_version=proof.text_version,
        text_sha256=proof.text_sha256,
        language=proof.language,
        actor=proof.actor.model_dump_json(),
        capture_channel=proof.capture_channel,
        recorded_at=proof.recorded_at,
        captured_at=proof.captured_at,
        document_ref=proof.document_ref,
        access_purpose=proof.access_purpose,
    )


def _proof_of(item: ProofItem) -> ConsentProof:
    return ConsentProof(
        proof_id=item.proof_id,
        citizen_id=item.citizen_id,
        purpose=item.purpose,
        action=item.action,
        granted=item.granted,
        channels=tuple(str(c) for c in item.channels or ()),
        text_version=item.text_version,
        text_sha256=item.text_sha256,
        language=item.language,
        actor=Actor.model_validate_json(item.actor),
        capture_channel=item.capture_channel,
        recorded_at=item.recorded_at,
        captured_at=item.captured_at,
        document_ref=item.document_ref,
        access_purpose=item.access_purpose,
    )


def _subscription_of(item: SubscriptionItem) -> Subscription:
    zone = find_zone(item.zone)
    if zone is None:  # the zone list changed after the subscription was made
        raise ValueError(f"subscription {item.item} names an unknown zone {item.zone}")
    return Subscription(item.item.removeprefix(SUBSCRIPTION_PREFIX), item.citizen_id, item.topic, zone, item.created_at)


def proof_view(proof: ConsentProof) -> dict[str, Any]:
    return {
        "proof_id": proof.proof_id,
        "purpose": proof.purpose,
        "action": proof.action,
        "granted": proof.granted,
        "channels": list(proof.channels),
        "text_version": proof.text_version,
        "text_sha256": proof.text_sha256,
        "language": proof.language,
        "actor": proof.actor.model_dump(exclude_none=True),
        "capture_channel": proof.capture_channel,
        "recorded_at": to_iso(proof.recorded_at),
        "captured_at": to_iso(proof.captured_at),
        "document_ref": proof.document_ref,
        "access_purpose": proof.access_purpose,
    }
