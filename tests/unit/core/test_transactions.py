"""Pure parts of the emulated units of work (ADR 0005); the protocol itself runs against DynamoDB Local
behind the Alternator-like endpoint in tests/functional/test_emulated_transactions.py."""

from __future__ import annotations

from typing import Any

from functions.core import transactions
from functions.core.tables import load_models
from functions.core.transactions import TRANSIENT, Write, hide_transient, pack, project_transient, unpack

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


def test_reads_never_return_a_stub_but_do_return_a_locked_item_as_it_was() -> None:
    got: dict[str, Any] = {"Item": dict(STUB)}
    hide_transient(got)
    assert "Item" not in got

    queried: dict[str, Any] = {"Items": [dict(STUB), dict(LOCKED)], "Count": 2}
    hide_transient(queried)
    assert queried == {"Items": [LOCKED], "Count": 1}

    batch: dict[str, Any] = {"Responses": {"pic-t": [dict(STUB), dict(LOCKED)]}}
    hide_transient(batch)
    assert batch["Responses"]["pic-t"] == [LOCKED]


def test_a_projected_read_also_asks_for_the_stub_marker_except_on_an_index() -> None:
    get = {"TableName": "t", "ProjectionExpression": "#0, #1", "ExpressionAttributeNames": {"#0": "a", "#1": "b"}}
    project_transient(get)
    assert get["ProjectionExpression"] == "#0, #1, #pic_transient"
    assert get["ExpressionAttributeNames"]["#pic_transient"] == TRANSIENT

    batch = {"RequestItems": {"t": {"Keys": [], "ProjectionExpression": "#0", "ExpressionAttributeNames": {"#0": "a"}}}}
    project_transient(batch)
    assert batch["RequestItems"]["t"]["ProjectionExpression"] == "#0, #pic_transient"

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
