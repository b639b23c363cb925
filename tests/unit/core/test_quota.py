"""The consumers' quota (functions/core/quota.py): windows, the conditional counter, the RateLimit fields,
the registry's validation. The counter runs on a fake DynamoDB client that applies the condition as the store
does; the real store's race at the limit is tests/functional/consumers."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from functions.core.consumers import Consumer, load_registry, registry
from functions.core.quota import QuotaCounter, QuotaExceededError, QuotaUnavailableError, Window

T0 = 1_796_000_600.0  # 2026-11-30T01:03:20Z: 200 s into its hour


class FakeDynamo:
    """update_item with ADD/SET and the quota's condition, atomically (a lock), as DynamoDB decides each item."""

    def __init__(self, fail: Exception | None = None) -> None:
        self.items: dict[tuple[str, str], dict[str, int]] = {}
        self.calls = 0
        self.fail = fail
        self._lock = threading.Lock()

    def update_item(self, **call: Any) -> dict[str, Any]:
        self.calls += 1
        if self.fail is not None:
            raise self.fail
        key = (call["Key"]["client_id"]["S"], call["Key"]["hour"]["S"])
        names, values = call["ExpressionAttributeNames"], call["ExpressionAttributeValues"]
        with self._lock:
            item = self.items.setdefault(key, {})
            if "ConditionExpression" in call:
                counter = names["#w"]
                if counter in item and item[counter] >= int(values[":limit"]["N"]):
                    raise ClientError({"Error": {"Code": "ConditionalCheckFailedException"}}, "UpdateItem")
                item[counter] = item.get(counter, 0) + 1
                item["admitted"] = item.get("admitted", 0) + 1
                return {"Attributes": {counter: {"N": str(item[counter])}, "admitted": {"N": str(item["admitted"])}}}
            counter = names["#c"]
            item[counter] = item.get(counter, 0) + 1
            return {}


def consumer(requests: int = 3, window: int = 5) -> Consumer:
    return Consumer.model_validate({
        "client_id": "quiosco-pruebas", "system": {"es": "Quiosco", "en": "Kiosk"}, "owner": "Plataforma",
        "scopes": ["api:verifier.types"], "quota": {"requests": requests, "window_seconds": window},
    })  # fmt: skip


def counter_at(store: FakeDynamo, clock: list[float]) -> QuotaCounter:
    return QuotaCounter(store, "consumers", consumers=lambda: {"quiosco-pruebas": consumer()}, now=lambda: clock[0])


def test_window_is_the_hour_item_and_its_counter() -> None:
    # GIVEN an instant 200 s into its hour WHEN windows of 5 s and 60 s THEN counters w40 and w3, ends at their edge
    five, minute = Window.at(T0, 5), Window.at(T0, 60)
    assert (five.hour, five.counter, five.ends_at) == ("2026-11-30T01", "w40", T0 + 5)
    assert (minute.counter, minute.seconds_left(T0)) == ("w3", 40)
    assert Window.at(T0 + 4.999, 5).seconds_left(T0 + 4.999) == 1  # never 0: Retry-After is at least 1 s


def test_quota_admits_exactly_its_requests_then_429_with_retry_after() -> None:
    # GIVEN a consumer of 3 requests per 5 s
    store, clock = FakeDynamo(), [T0 + 1.5]
    counter = counter_at(store, clock)
    # WHEN it asks four times in the window
    admitted = [counter.admit(consumer()) for _ in range(3)]
    with pytest.raises(QuotaExceededError) as refused:
        counter.admit(consumer())
    # THEN three are admitted, counting down what is left; the fourth is a 429 naming when to retry
    assert [a.remaining for a in admitted] == [2, 1, 0]
    assert admitted[0].headers() == {"RateLimit-Policy": '"quota";q=3;w=5', "RateLimit": '"quota";r=2;t=4'}
    error = refused.value
    assert (error.status, error.slug, error.headers["Retry-After"]) == (429, "quota-exceeded", "4")
    assert error.headers["RateLimit"] == '"quota";r=0;t=4'
    assert error.to_problem()["retry_after"] == 4 and error.to_problem()["client_id"] == "quiosco-pruebas"
    # AND the hour's item holds the admitted requests and the refusal
    assert store.items[("quiosco-pruebas", "2026-11-30T01")] == {"w40": 3, "admitted": 3, "over_quota": 1}


