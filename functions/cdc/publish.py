"""Posting the capture's events to the broker as the area system (``legacy-licencias``, source ``/legacy/licencias``).

Binary-mode CloudEvents to ``K_SINK`` with the system's sender token (ADR 0011): in the cluster, the
ServiceAccount's projected token in ``PIC_SENDER_TOKEN_FILE``, re-read when kubelet rotates it; in ``make run``,
the same kind of file written from the dev IdP. The broker's answer decides what the capture does: 2xx accepted;
401, 408, 429, 5xx or no answer: the same event again later (``TransientPublishError``); 403: this sender is not
admitted for the type, a catalog matter (``NotAdmittedError``, stop); any other 4xx: this event will never be
admitted (``RefusedError``, logged and skipped).

A tiny poster of its own: the file adapters' one (``functions/intake``, issue 19) is meant to become the one way
to publish as a legacy system when both are merged.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import requests

from functions.cdc.capture import NotAdmittedError, RefusedError, TransientPublishError
from functions.cdc.licencias import SOURCE, Outgoing

RETRY_LATER = {401, 408, 425, 429}


class BrokerPublisher:
    def __init__(self, sink: str, token: Callable[[], str], source: str = SOURCE, timeout: float = 15.0) -> None:
        self.sink, self.token, self.source, self.timeout = sink, token, source, timeout
        self.session = requests.Session()

    def publish(self, event: Outgoing) -> None:
        try:
            headers = {
                "Authorization": f"Bearer {self.token()}",
                "ce-specversion": "1.0",
                "ce-id": event.id,
                "ce-source": self.source,
                "ce-type": event.type,
                "ce-subject": event.subject,
                "content-type": "application/json",
            }
        except Exception as exc:  # the token file is missing or empty (kubelet writing it): later
            raise TransientPublishError(f"no sender token: {exc}") from exc
        body = json.dumps(event.data, ensure_ascii=False, default=str).encode()
        try:
            answer = self.session.post(self.sink, data=body, headers=headers, timeout=self.timeout)
        except requests.RequestException as exc:
            raise TransientPublishError(str(exc)) from exc
        if answer.status_code < 300:
            return
        detail = f"{answer.status_code} {answer.text[:300]}"
        if answer.status_code in RETRY_LATER or answer.status_code >= 500:
            raise TransientPublishError(detail)
        if answer.status_code == 403:
            raise NotAdmittedError(f"the broker does not admit {self.source} for {event.type}: {detail}")
        raise RefusedError(detail)
