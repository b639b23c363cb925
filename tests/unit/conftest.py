"""Unit-test fixtures: the repository's real consent terms, actors and a fixed clock. No network, no DynamoDB."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from events.consent import Actor
from functions.core.logging import get_logger
from functions.core.policy import EmbeddedPolicy, PolicyBundle
from functions.core.terms import Terms, load_terms

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def terms() -> Terms:
    """The consent terms compliance officers publish (policies/consent/data.json)."""
    return load_terms(ROOT / "policies" / "consent" / "data.json")


@pytest.fixture(scope="session")
def policy() -> EmbeddedPolicy:
    """The repository's real Rego policies, evaluated in-process (``policies/``)."""
    return EmbeddedPolicy(PolicyBundle.load(ROOT / "policies"))


@pytest.fixture
def citizen() -> Actor:
    return Actor(kind="citizen", id="c-0001")


@pytest.fixture
def agent() -> Actor:
    return Actor(kind="agent", id="agent-42", level=2)


@pytest.fixture
def now() -> datetime:
    return datetime(2026, 3, 1, 10, 30, tzinfo=UTC)


@pytest.fixture
def logged() -> Iterator[Callable[[], list[dict[str, Any]]]]:
    """The process logger's JSON lines written during the test (at INFO), as a function that parses them:
    the stream is the logger's own handler's, as production writes it, swapped for a buffer."""
    logger = get_logger()
    handler = logger.registered_handler
    assert isinstance(handler, logging.StreamHandler)
    buffer = io.StringIO()
    stream, level = handler.setStream(buffer), logger.log_level
    logger.setLevel("INFO")
    try:
        yield lambda: [json.loads(line) for line in buffer.getvalue().splitlines() if line.strip()]
    finally:
        handler.setStream(stream)
        logger.setLevel(level)
