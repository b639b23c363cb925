"""Pure parts of the emulated units of work (ADR 0005); the protocol itself runs against DynamoDB Local
behind the Alternator-like endpoint in tests/functional/core/test_emulated_transactions.py."""

from __future__ import annotations

from typing import Any

from functions.core import transactions
from functions.core.tables import load_models
from functions.core.transactions import (
    TRANSIENT,
    Write,
    as_committed,
    hide_transient,
    pack,
    project_transient,
    unpack,
)

STUB = {"pk": {"S": "a"}, "_pic_tx": {"S": "t"}, TRANSIENT: {"BOOL": True}}
LOCKED = {"pk": {"S": "b"}, "v": {"S": "old"}, "_pic_tx": {"S": "t"}}


def write(n: int, blob: Any = "x") -> Write:
    item = {"pk": {"S": f"k{n}"}, "blob": {"B": blob} if isinstance(blob, bytes) else {"S": blob}}
    return Write("pic-t", {"pk": {"S": f"k{n}"}}, "state", [], "PutItem", {"TableName": "pic-t", "Item": item})


def test_a_payload_round_trips_with_binary_values_and_splits_into_parts_past_one_item() -> None:
    small = [write(1, b"\x00\xff binary"), write(2)]
    assert [w.as_payload() for w in unpack(pack(small))] == [w.as_payload() for w in small]

    import os

    large = [write(n, os.urandom(100_000)) for n in range(5)]  # incompressible: ~500 KB
    parts = pack(large)
    assert len(parts) == 2 and all(len(p) <= transactions.PART_BYTES for p in parts)
    assert [w.as_payload() for w in unpack(parts)] == [w.as_payload() for w in large]


class Unit:
    """What ``as_committed`` asks of the protocol, for a unit before or past its commit point."""

    def __init__(self, committed: list[Write] | None, stored: dict[str, Any] | None = None) -> None:
        self.committed, self.stored, self.asked = committed, stored, 0

    def finish_committed(self, tx_id: str) -> list[Write] | None:
        self.asked += 1
        return self.committed

    def _get(self, table: str, key: dict[str, Any]) -> dict[str, Any]:
        return dict(self.stored or {})


def test_before_its_commit_point_a_unit_shows_nothing_new() -> None:
    unit = Unit(committed=None)
    assert as_committed([dict(STUB), dict(LOCKED)], unit) == [LOCKED]  # type: ignore[arg-type]
    assert unit.asked == 1  # one look at the unit for all its items


def test_past_its_commit_point_a_unit_shows_what_it_wrote() -> None:
    new = {"pk": {"S": "b"}, "v": {"S": "new"}}
    write_b = Write("pic-t", {"pk": {"S": "b"}}, "state", [], "PutItem", {})
    unit = Unit(committed=[write_b], stored=new)
    assert as_committed([dict(LOCKED)], unit) == [new]  # type: ignore[arg-type]


def test_answers_without_locked_items_are_left_as_they_are() -> None:
    plain = {"pk": {"S": "c"}}
    got: dict[str, Any] = {"Items": [plain], "Count": 1}
    hide_transient(got)
    assert got == {"Items": [plain], "Count": 1}
    assert as_committed([plain]) == [plain]


def test_a_projected_read_also_asks_for_the_lock_attributes_except_on_an_index() -> None:
    get: dict[str, Any] = {
        "TableName": "t",
        "ProjectionExpression": "#0, #1",
        "ExpressionAttributeNames": {"#0": "a", "#1": "b"},
    }
    project_transient(get)
    assert get["ProjectionExpression"] == "#0, #1, #pic_transient, #pic_owner"
    assert get["ExpressionAttributeNames"]["#pic_transient"] == TRANSIENT

    batch: dict[str, Any] = {
        "RequestItems": {"t": {"Keys": [], "ProjectionExpression": "#0", "ExpressionAttributeNames": {"#0": "a"}}}
    }
    project_transient(batch)
    assert batch["RequestItems"]["t"]["ProjectionExpression"] == "#0, #pic_transient, #pic_owner"

    index = {"TableName": "t", "IndexName": "by-citizen", "ProjectionExpression": "#0"}
    project_transient(index)
    assert index["ProjectionExpression"] == "#0"


def test_every_index_is_keyed_on_an_attribute_a_stub_lacks() -> None:
    """Why index queries need no filter: a stub holds only the table's keys and the lock attributes."""
    for name, model in load_models().items():
        schema = model._get_schema()
        table_keys = {k["AttributeName"] for k in schema["key_schema"]}
        for index in schema["global_secondary_indexes"]:
            index_keys = {k["AttributeName"] for k in index["key_schema"]}
            assert index_keys - table_keys, f"{name} index {index['index_name']} would hold stubs"
