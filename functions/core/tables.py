"""Create PIC's tables from the pynamodb models, idempotently: ``python -m functions.core.tables``.

Used by the local runtime, and deployable where Terraform does not own the tables (a DynamoDB-compatible
store on premises). On AWS, Terraform creates them (``infra/terraform``); a contract test keeps both equal.
"""

from __future__ import annotations

import importlib
import sys
import time
from typing import Any

import boto3
from pynamodb.models import Model

from functions.core.settings import REPO_ROOT, get_settings
from functions.core.store import registered_tables

TTL_ATTRIBUTE = "expires_at"


def load_models() -> dict[str, type[Model]]:
    """Import every capability's storage module (and the kernel's tables) so the models register."""
    importlib.import_module("functions.core.outbox")
    importlib.import_module("functions.core.idempotency")
    importlib.import_module("functions.core.transactions")
    importlib.import_module("functions.core.quota")  # the consumers' usage counters (ADR 0035)
    for storage in sorted((REPO_ROOT / "functions").glob("*/storage.py")):
        importlib.import_module(f"functions.{storage.parent.name}.storage")
    return registered_tables()


def create_tables() -> list[str]:
    """Create missing tables (and TTL where a model has ``expires_at``); returns the names created."""
    settings = get_settings()
    ddb = boto3.client("dynamodb", endpoint_url=settings.dynamodb_endpoint, region_name=settings.aws_region)
    created = []
    for name, model in load_models().items():
        if not model.exists():
            model.create_table(wait=True)
            created.append(name)
        else:
            created.extend(f"{name}/index/{index}" for index in add_missing_indexes(ddb, name, model))
        if TTL_ATTRIBUTE in model.get_attributes():
            status = ddb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]["TimeToLiveStatus"]
            if status == "DISABLED":
                ddb.update_time_to_live(
                    TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": TTL_ATTRIBUTE}
                )
    return created


def add_missing_indexes(ddb: Any, name: str, model: type[Model]) -> list[str]:
    """Add the global secondary indexes a model declares and an existing table lacks (a data directory kept
    from before the index existed), one at a time as DynamoDB requires; returns the names added."""
    schema = model._get_schema()  # pynamodb's own description of the table
    table = ddb.describe_table(TableName=name)["Table"]
    present = {index["IndexName"] for index in table.get("GlobalSecondaryIndexes", [])}
    added = []
    for index in schema.get("global_secondary_indexes", []):
        if index["index_name"] in present:
            continue
        create = {
            "IndexName": index["index_name"],
            "KeySchema": index["key_schema"],
            "Projection": index["projection"],
        }
        if table.get("BillingModeSummary", {}).get("BillingMode") != "PAY_PER_REQUEST":
            create["ProvisionedThroughput"] = {"ReadCapacityUnits": 1, "WriteCapacityUnits": 1}
        ddb.update_table(
            TableName=name,
            AttributeDefinitions=index["attribute_definitions"],
            GlobalSecondaryIndexUpdates=[{"Create": create}],
        )
        wait_indexes_active(ddb, name)
        added.append(index["index_name"])
    return added


def wait_indexes_active(ddb: Any, name: str, timeout: float = 120.0) -> None:
    """Wait until the table and every index are ACTIVE: DynamoDB refuses a second index while one is still
    being built (LimitExceededException), and the ``table_exists`` waiter does not look at indexes."""
    deadline = time.monotonic() + timeout
    while True:
        table = ddb.describe_table(TableName=name)["Table"]
        indexes = table.get("GlobalSecondaryIndexes", [])
        statuses = [table["TableStatus"], *(index.get("IndexStatus", "ACTIVE") for index in indexes)]
        if all(status == "ACTIVE" for status in statuses):
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"{name}: indexes not active after {timeout:.0f} s ({statuses})")
        time.sleep(0.2)


def main() -> int:
    created = create_tables()
    print(f"tables created: {', '.join(created) or 'none (all existed)'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
