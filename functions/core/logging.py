"""Structured logs, correlated by the W3C ``traceparent`` of the request or event: JSON lines where deployed,
one readable line per entry at a terminal (``PIC_LOG_FORMAT=human``, ``make run``'s default)."""

from __future__ import annotations

import json
import logging
import re
import secrets
import threading
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import orjson
from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

from functions.core.settings import get_settings

_TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")

# Powertools warns when it runs outside AWS Lambda; PIC runs on Knative on purpose.
logging.getLogger("aws_lambda_powertools").setLevel(logging.ERROR)


# Keys a person does not need on every line (the trace id is shown short; the rest is in the JSON format).
_NOT_SHOWN = frozenset({"timestamp", "level", "service", "message", "location", "trace_id", "traceparent"})
_TRAILING = ("exception", "stack_trace")
_NO_LOCK = threading.Lock()


class HumanFormatter(LambdaPowertoolsFormatter):
    """The same entries as the JSON format (every key kept), written for a person: time, level, service and
    message first, the other keys as ``key=value``, the trace id short, an exception on the lines after."""

    def serialize(self, log: dict[str, Any]) -> str:  # type: ignore[override]
        fields = " ".join(
            f"{key}={_compact(value)}" for key, value in log.items() if key not in _NOT_SHOWN and key not in _TRAILING
        )
        trace = f" trace={str(log['trace_id'])[:8]}" if log.get("trace_id") else ""
        clock = str(log.get("timestamp", ""))[11:23]  # HH:MM:SS.mmm of the RFC 3339 timestamp
        line = f"{clock} {log.get('level', '')!s:<7} {log.get('service', '')}: {log.get('message', '')}"
        line += f"  {fields}" if fields else ""
        line += trace
        if log.get("exception"):
            line += "\n" + str(log["exception"])
        return line


def _compact(value: Any) -> str:
    return value if isinstance(value, str) and " " not in value else json.dumps(value, default=str, ensure_ascii=False)


@lru_cache(maxsize=1)
def get_logger() -> Logger:
    """The process logger: service, level, message and trace ids, as JSON lines or readable ones."""
    settings = get_settings()
    human = HumanFormatter(use_rfc3339=True) if settings.log_format == "human" else None
    return Logger(service=settings.service_name, level=settings.log_level, use_rfc3339=True, logger_formatter=human)


def trace_id(traceparent: str | None) -> str | None:
    """The trace id of a valid ``traceparent``, else ``None``."""
    match = _TRACEPARENT.match(traceparent or "")
    if not match or match.group(1) == "0" * 32:  # all-zero trace ids are invalid (W3C Trace Context)
        return None
    return match.group(1)


def ensure_traceparent(traceparent: str | None) -> str:
    """Keep a valid incoming ``traceparent`` (new span id), or start a new trace."""
    tid = trace_id(traceparent) or secrets.token_hex(16)
    return f"00-{tid}-{secrets.token_hex(8)}-01"


def bind_trace(traceparent: str | None) -> str:
    """Attach the trace to every log line of this thread; returns the traceparent to propagate."""
    current = ensure_traceparent(traceparent)
    get_logger().thread_safe_append_keys(trace_id=trace_id(current), traceparent=current)
    return current


_HOT_JSON = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_NON_STR_KEYS  # datetimes as str(), as elsewhere


def _hot_json(entry: dict[str, Any]) -> str:
    try:
        return orjson.dumps(entry, default=str, option=_HOT_JSON).decode()
    except orjson.JSONEncodeError:  # an integer beyond 64 bits: the standard library writes it
        return json.dumps(entry, default=str, separators=(",", ":"), ensure_ascii=False)


def log_hot(message: str, **fields: Any) -> None:
    """One INFO line on a hot path (the decision log: a line per policy decision, several per request).

    The same entry the logger writes — level, message, timestamp, service, this thread's trace keys, the
    fields — in the same format (JSON or human), through the logger's own handler and its lock, so lines
    never interleave. It skips what a log record costs and these lines do not need (the record, the
    caller's frame, Powertools' key extraction): ~70 µs a line through ``Logger.info`` against ~10 µs here
    (docs/benchmarks.md, "Policies on the deployed path")."""
    logger = get_logger()
    if logger.log_level > logging.INFO:
        return
    formatter = logger.registered_formatter
    entry: dict[str, Any] = {
        "level": "INFO",
        "location": "log_hot",
        "message": message,
        "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds"),
        "service": logger.service,
        **formatter.thread_safe_get_current_keys(),
        **fields,
    }
    line = formatter.serialize(entry) if isinstance(formatter, HumanFormatter) else _hot_json(entry)
    handler = logger.registered_handler
    if not isinstance(handler, logging.StreamHandler):  # a handler set up elsewhere: let it do its work
        logger.info(message, extra=fields)
        return
    with handler.lock or _NO_LOCK:
        handler.stream.write(line + "\n")
        handler.flush()
