"""Signed webhooks, the one way PIC calls a system back: NOT's status callbacks, PAY's payments to the area
systems.

The body is JSON; ``X-PIC-Signature: t=<unix time>,v1=<hex HMAC-SHA256(secret, "t.body")>`` signs it with the
time, so a receiver checks both the sender and that it is recent (``verify``: a replayed old request fails);
``X-PIC-Event-Id`` is the cause's CloudEvent id, the receiver's key to take a redelivery once. Delivery is at
least once: a failed POST raises ``ConflictError``, the event function answers 409 and the broker retries
with backoff, then dead-letters it with the reason.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import requests

from functions.core.errors import ConflictError

TIMEOUT = 10.0
TOLERANCE_SECONDS = 300


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """``X-PIC-Signature``: ``t=<unix time>,v1=<HMAC-SHA256(secret, "t.body")>``."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify(secret: str, header: str, body: bytes, now: int, tolerance: int = TOLERANCE_SECONDS) -> bool:
    """What a receiver does: the signature matches and is recent."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    expected = sign(secret, timestamp, body).split("v1=", 1)[1]
    return abs(now - timestamp) <= tolerance and hmac.compare_digest(expected, parts.get("v1", ""))


def deliver(url: str, payload: dict[str, Any], *, secret: str, event_id: str, now: int) -> None:
    """POST the signed payload; anything but a 2xx is ``ConflictError`` (the broker retries). No redirects: a
    redirect could take the POST to a host nobody allowed."""
    body = json.dumps(payload, separators=(",", ":"), default=str).encode()
    headers = {
        "Content-Type": "application/json",
        "X-PIC-Signature": sign(secret, now, body),
        "X-PIC-Event-Id": event_id,
    }
    try:
        answer = requests.post(url, data=body, headers=headers, timeout=TIMEOUT, allow_redirects=False)
    except requests.RequestException as exc:
        raise ConflictError(f"the webhook could not be delivered: {type(exc).__name__}") from exc
    if answer.status_code >= 300:
        raise ConflictError(f"the webhook was answered {answer.status_code}")
