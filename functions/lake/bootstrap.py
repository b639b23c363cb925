"""The lake's real adapters, built once per process: DynamoDB (``storage.DynamoLakeStore``), the Delta tables in
object storage (``tables.DeltaTables``), the pseudonymisation key (``keys``), the policy engine and the clock.
Tests build ``handlers.LakePorts`` with fakes instead."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from functions.core.clock import SYSTEM_CLOCK
from functions.core.policy import get_policy
from functions.lake import keys, service
from functions.lake.handlers import LakePorts
from functions.lake.storage import DynamoLakeStore


def every_table(rules: service.Rules) -> list[str]:
    """The facts' tables and their snapshots: what an erasure reaches."""
    names = service.table_names(rules)
    return names + [s["table"] for t in names if (s := service.snapshot_of(rules, t))]


class LazyTables:
    """The Delta tables, imported on first use: the event function stages rows and never opens a table, so it
    does not load deltalake, pyarrow and DuckDB (memory and cold start)."""

    def __init__(self, location: str, names: list[str]) -> None:
        self.location = location
        self.names = names

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        real = self.__dict__.get("real")
        if real is None:
            from functions.lake.tables import DeltaTables

            real = self.__dict__["real"] = DeltaTables(self.location, self.names, keys.storage_options())
        return getattr(real, name)


class KeyedOnFirstUse:
    """Pseudonyms under the key read on first use: the flusher and the snapshot never compute one, so they never
    read the key (their IAM roles cannot)."""

    def of(self, value: str) -> str:
        return _pseudonymiser().of(value)


@lru_cache(maxsize=1)
def _pseudonymiser() -> service.Pseudonymiser:
    return service.Pseudonymiser(keys.pseudonym_key())


@lru_cache(maxsize=1)
def ports() -> LakePorts:
    rules = service.rules()
    return LakePorts(
        store=DynamoLakeStore(), tables=LazyTables(keys.location(), every_table(rules)),  # type: ignore[arg-type]
        pseudonymiser=KeyedOnFirstUse(), policy=get_policy(), clock=SYSTEM_CLOCK,
        rules=rules,
    )  # fmt: skip
