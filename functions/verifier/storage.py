"""The verifier's storage: one DynamoDB table ``verifier``, keyed by ``id``, with two item kinds, both removed by the
table's TTL (``expires_at``) a day after the request: a verdict is needed at the counter, not kept (RGPD art. 5.1.e).

- ``req#<request_id>``: a request and, once answered, its verdict (JSON ``body``), written new (absent) and answered
  under its ``revision`` (single use: of two answers, one commits).
- ``read#<request_id>#<at>#<reader>``: a read of a verdict that disclosed claims — who, for what purpose, when.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from pynamodb.attributes import NumberAttribute, TTLAttribute, UnicodeAttribute

from functions.core.store import StoreModel, UnitOfWork, defines_table, model_meta, to_iso
from functions.verifier.service import RESULT_TTL, Check, VerificationRequest


@defines_table
class VerifierItem(StoreModel):
    Meta = model_meta("verifier")

    id = UnicodeAttribute(hash_key=True)
    body = UnicodeAttribute(null=True)  # JSON: the request and its verdict, or a read
    revision = NumberAttribute(null=True)
    expires_at = TTLAttribute(null=True)


def _key(request_id: str) -> str:
    return f"req#{request_id}"


def request_json(request: VerificationRequest) -> str:
    return json.dumps({
        "card_type": request.card_type, "vct": request.vct, "claims": [list(p) for p in request.claims],
        "nonce": request.nonce, "asked_by": request.asked_by, "purpose": request.purpose,
        "created_at": request.created_at.isoformat(), "expires_at": request.expires_at.isoformat(),
        "state": request.state, "reason": request.reason, "detail": request.detail, "disclosed": request.disclosed,
        "checks": [c.as_json() for c in request.checks], "answered_at": to_iso(request.answered_at),
    }, ensure_ascii=False)  # fmt: skip


def request_of(request_id: str, body: dict[str, Any], revision: int) -> VerificationRequest:
    answered = body.get("answered_at")
    return VerificationRequest(
        id=request_id, card_type=body["card_type"], vct=body["vct"], claims=[tuple(p) for p in body["claims"]],
        nonce=body["nonce"], asked_by=body["asked_by"], purpose=body.get("purpose"),
        created_at=datetime.fromisoformat(body["created_at"]), expires_at=datetime.fromisoformat(body["expires_at"]),
        state=body["state"], reason=body.get("reason"), detail=body.get("detail"), disclosed=body.get("disclosed", {}),
        checks=[Check(c["name"], c["passed"]) for c in body.get("checks", [])],
        answered_at=datetime.fromisoformat(answered) if answered else None, revision=revision,
    )  # fmt: skip


class DynamoVerifierStore:
    """The verifier's port (``service.VerifierStore``) on DynamoDB."""

    def fetch_request(self, request_id: str) -> VerificationRequest | None:
        try:
            item = VerifierItem.get(_key(request_id), consistent_read=True)
        except VerifierItem.DoesNotExist:
            return None
        return request_of(request_id, json.loads(item.body or "{}"), int(item.revision or 1))

    def stage_request(self, uow: UnitOfWork, request: VerificationRequest) -> None:
        item = VerifierItem(_key(request.id), body=request_json(request), revision=request.revision,
                            expires_at=request.created_at + RESULT_TTL)  # fmt: skip
        read = request.revision - 1
        condition = VerifierItem.id.does_not_exist() if read < 1 else VerifierItem.revision == read
        uow.put(item, condition=condition, tag="verifier-request")

    def stage_read(self, uow: UnitOfWork, request: VerificationRequest, reader: str, purpose: str | None,
                   at: datetime) -> None:  # fmt: skip
        body = json.dumps({"request_id": request.id, "reader": reader, "purpose": purpose, "at": at.isoformat()})
        item = VerifierItem(f"read#{request.id}#{at.isoformat()}#{reader}", body=body,
                            expires_at=request.created_at + RESULT_TTL)  # fmt: skip
        uow.put(item, tag="verifier-read")
