"""The one loop of the platform's pollers (a Deployment with no port: the notification release, the SLA sweep of
cases, the routing sweep): a pass every so many seconds until told to stop, a heartbeat file touched after each
good pass for the probes, and a failed pass logged and tried again at the next tick (a DynamoDB hiccup must not stop
releases, SLA clocks or offers expiring)."""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path


def run_forever(
    stop: threading.Event, one_pass: Callable[[], object], *, every: float, heartbeat_env: str, what: str
) -> None:
    """``one_pass()`` every ``every`` seconds until ``stop``; the file named by ``heartbeat_env`` (if set) touched
    after each pass that did not raise."""
    heartbeat = os.environ.get(heartbeat_env)
    while not stop.is_set():
        try:
            one_pass()
            if heartbeat:
                Path(heartbeat).touch()
        except Exception as exc:  # keep polling: the next tick tries again
            print(f"{what} pass failed: {exc}", file=sys.stderr)
        stop.wait(every)


def until_interrupted(loop: Callable[[threading.Event], None]) -> int:
    """Run ``loop(stop)`` in the foreground until Ctrl-C (a process's ``main``)."""
    stop = threading.Event()
    try:
        loop(stop)
    except KeyboardInterrupt:
        stop.set()
    return 0
