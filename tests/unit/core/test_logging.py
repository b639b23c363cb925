"""W3C trace context: keep the caller's trace, start a new span; start a new trace when it is invalid."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from functions.core.logging import ensure_traceparent, trace_id

TRACEPARENT = re.compile(r"^00-[0-9a-f]{32}-[0-9a-f]{16}-01$")
TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
INCOMING = f"00-{TRACE}-00f067aa0ba902b7-01"


def test_a_valid_traceparent_keeps_its_trace_and_gets_a_new_span() -> None:
    # WHEN a request arrives with a valid traceparent
    out = ensure_traceparent(INCOMING)
    # THEN the trace id is kept, the span id is new, and the header is well-formed
    assert TRACEPARENT.match(out)
    assert trace_id(out) == TRACE
    assert out.split("-")[2] != "00f067aa0ba902b7"


def test_every_call_makes_a_new_span() -> None:
    spans = {ensure_traceparent(INCOMING).split("-")[2] for _ in range(20)}
    assert len(spans) == 20


@pytest.mark.parametrize(
    "invalid",
    [
        None,
        "",
        "garbage",
        f"01-{TRACE}-00f067aa0ba902b7-01",  # unknown version
        f"00-{TRACE.upper()}-00f067aa0ba902b7-01",  # upper-case hex
        f"00-{TRACE[:-1]}-00f067aa0ba902b7-01",  # short trace id
        f"00-{TRACE}-00f067aa0ba902b-01",  # short span id
        f" {INCOMING}",
    ],
)
def test_an_invalid_traceparent_starts_a_new_trace(invalid: str | None) -> None:
    assert trace_id(invalid) is None
    out = ensure_traceparent(invalid)
    assert TRACEPARENT.match(out) and trace_id(out) != TRACE


@settings(max_examples=50, deadline=None)
@given(
    trace=st.text(alphabet="0123456789abcdef", min_size=32, max_size=32).filter(lambda t: set(t) != {"0"}),
    span=st.text(alphabet="0123456789abcdef", min_size=16, max_size=16),
    flags=st.sampled_from(["00", "01"]),
)
def test_any_valid_trace_id_is_kept(trace: str, span: str, flags: str) -> None:
    out = ensure_traceparent(f"00-{trace}-{span}-{flags}")
    assert trace_id(out) == trace and TRACEPARENT.match(out)


def test_an_all_zero_trace_id_starts_a_new_trace() -> None:
    out = ensure_traceparent(f"00-{'0' * 32}-00f067aa0ba902b7-01")
    assert trace_id(out) != "0" * 32
