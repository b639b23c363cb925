"""Create PIC's tables from the pynamodb models, idempotently: ``python -m functions.core.tables``.

Used by the local runtime, and deployable where Terraform does not own the tables (a DynamoDB-compatible
store on premises). On AWS, Terraform creates them (``infra/terraform``); a contract test keeps both equal.
"""

from __future__ import annotations

import importlib
import sys

import boto3
from pynamodb.models import Model

from functions.core.settings import REPO_ROOT, get_settings
from functions.core.store import registered_tables

TTL_ATTRIBUTE = "expires_at"


def load_models() -> dict[str, type[Model]]:
    """Import every capability's storage module (and the kernel's tables) so the models register."""
    importlib.import_module("functions.core.outbox")
    importlib.import_module("functions.core.idempotency")
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
        if TTL_ATTRIBUTE in model.get_attributes():
            status = ddb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]["TimeToLiveStatus"]
            if status == "DISABLED":
                ddb.update_time_to_live(
                    TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": TTL_ATTRIBUTE}
                )
    return created


def main() -> int:
    created = create_tables()
    print(f"tables created: {', '.join(created) or 'none (all existed)'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
