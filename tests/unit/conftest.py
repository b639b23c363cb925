"""Unit-test fixtures: the repository's real consent terms, actors and a fixed clock. No network, no DynamoDB."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from events.consent import Actor
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
