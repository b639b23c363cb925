"""A store without ``TransactWriteItems`` (ScyllaDB Alternator, ADR 0005) gets a typed 503, not a 500.

We cannot run Alternator here, so ``local.alternator_like`` answers the DynamoDB JSON protocol the way
Alternator does for an operation it lacks (scylladb/scylladb#5064); botocore talks to it over real HTTP.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pynamodb.attributes import UnicodeAttribute
from pynamodb.models import Model

from functions.core import settings, store
from functions.core.errors import StoreUnsupportedError
from local.alternator_like import AlternatorLike
from local.harness import free_port


@pytest.fixture
def alternator_endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[AlternatorLike]:
    """The local Alternator-like endpoint; its upstream is never reached (nothing listens there), so the
    only answer the store can give is Alternator's to an operation it lacks."""
    server = AlternatorLike(free_port(), f"http://127.0.0.1:{free_port()}").start()
    monkeypatch.setenv("PIC_DYNAMODB_ENDPOINT", server.endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "local")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "local")
    settings.get_settings.cache_clear()
    store.connection.cache_clear()
    yield server
    server.shutdown()
    settings.get_settings.cache_clear()
    store.connection.cache_clear()


def test_a_unit_of_work_on_a_store_without_transactions_is_a_typed_503(alternator_endpoint: AlternatorLike) -> None:
    # GIVEN an item bound to the Alternator-like endpoint
    class Thing(Model):
        Meta = store.model_meta("things")
        id = UnicodeAttribute(hash_key=True)

    uow = store.UnitOfWork()
    uow.put(Thing(id="a"))
    uow.put(Thing(id="b"))

    # WHEN the unit commits
    with pytest.raises(StoreUnsupportedError) as raised:
        uow.commit()

    # THEN the caller gets the documented problem naming the operation, and the store saw one call
    problem = raised.value.to_problem()
    assert problem["status"] == 503
    assert problem["type"] == "/problems/store-unsupported"
    assert problem["operation"] == "TransactWriteItems"
    assert alternator_endpoint.endpoint in problem["detail"]
    assert alternator_endpoint.refused == ["TransactWriteItems"]
