"""Where a request's time goes, and how many store calls it made: the W3C ``Server-Timing`` header.

The HTTP kernel times its phases (authentication, authorisation, the handler, the access record) and counts
the DynamoDB calls the request made (a botocore ``before-call`` hook on every client the store builds). With
``PIC_SERVER_TIMING`` on (``make run`` sets it; off by default where deployed: timings help an attacker
probe), every answer carries ``Server-Timing: authn;dur=0.4, authz;dur=0.1, handler;dur=4.2,
access;dur=6.0, store;desc="2 calls";dur=9.8`` — what ``make bench`` reads to break a read's cost down, and
what a browser's developer tools show. The store calls per operation are the figure that transfers to
production (DynamoDB bills per call), unlike DynamoDB Local's latency.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

HEADER = "Server-Timing"


@dataclass
class RequestTiming:
    """The phases of one request (milliseconds, in order) and its store calls."""

    phases: dict[str, float] = field(default_factory=dict)
    store_calls: int = 0
    store_ms: float = 0.0
    store_ops: dict[str, int] = field(default_factory=dict)  # DynamoDB operation -> calls

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.phases[name] = self.phases.get(name, 0.0) + (time.perf_counter() - started) * 1000

    def header(self) -> str:
        parts = [f"{name};dur={ms:.2f}" for name, ms in self.phases.items()]
        ops = " ".join(f"{op}={n}" for op, n in sorted(self.store_ops.items()))
        parts.append(f'store;desc="{self.store_calls} calls: {ops}";dur={self.store_ms:.2f}')
        return ", ".join(parts)


_current: ContextVar[RequestTiming | None] = ContextVar("pic_request_timing", default=None)


def start() -> RequestTiming:
    """Begin timing the request this thread serves."""
    timing = RequestTiming()
    _current.set(timing)
    return timing


def current() -> RequestTiming | None:
    return _current.get()


def stop() -> None:
    _current.set(None)


@contextmanager
def phase(name: str) -> Iterator[None]:
    """Time ``name`` within the current request, if one is being timed."""
    timing = _current.get()
    if timing is None:
        yield
        return
    with timing.phase(name):
        yield


_instrumented: set[int] = set()


def count_store_calls(client: Any) -> None:
    """Count (and time) every call ``client`` makes towards the current request; once per client."""
    if id(client) in _instrumented:
        return
    _instrumented.add(id(client))
    events = client.meta.events
    events.register("before-call.dynamodb", _before_call)
    events.register("after-call.dynamodb", _after_call)


_call_started: ContextVar[float] = ContextVar("pic_store_call_started", default=0.0)


def _before_call(model: Any = None, **_: Any) -> None:
    timing = _current.get()
    if timing is not None:
        timing.store_calls += 1
        operation = getattr(model, "name", "call")
        timing.store_ops[operation] = timing.store_ops.get(operation, 0) + 1
        _call_started.set(time.perf_counter())


def _after_call(**_: Any) -> None:
    timing = _current.get()
    if timing is not None and _call_started.get():
        timing.store_ms += (time.perf_counter() - _call_started.get()) * 1000
        _call_started.set(0.0)
