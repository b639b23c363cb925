"""One CloudEvent posted to the broker as an authenticated sender (ADR 0011), from outside a domain's outbox: the
legacy adapters (``functions/intake``), the change data capture (``functions/cdc``) and the bulk loader
(``local.load_records``) each post as an area system (``legacy-<system>``, source ``/legacy/<system>``).

Binary mode (the CloudEvents HTTP binding's ``ce-*`` headers), the sender's OIDC token for the broker's audience
in ``Authorization``. What the broker's answer means is decided here once, so every poster reads it the same way:
``accepted`` (2xx); ``later`` (no answer, 5xx, or 401/404/408/409/425/429: the token, the broker's state or its
load, not the event — the same event again later); ``not-admitted`` (403: no EventPolicy admits this sender for
this type, a catalog matter); ``refused`` (any other 4xx: this event will never be admitted — a dead letter).
"""

from __future__ import annotations

import json
from typing import Any, Literal

import requests

RETRY_LATER = frozenset({401, 404, 408, 409, 425, 429})
TIMEOUT_SECONDS = 15
Verdict = Literal["accepted", "later", "not-admitted", "refused"]


def headers(source: str, event_id: str, type_: str, subject: str, token: str) -> dict[str, str]:
    return {
        "Authorization": f"Bearer {token}",
        "ce-specversion": "1.0",
        "ce-id": event_id,
        "ce-source": source,
        "ce-type": type_,
        "ce-subject": subject,
        "content-type": "application/json",
    }


def post_event(
    session: requests.Session,
    sink: str,
    source: str,
    event_id: str,
    type_: str,
    subject: str,
    data: dict[str, Any],
    token: str,
    timeout: float = TIMEOUT_SECONDS,
) -> requests.Response:
    """One binary-mode POST to the broker ingress ``sink`` (``.../events``)."""
    body = json.dumps(data, ensure_ascii=False, default=str).encode()
    return session.post(sink, data=body, headers=headers(source, event_id, type_, subject, token), timeout=timeout)


def verdict(status: int) -> Verdict:
    """What a poster does with the broker's status code (the module's docstring says why)."""
    if 200 <= status < 300:
        return "accepted"
    if status >= 500 or status in RETRY_LATER:
        return "later"
    return "not-admitted" if status == 403 else "refused"
