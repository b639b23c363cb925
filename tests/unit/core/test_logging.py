"""W3C trace context: keep the caller's trace, start a new span; start a new trace when it is invalid."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from functions.core.logging import HumanFormatter, bind_trace, ensure_traceparent, get_logger, log_hot, trace_id
from functions.core.settings import get_settings

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


# ---- the two formats: JSON where deployed, a readable line at a terminal ------------------------------


def _entry(formatter: logging.Formatter, message: str, **extra: object) -> str:
    record = logging.LogRecord("pic", logging.INFO, __file__, 1, message, None, None)
    record.__dict__.update(extra)
    return formatter.format(record)


def test_the_human_format_is_one_line_a_person_reads_with_every_key() -> None:
    # GIVEN a policy decision logged in the human format, within a trace
    formatter = HumanFormatter(use_rfc3339=True, service="pic-consent")
    line = _entry(formatter, "policy decision", decision_log={"policy": "consent", "allow": True}, trace_id=TRACE)
    # THEN it starts with the time, the level, the service and the message, not with a brace
    assert re.match(r"^\d\d:\d\d:\d\d\.\d{3} INFO +pic-consent: policy decision  ", line), line
    # AND the other keys follow as key=value, the trace id short
    assert 'decision_log={"policy": "consent", "allow": true}' in line and line.endswith(f"trace={TRACE[:8]}")
    assert "\n" not in line


def test_json_is_the_default_format(monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN no PIC_LOG_FORMAT (as deployed) THEN the logger writes JSON lines; human only when asked
    monkeypatch.delenv("PIC_LOG_FORMAT", raising=False)
    get_settings.cache_clear()
    try:
        assert get_settings().log_format == "json"
        monkeypatch.setenv("PIC_LOG_FORMAT", "human")
        get_settings.cache_clear()
        assert get_settings().log_format == "human"
        monkeypatch.setenv("PIC_LOG_FORMAT", "pretty")
        get_settings.cache_clear()
        with pytest.raises(ValueError, match="PIC_LOG_FORMAT"):
            get_settings()
    finally:
        monkeypatch.delenv("PIC_LOG_FORMAT", raising=False)
        get_settings.cache_clear()


def test_a_hot_line_is_the_entry_the_logger_writes(logged: Callable[[], list[dict[str, Any]]]) -> None:
    # GIVEN a thread bound to a trace
    current = bind_trace(INCOMING)
    # WHEN the same decision is logged through the logger and through the hot path
    fields = {"decision_log": {"policy": "authz", "allow": True, "reasons": ["Sí, el titular."]}}
    get_logger().info("policy decision", extra=fields)
    log_hot("policy decision", **fields)
    slow, hot = logged()[-2:]
    # THEN both carry the same keys and values (the caller's location and the clock aside), the trace included
    assert {k: v for k, v in hot.items() if k not in ("location", "timestamp")} == {
        k: v for k, v in slow.items() if k not in ("location", "timestamp")
    }
    assert hot["traceparent"] == current and hot["trace_id"] == TRACE
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00$", str(hot["timestamp"]))


def test_a_hot_line_honours_the_level(logged: Callable[[], list[dict[str, Any]]]) -> None:
    # GIVEN a logger at WARNING
    get_logger().setLevel("WARNING")  # the fixture restores it
    # WHEN a decision is logged on the hot path THEN nothing is written
    log_hot("policy decision", decision_log={"allow": True})
    assert logged() == []
