"""Functional: ``python -m functions.core.tables`` against a real DynamoDB Local — a table kept from before an
index existed (a ``make run`` data directory) gets the index the model now declares, once."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from local import dynamodb
from local.harness import free_port

pytestmark = pytest.mark.functional

ROOT = Path(__file__).resolve().parents[3]
REGION = "eu-south-2"
TABLE = "pic-interaction"


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, Any]]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "local")  # DynamoDB Local accepts any credentials
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "local")
    port = free_port()
    process = dynamodb.start(tmp_path / "ddb", port)
    endpoint = f"http://127.0.0.1:{port}"
    try:
        dynamodb.wait_ready(endpoint, REGION)
        yield endpoint, dynamodb.client(endpoint, REGION)
    finally:
        process.terminate()
        process.wait(timeout=30)


def create_tables(endpoint: str) -> str:
    env = {
        **os.environ,
        "PIC_DYNAMODB_ENDPOINT": endpoint,
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "PYTHONPATH": str(ROOT),
        "PIC_TABLE_PREFIX": "pic-",
    }
    done = subprocess.run(
        [sys.executable, "-m", "functions.core.tables"], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_an_existing_table_gets_the_index_its_model_now_declares(store: tuple[str, Any]) -> None:
    endpoint, ddb = store
    # GIVEN the interaction table as it was created before the by-citizen index existed
    ddb.create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )

    # WHEN the tables are created again (as `make run` does on start)
    first = create_tables(endpoint)

    # THEN the index was added, with the model's keys, and a second run adds nothing
    assert f"{TABLE}/index/by-citizen" in first
    indexes = {i["IndexName"]: i for i in ddb.describe_table(TableName=TABLE)["Table"]["GlobalSecondaryIndexes"]}
    assert set(indexes) == {"by-citizen", "by-linked-citizen"}  # every index the model declares
    index = indexes["by-citizen"]
    assert [k["AttributeName"] for k in index["KeySchema"]] == ["citizen_id", "recorded_at"]
    assert f"{TABLE}/index" not in create_tables(endpoint)
