"""Posting the capture's events to the broker as the area system (``legacy-licencias``, source ``/legacy/licencias``).

Binary-mode CloudEvents to ``K_SINK`` with the system's sender token (ADR 0011): in the cluster, the
ServiceAccount's projected token in ``PIC_SENDER_TOKEN_FILE``, re-read when kubelet rotates it; in ``make run``,
the same kind of file written from the dev IdP. The broker's answer decides what the capture does: 2xx accepted;
401, 408, 429, 5xx or no answer: the same event again later (``TransientPublishError``); 403: this sender is not
admitted for the type, a catalog matter (``NotAdmittedError``, stop); any other 4xx: this event will never be
admitted (``RefusedError``, logged and skipped).

The headers and what the broker's answer means are the kernel's (``functions.core.sender_post``), shared with the
file adapters (``functions/intake``) and the bulk loader.
"""

from __future__ import annotations

from collections.abc import Callable

import requests

from functions.cdc.capture import NotAdmittedError, RefusedError, TransientPublishError
from functions.cdc.licencias import SOURCE, Outgoing
from functions.core import sender_post


class BrokerPublisher:
    def __init__(self, sink: str, token: Callable[[], str], source: str = SOURCE, timeout: float = 15.0) -> None:
        self.sink, self.token, self.source, self.timeout = sink, token, source, timeout
        self.session = requests.Session()

    def publish(self, event: Outgoing) -> None:
        try:
            token = self.token()
        except Exception as exc:  # the token file is missing or empty (kubelet writing it): later
            raise TransientPublishError(f"no sender token: {exc}") from exc
        try:
            answer = sender_post.post_event(
                self.session, self.sink, self.source, event.id, event.type, event.subject, event.data, token,
                timeout=self.timeout,
            )  # fmt: skip
        except requests.RequestException as exc:
            raise TransientPublishError(str(exc)) from exc
        detail = f"{answer.status_code} {answer.text[:300]}"
        match sender_post.verdict(answer.status_code):
            case "accepted":
                return
            case "later":
                raise TransientPublishError(detail)
            case "not-admitted":
                raise NotAdmittedError(f"the broker does not admit {self.source} for {event.type}: {detail}")
            case "refused":
                raise RefusedError(detail)
