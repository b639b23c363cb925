"""Post a CloudEvent to the broker AS a legacy system: the one helper every adapter uses (issue 19's design).

Binary mode (CloudEvents HTTP binding, ``ce-*`` headers), the system's OIDC token for the broker's audience in
``Authorization``, the system's own source (``/legacy/<system>``); the broker's EventPolicies admit it as they
admit the system itself (ADR 0011). Where the token comes from:

- in the cluster, the adapter runs as the system's ServiceAccount (``legacy-padron``...): its projected token file
  (``PIC_SENDER_TOKEN_FILE``) — one Deployment per system (``infra/k8s/base/intake-*.yaml``);
- in ``make run``, the inbox part writes each system's token file under ``<data dir>/sender-tokens/`` from the
  dev IdP, as the relays' are written (``local/parts.py``); tools outside the platform (``local.load_records``)
  fetch them from the dev IdP's ``POST /dev/sender-token`` (``local.senders.SenderTokens``).

The headers and what the broker's answer means are the kernel's (``functions.core.sender_post``, shared with the
change data capture): accepted (None), refused or not admitted (the broker's 4xx text: this record's dead letter),
or ``IntakeBrokerUnavailableError`` (unreachable, 5xx, 401/404/408/409/425/429: the run stops, resumed later).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import requests
from requests.adapters import HTTPAdapter

from functions.core import sender_post
from functions.intake.service import IntakeBrokerUnavailableError, Outgoing


class TokenDirectory:
    """Sender tokens kept as files named ``<account>.token`` in one directory, re-read when they change (kubelet
    rotates a projected token; ``make run`` re-mints them); or one file for the one account a pod runs as."""

    def __init__(self, directory: Path | None = None, single: Path | None = None) -> None:
        self._directory, self._single = directory, single
        self._cache: dict[Path, tuple[int, str]] = {}
        self._lock = threading.Lock()

    def __call__(self, account: str) -> str:
        path = self._single or (self._directory or Path(".")) / f"{account}.token"
        try:
            mtime = path.stat().st_mtime_ns
            with self._lock:
                seen = self._cache.get(path)
                if seen is None or seen[0] != mtime:
                    seen = (mtime, path.read_text(encoding="utf-8").strip())
                    self._cache[path] = seen
            return seen[1]
        except OSError as exc:
            raise IntakeBrokerUnavailableError(f"no sender token for {account} at {path}: {exc.strerror}") from None


class BrokerPublisher:
    """The ``Publisher`` port over HTTP: one keep-alive session to the broker ingress."""

    def __init__(self, sink: str, token_of: Callable[[str], str]) -> None:
        self.sink = sink
        self._token_of = token_of
        self._session = requests.Session()
        self._session.mount("http://", HTTPAdapter(pool_maxsize=8))
        self._session.mount("https://", HTTPAdapter(pool_maxsize=8))

    def publish(self, sender: str, source: str, event_id: str, item: Outgoing) -> str | None:
        try:
            answer = sender_post.post_event(
                self._session, self.sink, source, event_id, item.type, item.key, item.data, self._token_of(sender)
            )
        except requests.RequestException as exc:
            raise IntakeBrokerUnavailableError(f"the broker at {self.sink} is unreachable: {exc}") from None
        match sender_post.verdict(answer.status_code):
            case "accepted":
                return None
            case "later":
                raise IntakeBrokerUnavailableError(f"the broker answered {answer.status_code}: {answer.text[:200]}")
            case _:  # refused, or this system not admitted for the type: this record's dead letter, with the reason
                return f"{answer.status_code} {answer.text[:300]}"
