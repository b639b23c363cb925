"""Functional tests run against a real local platform, started once per session the same way
``make run`` starts it (DynamoDB Local, gateway, broker, relay), on free ports and a fresh data dir."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from local.harness import Platform, start_platform
from tests.verifier_issuer import STAND_IN_ISSUER

# The modules that take minutes, longest first. pytest-xdist's ``--dist loadfile`` hands modules to the workers in
# collection order, so a long module collected late runs alone at the end while the other workers wait (the README
# walk-throughs, ~5 minutes on one worker, made the tail of CI's functional phase). Measured with --durations.
LONGEST_FIRST = (
    "core/test_readme_walkthroughs.py",  # its own platform; half of the README walk-throughs, twice
    "core/test_readme_walkthroughs_more.py",  # its own platform; the other half
    "spark/test_spark.py",  # PySpark installed on first use, a JVM, Splink's stages on Spark (minutes)
    "core/test_store_calls.py",  # every route and trigger measured
    "core/test_runtime.py",  # a platform stopped and started again on its data directory
    "core/test_api_fuzz.py",  # its own platform; every route fuzzed from the OpenAPI
    "core/test_process_life.py",  # a platform per kill
    "core/test_role_matrix.py",
    "web/test_page_audit.py",
    "core/test_policy_bundle.py",  # its own platform
    "cdc/test_cdc.py",  # a PostgreSQL of its own
    "citizen/test_citizen.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The longest modules first (stable: every other module, and the tests within one, keep their order)."""

    def rank(item: pytest.Item) -> int:
        module = item.nodeid.split("::", 1)[0].removeprefix("tests/functional/")
        return LONGEST_FIRST.index(module) if module in LONGEST_FIRST else len(LONGEST_FIRST)

    items.sort(key=rank)


@pytest.fixture(scope="session")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    data_dir = tmp_path_factory.mktemp("pic") / "data"
    data_dir.mkdir()
    os.environ["PIC_VERIFIER_TRUSTED_ISSUERS"] = STAND_IN_ISSUER  # the issuer the verifier's tests serve
    running = start_platform(data_dir)
    yield running
    running.stop()


@pytest.fixture
def citizen_id() -> str:
    """A fresh citizen for each test: tests never share state."""
    return f"c-{uuid.uuid4().hex[:12]}"
