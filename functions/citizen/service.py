"""Citizen 360 (C360) resolution, pure: no Flask, no boto3, no pynamodb.

An area system's record of a person (``citizen.record.upserted``) is linked to ONE golden citizen record.
This is the first rule set, deterministic only:

1. the same (source, local_id) again: the record keeps its link, which is updated, never duplicated;
2. a VALID document (python-stdnum check letter, ``identity.normalise_document``) already linked to a
   golden record: that golden record (method ``document``, score 1.0);
3. otherwise: a new golden record ``cit-<uuid>`` (method ``new``). An invalid document never matches: it
   is kept on the link as a data-quality finding.

Golden attributes by simple survivorship over the golden record's links: the Padrón (``/legacy/padron``)
wins for name, birth date and address; the most recent record wins for e-mail and phone. Probabilistic
matching (names, birth date, contact data; ``identity.blocking_keys``) and a review queue come next.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from events.citizen import CitizenRecordUpserted, CitizenUpdated, MatchDecision, SourceLinkChange
from functions.citizen.identity import Document, normalise_document, normalise_email, normalise_phone
from functions.core.errors import NotFoundError

PADRON = "/legacy/padron"
NAME_FIELDS = ("given_name", "first_surname", "second_surname", "birth_date", "address")
CONTACT_FIELDS = ("email", "phone")
CITIZEN_ID_PREFIX = "cit-"


class CitizenNotFoundError(NotFoundError):
    """No golden record, or no link for a (source, local_id); the generic ``not-found`` problem."""


def new_citizen_id() -> str:
    return f"{CITIZEN_ID_PREFIX}{uuid.uuid4()}"


@dataclass(frozen=True)
class Link:
    """A source record linked to a golden record: the record as received, its document as evidence."""

    source: str
    local_id: str
    citizen_id: str
    record: CitizenRecordUpserted
    document: Document | None
    method: Literal["document", "new"]
    score: float
    evidence: tuple[str, ...]
    received_at: datetime
    version: int | None = None

    @property
    def key(self) -> str:
        return f"{self.source}#{self.local_id}"

    @property
    def findings(self) -> list[dict[str, str]]:
        if self.document is not None and not self.document.valid:
            return [{"field": "document", "finding": self.document.finding or "invalid document"}]
        return []


@dataclass(frozen=True)
class Golden:
    """The golden record: the survived attributes, where each came from, and the valid documents."""

    citizen_id: str
    attributes: dict[str, Any] = field(default_factory=dict)
    provenance: dict[str, str] = field(default_factory=dict)
    documents: tuple[tuple[str, str], ...] = ()
    created_at: datetime | None = None
    updated_at: datetime | None = None
    version: int | None = None


@dataclass(frozen=True)
class Resolution:
    """What one upsert does: the link to write, the golden record after survivorship, the document index
    entry to claim (only for a valid document no golden record holds yet) and the event; or nothing."""

    link: Link
    golden: Golden
    claim_document: Document | None
    event: CitizenUpdated | None


def document_of(record: CitizenRecordUpserted) -> Document | None:
    if record.document is None:
        return None
    return normalise_document(record.document.type, record.document.number)


def resolve(
    source: str,
    record: CitizenRecordUpserted,
    *,
    existing: Link | None,
    document_owner: str | None,
    golden: Golden | None,
    other_links: Iterable[Link],
    now: datetime,
    new_id: Callable[[], str] = new_citizen_id,
) -> Resolution:
    """Decide which golden record ``record`` (from ``source``) belongs to, and the golden record after it.

    ``existing`` is the current link of (source, local_id), ``document_owner`` the golden record its valid
    document is linked to, ``golden`` and ``other_links`` the chosen golden record's state (read by the caller
    once the citizen id is known: see :func:`target_citizen`).
    """
    document = document_of(record)
    citizen_id, method, score, evidence = decide(source, record, document, existing, document_owner, new_id)
    if golden is not None and golden.citizen_id != citizen_id:
        raise ValueError("golden record read for another citizen")
    link = Link(
        source=source,
        local_id=record.local_id,
        citizen_id=citizen_id,
        record=record,
        document=document,
        method=method,
        score=score,
        evidence=existing.evidence if existing else tuple(evidence),  # the decision that made the link
        received_at=now,
        version=existing.version if existing else None,
    )
    links = [other for other in other_links if other.key != link.key] + [link]
    after = survive(citizen_id, links, golden, now)
    claim = document if document is not None and document.valid and document_owner is None else None
    if existing is not None and existing.record == record and existing.citizen_id == citizen_id and claim is None:
        return Resolution(link=existing, golden=golden or after, claim_document=None, event=None)
    event = CitizenUpdated(
        citizen_id=citizen_id,
        link=SourceLinkChange(
            source=source,
            local_id=record.local_id,
            change="changed" if existing else "added",
            document_type=document.type if document else None,
            document_valid=document.valid if document else None,
            findings=[f["field"] for f in link.findings],
        ),
        match=MatchDecision(method=method, score=score, evidence=list(evidence)),
        updated_at=now,
    )
    return Resolution(link=link, golden=after, claim_document=claim, event=event)


def target_citizen(existing: Link | None, document_owner: str | None) -> str | None:
    """The golden record an upsert will land on when it is already known (None: a new one)."""
    if existing is not None:
        return existing.citizen_id
    return document_owner


def decide(
    source: str,
    record: CitizenRecordUpserted,
    document: Document | None,
    existing: Link | None,
    document_owner: str | None,
    new_id: Callable[[], str],
) -> tuple[str, Literal["document", "new"], float, list[str]]:
    """The match decision: (citizen id, method, score, evidence)."""
    evidence: list[str] = []
    if document is not None and not document.valid:
        evidence.append(f"{document.type} invalid, not used to match: {document.finding}")
    if existing is not None:
        evidence.append(f"{source}#{record.local_id} is already linked to {existing.citizen_id}: the link is updated")
        if document is not None and document.valid and document_owner not in (None, existing.citizen_id):
            evidence.append(f"{document.type} is linked to {document_owner}: left for review, the link stays")
        return existing.citizen_id, existing.method, existing.score, evidence + list(existing.evidence)
    if document is not None and document.valid and document_owner is not None:
        evidence.append(f"{document.type} valid (check letter verified) and already linked to {document_owner}")
        return document_owner, "document", 1.0, evidence
    if document is None:
        evidence.append("no document: no deterministic evidence, a new golden record")
    elif document.valid:
        evidence.append(f"{document.type} valid and not linked to any golden record yet: a new golden record")
    else:
        evidence.append("no valid document: a new golden record")
    return new_id(), "new", 0.0, evidence


def _value(link: Link, name: str) -> Any:
    record = link.record
    if name == "address":
        return record.address.model_dump() if record.address else None
    if name == "birth_date":
        return record.birth_date.isoformat() if record.birth_date else None
    if name == "email":
        return normalise_email(record.email)
    if name == "phone":
        return normalise_phone(record.phone)
    value = getattr(record, name)
    return value or None


def survive(citizen_id: str, links: list[Link], before: Golden | None, now: datetime) -> Golden:
    """Survivorship, first rule set: Padrón first for name, birth date and address (then the most recent
    record that has the attribute); the most recent record for e-mail and phone. Ties: the source key."""
    newest_first = sorted(links, key=lambda lk: (lk.received_at, lk.key), reverse=True)
    padron_first = [lk for lk in newest_first if lk.source == PADRON] + [
        lk for lk in newest_first if lk.source != PADRON
    ]
    attributes: dict[str, Any] = {}
    provenance: dict[str, str] = {}
    for names, order in ((NAME_FIELDS, padron_first), (CONTACT_FIELDS, newest_first)):
        for name in names:
            for link in order:
                value = _value(link, name)
                if value is not None:
                    attributes[name] = value
                    provenance[name] = link.key
                    break
    documents = sorted(
        {(lk.document.type, lk.document.number) for lk in links if lk.document is not None and lk.document.valid}
    )
    return Golden(
        citizen_id=citizen_id,
        attributes=attributes,
        provenance=provenance,
        documents=tuple(documents),
        created_at=before.created_at if before and before.created_at else now,
        updated_at=now,
        version=before.version if before else None,
    )


def golden_view(golden: Golden, links: list[Link]) -> dict[str, Any]:
    """The golden record as the API answers it: attributes, their provenance and the source links."""
    return {
        "citizen_id": golden.citizen_id,
        "attributes": golden.attributes,
        "provenance": golden.provenance,
        "documents": [{"type": t, "number": n} for t, n in golden.documents],
        "created_at": golden.created_at.isoformat() if golden.created_at else None,
        "updated_at": golden.updated_at.isoformat() if golden.updated_at else None,
        "links": [
            {
                "source": lk.source,
                "local_id": lk.local_id,
                "match": {"method": lk.method, "score": lk.score, "evidence": list(lk.evidence)},
                "findings": lk.findings,
                "received_at": lk.received_at.isoformat(),
            }
            for lk in sorted(links, key=lambda lk: lk.key)
        ],
    }
