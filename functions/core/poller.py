"""What a process polls for a new revision of shared configuration, once: the signed policy bundle
(``functions.core.policy``) and the micro-apps' flag snapshot (``functions.core.flags``).

``ConditionalGet`` asks an HTTP URL with ``If-None-Match`` (a 304 costs no download); ``Watcher`` runs a
refresh every so many seconds in a daemon thread that no exception stops (a poller that died silently
would freeze the configuration it serves).
"""

from __future__ import annotations

import threading
import urllib.error
import urllib.request
from collections.abc import Callable


class ConditionalGet:
    """An HTTP(S) resource fetched again only when its ETag moved."""

    def __init__(self, url: str, max_bytes: int, timeout: float = 10.0, what: str = "resource") -> None:
        self.url = url
        self._max_bytes = max_bytes
        self._timeout = timeout
        self._what = what
        self.etag: str | None = None

    def fetch(self) -> bytes | None:
        """The body if it changed since the last call (``None`` on a 304); ``OSError`` if unreachable, on
        another status or when larger than ``max_bytes``."""
        headers = {"If-None-Match": self.etag} if self.etag else {}
        request = urllib.request.Request(self.url, headers=headers)  # noqa: S310 (callers pass http(s) only)
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as response:  # noqa: S310 (as above)
                body: bytes = response.read(self._max_bytes + 1)
                etag = response.headers.get("ETag")
        except urllib.error.HTTPError as exc:
            if exc.code == 304:
                return None
            raise OSError(f"{self._what} server answered {exc.code} for {self.url}") from exc
        if len(body) > self._max_bytes:
            raise OSError(f"{self._what} at {self.url} is larger than {self._max_bytes} bytes")
        self.etag = etag
        return body


class Watcher:
    """Calls ``refresh`` every ``seconds`` in a daemon thread (started per process, after any fork)."""

    def __init__(self, name: str, seconds: float, refresh: Callable[[], object], failed: Callable[[Exception], None]):
        self.name = name
        self.seconds = seconds
        self._refresh = refresh
        self._failed = failed
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start polling; a no-op when already started or when ``seconds`` is 0 (load once, never poll)."""
        if self._thread is None and self.seconds > 0:
            self._thread = threading.Thread(target=self._watch, name=self.name, daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _watch(self) -> None:
        while not self._stop.wait(self.seconds):
            try:
                self._refresh()
            except Exception as exc:  # anything: the thread must outlive a bad poll
                self._failed(exc)