def test_next_window_admits_again() -> None:
    store, clock = FakeDynamo(), [T0]
    counter = counter_at(store, clock)
    for _ in range(3):
        counter.admit(consumer())
    clock[0] += 5  # the next window
    assert counter.admit(consumer()).remaining == 2


def test_racing_threads_at_the_limit_admit_exactly_the_quota() -> None:
    # GIVEN 20 threads asking at once for a quota of 3 (the store decides each conditional write alone)
    store, clock = FakeDynamo(), [T0]
    counter = counter_at(store, clock)
    outcomes: list[str] = []

    def ask() -> None:
        try:
            counter.admit(consumer())
            outcomes.append("admitted")
        except QuotaExceededError:
            outcomes.append("refused")

    threads = [threading.Thread(target=ask) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes).count("admitted") == 3 and len(outcomes) == 20


def test_a_store_that_fails_is_a_503_never_an_uncounted_admission() -> None:
    throttled = ClientError({"Error": {"Code": "ProvisionedThroughputExceededException"}}, "UpdateItem")
    for failure in (throttled, EndpointConnectionError(endpoint_url="http://127.0.0.1:1")):
        with pytest.raises(QuotaUnavailableError) as refused:
            counter_at(FakeDynamo(fail=failure), [T0]).admit(consumer())
        assert refused.value.status == 503 and refused.value.headers["Retry-After"] == "1"


def test_refusals_are_counted_in_the_hour_and_a_failure_to_count_is_only_logged() -> None:
    store = FakeDynamo()
    counter_at(store, [T0]).record("quiosco-pruebas", "forbidden")
    assert store.items[("quiosco-pruebas", "2026-11-30T01")] == {"forbidden": 1}
    counter_at(FakeDynamo(fail=EndpointConnectionError(endpoint_url="x")), [T0]).record("quiosco-pruebas", "forbidden")


def test_the_shipped_registry_is_valid_and_names_catalogued_senders() -> None:
    from events import catalog

    consumers = registry()
    accounts = {s.account for spec in catalog.CATALOG.values() for s in spec.senders}
    assert "quiosco-pruebas" in consumers
    for found in consumers.values():
        assert found.sender is None or found.sender in accounts, found.client_id
        for scope in found.scopes:
            kind, _, name = scope.partition(":")
            if kind == "events":
                assert name in catalog.CATALOG, scope
                assert found.sender and any(s.account == found.sender for s in catalog.CATALOG[name].senders), scope


def test_the_shipped_registrys_api_scopes_are_actions_its_role_may_do() -> None:
    actions = json.loads(Path("policies/authz/data.json").read_text(encoding="utf-8"))["actions"]
    for found in registry().values():
        for scope in (s for s in found.scopes if s.startswith("api:")):
            action = scope.removeprefix("api:")
            assert action in actions and "system" in actions[action]["roles"], f"{found.client_id}: {scope}"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"quota": {"requests": 3, "window_seconds": 7}}, "divide 3600"),
        ({"scopes": ["verifier.types"]}, "api:<action> or events:<type>"),
        ({"scopes": ['api:"quoted"']}, "api:<action> or events:<type>"),
        ({"system": {"es": "Quiosco"}}, "es and en"),
        ({"client_id": "Bad Id"}, "client_id"),
    ],
)
def test_a_bad_registration_is_refused(tmp_path: Path, change: dict[str, Any], message: str) -> None:
    entry = {"client_id": "quiosco", "system": {"es": "Q", "en": "Q"}, "owner": "P", "scopes": ["api:verifier.types"],
             "quota": {"requests": 3, "window_seconds": 5}, **change}  # fmt: skip
    path = tmp_path / "consumers.json"
    path.write_text(json.dumps({"consumers": [entry]}), encoding="utf-8")
    with pytest.raises(ValueError, match=message):
        load_registry(path)


def test_a_client_registered_twice_is_refused(tmp_path: Path) -> None:
    entry = consumer().model_dump(mode="json")
    path = tmp_path / "consumers.json"
    path.write_text(json.dumps({"consumers": [entry, entry]}), encoding="utf-8")
    with pytest.raises(ValueError, match="registered twice"):
        load_registry(path)
