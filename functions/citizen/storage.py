"""Citizen 360 storage: one DynamoDB table ``citizen``, keys ``pk`` + ``sk``.

Item kinds:
- ``pk=<citizen_id>``, ``sk=golden``: the golden record (survived attributes, provenance; versioned);
- ``pk=<citizen_id>``, ``sk=link#<source>#<local_id>``: one source record linked to it, as received;
- ``pk=src#<source>#<local_id>``, ``sk=link``: which golden record a source record belongs to (versioned:
  a new one is written only if absent, so a record is never linked twice);
- ``pk=doc#<keyed hash of type and number>``, ``sk=doc`` (a blind index, ``functions.core.blind_index``):
  which golden record holds a valid document, written only if absent: two records with the same document
  arriving together cannot create two golden records (the loser's transaction is cancelled, it answers 409
  and its redelivery links to the winner).
"""

from __future__ import annotations

import json
from datetime import datetime

from pynamodb.attributes import (
    BooleanAttribute,
    ListAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
    VersionAttribute,
)
from pynamodb.models import Model

from events.citizen import CitizenRecordUpserted
from functions.citizen.identity import Document
from functions.citizen.service import Golden, Link
from functions.core.blind_index import blind_index
from functions.core.store import UnitOfWork, defines_table, model_meta

GOLDEN = "golden"
LINK_PREFIX = "link#"


def source_key(source: str, local_id: str) -> str:
    return f"src#{source}#{local_id}"


def document_key(document: Document) -> str:
    """A blind index: the document's keyed hash, so no key or index holds the number itself."""
    return f"doc#{blind_index(document.type, document.number)}"


@defines_table
class CitizenItem(Model):
    """Defines the table (keys only) for every C360 item kind."""

    Meta = model_meta("citizen")

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)


class GoldenItem(CitizenItem):
    attributes = UnicodeAttribute()  # JSON: attribute -> value
    provenance = UnicodeAttribute()  # JSON: attribute -> "<source>#<local_id>"
    documents = UnicodeAttribute()  # JSON: [[type, number], ...] (valid ones only)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    version = VersionAttribute()


class LinkItem(CitizenItem):
    source = UnicodeAttribute()
    local_id = UnicodeAttribute()
    record = UnicodeAttribute()  # JSON of events.citizen.CitizenRecordUpserted
    document_type = UnicodeAttribute(null=True)
    document_number = UnicodeAttribute(null=True)
    document_valid = BooleanAttribute(null=True)
    document_finding = UnicodeAttribute(null=True)
    method = UnicodeAttribute()
    score = NumberAttribute()
    evidence = ListAttribute(of=UnicodeAttribute, default=list)
    received_at = UTCDateTimeAttribute()


class PointerItem(CitizenItem):
    citizen_id = UnicodeAttribute()
    version = VersionAttribute()


class DocumentItem(CitizenItem):
    citizen_id = UnicodeAttribute()
    claimed_at = UTCDateTimeAttribute()


class DynamoCitizenStore:
    """The C360 repository: ``fetch_`` reads, ``stage_`` adds writes to a unit of work."""

    def fetch_citizen_of(self, source: str, local_id: str) -> tuple[str, int] | None:
        """The golden record id a source record is linked to, and the pointer's version."""
        try:
            item = PointerItem.get(source_key(source, local_id), "link", consistent_read=True)
        except PointerItem.DoesNotExist:
            return None
        return item.citizen_id, int(item.version)

    def fetch_link(self, source: str, local_id: str) -> Link | None:
        pointer = self.fetch_citizen_of(source, local_id)
        if pointer is None:
            return None
        citizen_id, version = pointer
        try:
            item = LinkItem.get(citizen_id, f"{LINK_PREFIX}{source}#{local_id}", consistent_read=True)
        except LinkItem.DoesNotExist:  # pragma: no cover - written in the same transaction as the pointer
            return None
        return _link_of(item, citizen_id, version)

    def fetch_document_owner(self, document: Document | None) -> str | None:
        if document is None or not document.valid:
            return None
        try:
            return str(DocumentItem.get(document_key(document), "doc", consistent_read=True).citizen_id)
        except DocumentItem.DoesNotExist:
            return None

    def fetch_golden(self, citizen_id: str) -> Golden | None:
        try:
            item = GoldenItem.get(citizen_id, GOLDEN, consistent_read=True)
        except GoldenItem.DoesNotExist:
            return None
        return Golden(
            citizen_id=citizen_id,
            attributes=json.loads(item.attributes),
            provenance=json.loads(item.provenance),
            documents=tuple((t, n) for t, n in json.loads(item.documents)),
            created_at=item.created_at,
            updated_at=item.updated_at,
            version=item.version,
        )

    def fetch_links(self, citizen_id: str) -> list[Link]:
        items = LinkItem.query(citizen_id, LinkItem.sk.startswith(LINK_PREFIX), consistent_read=True)
        return [_link_of(item, citizen_id, None) for item in items]

    def stage_resolution(self, uow: UnitOfWork, link: Link, golden: Golden, claim: Document | None) -> None:
        """Golden record (versioned), link, pointer (versioned) and the document claim, all or nothing."""
        item = GoldenItem(
            golden.citizen_id,
            GOLDEN,
            attributes=json.dumps(golden.attributes, sort_keys=True),
            provenance=json.dumps(golden.provenance, sort_keys=True),
            documents=json.dumps([list(d) for d in golden.documents]),
            created_at=golden.created_at or link.received_at,
            updated_at=golden.updated_at or link.received_at,
        )
        if golden.version is not None:  # None: a new golden record, conditioned on "does not exist"
            item.version = golden.version
        uow.put(item, tag="citizen-golden")
        document = link.document
        uow.put(
            LinkItem(
                link.citizen_id,
                f"{LINK_PREFIX}{link.source}#{link.local_id}",
                source=link.source,
                local_id=link.local_id,
                record=link.record.model_dump_json(),
                document_type=document.type if document else None,
                document_number=document.number if document else None,
                document_valid=document.valid if document else None,
                document_finding=document.finding if document else None,
                method=link.method,
                score=link.score,
                evidence=list(link.evidence),
                received_at=link.received_at,
            ),
            tag="citizen-link",
        )
        pointer = PointerItem(source_key(link.source, link.local_id), "link", citizen_id=link.citizen_id)
        if link.version is not None:
            pointer.version = link.version
        uow.put(pointer, tag="citizen-source")
        if claim is not None:
            uow.put(
                DocumentItem(document_key(claim), "doc", citizen_id=link.citizen_id, claimed_at=link.received_at),
                condition=DocumentItem.pk.does_not_exist(),
                tag="citizen-document",
            )


def _link_of(item: LinkItem, citizen_id: str, version: int | None) -> Link:
    document = None
    if item.document_type:
        document = Document(
            item.document_type,  # type: ignore[arg-type]
            item.document_number or "",
            bool(item.document_valid),
            item.document_finding,
        )
    received_at: datetime = item.received_at
    return Link(
        source=item.source,
        local_id=item.local_id,
        citizen_id=citizen_id,
        record=CitizenRecordUpserted.model_validate_json(item.record),
        document=document,
        method="document" if item.method == "document" else "new",
        score=float(item.score),
        evidence=tuple(str(e) for e in item.evidence or ()),
        received_at=received_at,
        version=version,
    )
