"""Idempotency for both kinds of entry point, recorded in the same transaction as the work itself.

- Event functions dedupe on the CloudEvent ``source`` + ``id`` (Knative delivers at least once).
- HTTP writes honour ``Idempotency-Key`` with Stripe's semantics: the same key and body replay the
  first response; the same key with another body is a 422 problem.

Why not Powertools' Idempotency utility: its INPROGRESS/COMPLETED record is written outside the
function's own ``TransactWriteItems``, so a crash between the two could apply a change twice or record
it as done when it was not. Here the record, the state and the outbox row commit together
(docs/decisions/0003-idempotency-in-the-transaction.md).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute

from functions.core.errors import IdempotencyKeyReusedError, ValidationError
from functions.core.settings import get_settings
from functions.core.store import StoreModel, UnitOfWork, defines_table, model_meta

MAX_KEY_LENGTH = 255


@defines_table
class IdempotencyRecord(StoreModel):
    """Work already done under a key, with the response to replay. Expires after the TTL."""

    Meta = model_meta("idempotency")

    key = UnicodeAttribute(hash_key=True)
    body_sha256 = UnicodeAttribute()
    status = NumberAttribute(default=200)
    response = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()
    expires_at = NumberAttribute()


@dataclass(frozen=True)
class Replay:
    status: int
    body: Any


def body_hash(body: bytes | str | dict[str, Any] | None) -> str:
    if isinstance(body, dict):
        body = json.dumps(body, sort_keys=True, separators=(",", ":"))
    if isinstance(body, str):
        body = body.encode()
    return hashlib.sha256(body or b"").hexdigest()


def event_key(function: str, source: str, event_id: str) -> str:
    return f"event#{function}#{source}#{event_id}"


def http_key(function: str, principal: str, key: str, method: str, path: str) -> str:
    """Keys are scoped to the caller and the resource: two callers never share a key space."""
    if not key or len(key) > MAX_KEY_LENGTH:
        raise ValidationError(f"Idempotency-Key must be 1-{MAX_KEY_LENGTH} characters")
    return f"http#{function}#{principal}#{method} {path}#{key}"


def already_done(key: str) -> bool:
    """A cheap read before the work; the transaction's condition is what guarantees it."""
    try:
        IdempotencyRecord.get(key, consistent_read=True)
    except IdempotencyRecord.DoesNotExist:
        return False
    return True


def find_replay(key: str, request_hash: str) -> Replay | None:
    """The first response under ``key``, or ``None``; a different body under the same key is refused."""
    try:
        record = IdempotencyRecord.get(key, consistent_read=True)
    except IdempotencyRecord.DoesNotExist:
        return None
    if record.body_sha256 != request_hash:
        raise IdempotencyKeyReusedError(
            "this Idempotency-Key was already used with a different request body; use a new key"
        )
    return Replay(status=int(record.status), body=json.loads(record.response) if record.response else None)


def remember(uow: UnitOfWork, key: str, request_hash: str, status: int = 200, response: Any = None) -> None:
    """Stage the record in ``uow``; the commit fails with ``DuplicateError`` if the key was taken."""
    now = datetime.now(UTC)
    record = IdempotencyRecord(
        key=key,
        body_sha256=request_hash,
        status=status,
        response=None if response is None else json.dumps(response, default=str),
        created_at=now.isoformat(),
        expires_at=int((now + timedelta(hours=get_settings().idempotency_ttl_hours)).timestamp()),
    )
    uow.put(record, condition=IdempotencyRecord.key.does_not_exist(), tag="idempotency")
