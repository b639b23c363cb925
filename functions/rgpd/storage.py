"""Data-subject rights storage: one DynamoDB table ``rgpd``, keys ``pk`` + ``sk``.

Item kinds:
- ``pk=req#<request_id>``, ``sk=request``: the request (right, details, deadline, extension, status;
  versioned), with ``citizen_id``/``opened_at`` for the ``by-citizen`` index (a citizen's requests);
- ``pk=req#<request_id>``, ``sk=answer#<domain>``: a domain's answer, the proof of what it did;
- ``pk=req#<request_id>``, ``sk=export#<domain>#<nnnn>``: a domain's export in pieces under the 400 KB
  item limit, with its SHA-256 on the answer;
- ``pk=flags#<citizen_id>``, ``sk=flags``: the citizen's restriction/objection flags (versioned).
No TTL: requests and their answers are the controller's evidence of having answered (RGPD art. 5.2).
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime
from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    ListAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
    VersionAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from functions.core.store import StoreModel, UnitOfWork, defines_table, model_meta
from functions.rgpd.export import chunks
from functions.rgpd.service import DomainAnswer, Extension, Flags, Requester, RgpdRequest

REQUEST = "request"
ANSWER_PREFIX = "answer#"
EXPORT_PREFIX = "export#"
FLAGS = "flags"


def request_key(request_id: str) -> str:
    return f"req#{request_id}"


def flags_key(citizen_id: str) -> str:
    return f"flags#{citizen_id}"


class ByCitizen(GlobalSecondaryIndex["RequestItem"]):  # type: ignore[no-untyped-call]
    """A citizen's requests, oldest first; only request items carry ``citizen_id``."""

    class Meta:
        index_name = "by-citizen"
        projection = AllProjection()

    citizen_id = UnicodeAttribute(hash_key=True)
    opened_at = UnicodeAttribute(range_key=True)


class RgpdItem(StoreModel):
    Meta = model_meta("rgpd")

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)


@defines_table
class RequestItem(RgpdItem):
    """Defines the table (keys and the by-citizen index) for every rgpd item kind."""

    citizen_id = UnicodeAttribute()
    opened_at = UnicodeAttribute()  # ISO 8601 UTC: sorts as time
    right = UnicodeAttribute()
    details = UnicodeAttribute()  # JSON
    due_at = UTCDateTimeAttribute()
    domains = ListAttribute(of=UnicodeAttribute, default=list)
    requested_by = UnicodeAttribute()  # JSON of service.Requester
    extension = UnicodeAttribute(null=True)  # JSON of service.Extension
    status = UnicodeAttribute()
    completed_at = UTCDateTimeAttribute(null=True)
    version = VersionAttribute()
    by_citizen = ByCitizen()


class AnswerItem(RgpdItem):
    domain = UnicodeAttribute()
    outcome = UnicodeAttribute()
    actions = UnicodeAttribute()  # JSON list of events.rgpd.DomainAction
    answered_at = UTCDateTimeAttribute()
    received_at = UTCDateTimeAttribute()
    event_source = UnicodeAttribute()
    event_id = UnicodeAttribute()
    reason = UnicodeAttribute(null=True)
    export_chunks = NumberAttribute(default=0)
    export_sha256 = UnicodeAttribute(null=True)


class ExportChunkItem(RgpdItem):
    body = UnicodeAttribute()


class FlagsItem(RgpdItem):
    restricted = BooleanAttribute()
    objections = ListAttribute(of=UnicodeAttribute, default=list)
    changed_at = UTCDateTimeAttribute()
    version = VersionAttribute()


