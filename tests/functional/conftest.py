"""Functional tests run against a real local platform, started once per session the same way
``make run`` starts it (DynamoDB Local, gateway, broker, relay), on free ports and a fresh data dir."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from local.harness import Platform, start_platform


@pytest.fixture(scope="session")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    data_dir = tmp_path_factory.mktemp("pic") / "data"
    data_dir.mkdir()
    running = start_platform(data_dir)
    yield running
    running.stop()


@pytest.fixture
def citizen_id() -> str:
    """A fresh citizen for each test: tests never share state."""
    return f"c-{uuid.uuid4().hex[:12]}"