class DynamoRgpdStore:
    """The rgpd repository: ``fetch_`` reads, ``stage_`` adds writes to a unit of work."""

    def fetch_request(self, request_id: str) -> RgpdRequest | None:
        try:
            item = RequestItem.get(request_key(request_id), REQUEST, consistent_read=True)
        except RequestItem.DoesNotExist:
            return None
        return _request_of(item, request_id)

    def fetch_requests_of(self, citizen_id: str, limit: int = 100) -> list[RgpdRequest]:
        """A citizen's requests, newest first (the index is eventually consistent)."""
        items = RequestItem.by_citizen.query(citizen_id, scan_index_forward=False, limit=limit)
        return [_request_of(item, item.pk.removeprefix("req#")) for item in items]

    def fetch_answers(self, request_id: str) -> list[DomainAnswer]:
        items = AnswerItem.query(request_key(request_id), AnswerItem.sk.startswith(ANSWER_PREFIX), consistent_read=True)
        return [_answer_of(item) for item in items]

    def fetch_export(self, request_id: str, domain: str) -> list[str]:
        """The pieces of a domain's export, in order."""
        items = ExportChunkItem.query(
            request_key(request_id), ExportChunkItem.sk.startswith(f"{EXPORT_PREFIX}{domain}#"), consistent_read=True
        )
        return [item.body for item in items]

    def fetch_flags(self, citizen_id: str) -> Flags:
        try:
            item = FlagsItem.get(flags_key(citizen_id), FLAGS, consistent_read=True)
        except FlagsItem.DoesNotExist:
            return Flags(citizen_id=citizen_id)
        return Flags(
            citizen_id=citizen_id,
            restricted=bool(item.restricted),
            objections=tuple(str(o) for o in item.objections or ()),
            changed_at=item.changed_at,
            version=item.version,
        )

    def stage_request(self, uow: UnitOfWork, request: RgpdRequest) -> None:
        """The request (new: it must not exist; changed: at the version read)."""
        item = RequestItem(
            request_key(request.request_id),
            REQUEST,
            citizen_id=request.citizen_id,
            opened_at=request.opened_at.isoformat(),
            right=request.right,
            details=json.dumps(request.details, sort_keys=True),
            due_at=request.due_at,
            domains=list(request.domains),
            requested_by=json.dumps(asdict(request.requested_by)),
            extension=json.dumps(asdict(request.extension), default=str) if request.extension else None,
            status=request.status,
            completed_at=request.completed_at,
        )
        if request.version is not None:
            item.version = request.version
        uow.put(item, tag="rgpd-request")

    def stage_answer(self, uow: UnitOfWork, request_id: str, answer: DomainAnswer, export_text: str | None) -> None:
        """The answer (replacing only a failed one) and its export in pieces."""
        pieces = chunks(export_text) if export_text is not None else []
        item = AnswerItem(
            request_key(request_id),
            f"{ANSWER_PREFIX}{answer.domain}",
            domain=answer.domain,
            outcome=answer.outcome,
            actions=json.dumps(answer.actions),
            answered_at=answer.answered_at,
            received_at=answer.received_at,
            event_source=answer.event_source,
            event_id=answer.event_id,
            reason=answer.reason,
            export_chunks=len(pieces),
            export_sha256=answer.export_sha256,
        )
        condition = AnswerItem.sk.does_not_exist() | (AnswerItem.outcome == "failed")
        uow.put(item, condition=condition, tag="rgpd-answer")
        for i, piece in enumerate(pieces):
            chunk = ExportChunkItem(request_key(request_id), f"{EXPORT_PREFIX}{answer.domain}#{i:04d}", body=piece)
            uow.put(chunk, tag="rgpd-export")

    def stage_flags(self, uow: UnitOfWork, flags: Flags) -> None:
        assert flags.changed_at is not None
        item = FlagsItem(
            flags_key(flags.citizen_id),
            FLAGS,
            restricted=flags.restricted,
            objections=list(flags.objections),
            changed_at=flags.changed_at,
        )
        if flags.version is not None:
            item.version = flags.version
        uow.put(item, tag="rgpd-flags")


def _request_of(item: RequestItem, request_id: str) -> RgpdRequest:
    extension = None
    if item.extension:
        raw: dict[str, Any] = json.loads(item.extension)
        extension = Extension(
            reason=raw["reason"],
            by=raw["by"],
            at=datetime.fromisoformat(raw["at"]),
            due_at_before=datetime.fromisoformat(raw["due_at_before"]),
            due_at=datetime.fromisoformat(raw["due_at"]),
        )
    return RgpdRequest(
        request_id=request_id,
        citizen_id=item.citizen_id,
        right=item.right,
        details=json.loads(item.details),
        opened_at=datetime.fromisoformat(item.opened_at),
        due_at=item.due_at,
        domains=tuple(str(d) for d in item.domains or ()),
        requested_by=Requester(**json.loads(item.requested_by)),
        extension=extension,
        status=item.status,  # type: ignore[arg-type]  # written from service.Status only
        completed_at=item.completed_at,
        version=item.version,
    )


def _answer_of(item: AnswerItem) -> DomainAnswer:
    return DomainAnswer(
        domain=item.domain,
        outcome=item.outcome,
        actions=json.loads(item.actions),
        answered_at=item.answered_at,
        received_at=item.received_at,
        event_source=item.event_source,
        event_id=item.event_id,
        reason=item.reason,
        export_chunks=int(item.export_chunks or 0),
        export_sha256=item.export_sha256,
    )
