"""Store calls per notification operation, counted on the fake store's port: every ``fetch_*`` is one DynamoDB
call in ``DynamoNotificationStore`` (a GetItem, a Query, or a BatchGetItem of up to 100 keys), every unit
committed ahead is one TransactWriteItems, and the entry point commits the handler's own unit (one more).
DynamoDB bills per call: a handler whose count grows fails here (the figures: docs/benchmarks.md). The HTTP
path is also measured on DynamoDB Local, tests/functional/notification/test_store_calls.py."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from events.notification import NotificationDelivered, Recipient
from functions.core.policy import EmbeddedPolicy
from functions.core.store import Staged, UnitOfWork
from functions.core.terms import Terms
from functions.notification import handlers
from functions.notification.handlers import NotificationPorts, SubmitBulk
from functions.notification.service import NotificationRequest
from tests.unit.fakes import FixedClock
from tests.unit.notification.fakes import FakeNotificationStore, fake_ports
from tests.unit.notification.test_handlers import CITIZEN, EMAIL, IBI, T0, commit, person, request, template_cmd


@pytest.fixture
def store() -> FakeNotificationStore:
    return FakeNotificationStore()


@pytest.fixture
def ports(store: FakeNotificationStore, policy: EmbeddedPolicy, terms: Terms) -> NotificationPorts:
    ports = fake_ports(store, FixedClock(T0), policy, terms)
    commit(store, handlers.put_template(template_cmd("ibi", IBI), ports, None))
    person(store)
    return ports


def calls(store: FakeNotificationStore, handler: Callable[[], Staged[Any] | UnitOfWork]) -> tuple[int, int]:
    """(reads, units committed) of one operation, the entry point's own commit included."""
    store.calls.clear()
    commit(store, handler())
    reads = sum(n for kind, n in store.calls.items() if kind.startswith("read:"))
    return reads, store.calls["commit"] + 1


def test_accepting_a_notification_reads_once_and_commits_once(
    ports: NotificationPorts, store: FakeNotificationStore
) -> None:
    # template and profile in one BatchGetItem (they were a GetItem and a BatchGetItem before)
    assert calls(store, lambda: handlers.notify(request(), ports, None)) == (1, 1)
    to_address = NotificationRequest("ntf-2", "ibi", Recipient(email=EMAIL), {"name": "a", "year": "1"}, "sys")
    assert calls(store, lambda: handlers.notify(to_address, ports, None)) == (1, 1)


def test_delivering_reads_once_claims_and_records_the_outcome(
    ports: NotificationPorts, store: FakeNotificationStore
) -> None:
    commit(store, handlers.notify(request(), ports, None))
    # the claim must be durable before the message goes out: two units, no read after the claim
    assert calls(store, lambda: handlers.deliver("ntf-1", ports, None)) == (1, 2)
    event = NotificationDelivered(notification_id="ntf-1", status="delivered", template="ibi", template_version=1,
                                  purpose="service-notifications", channel="email", changed_at=T0)  # fmt: skip

    def callback() -> UnitOfWork:  # the entry point posts it, and commits the event's dedupe record
        handlers.callback_for(event, ports)
        return UnitOfWork()

    assert calls(store, callback) == (1, 1)


def test_an_inapp_message_is_delivered_in_one_transaction(
    ports: NotificationPorts, store: FakeNotificationStore
) -> None:
    # nothing leaves PIC: the message, its status and both events commit together, no claim ahead
    person(store, preferences={"channels": ["inapp"]})
    commit(store, handlers.notify(request(), ports, None))
    assert calls(store, lambda: handlers.deliver("ntf-1", ports, None)) == (1, 1)


def test_a_projection_reads_the_profile_once_and_writes_it_once(
    ports: NotificationPorts, store: FakeNotificationStore
) -> None:
    assert calls(store, lambda: handlers.project_part(CITIZEN, "flags", {"restricted": True}, T0, ports)) == (1, 1)
    assert calls(store, lambda: handlers.register_push_endpoint(CITIZEN, "tok:12345678", ports, None)) == (1, 1)


def test_a_bulk_job_and_its_chunk(ports: NotificationPorts, store: FakeNotificationStore) -> None:
    rows: list[tuple[int, Any]] = [
        (n, {"recipient": {"citizen_id": CITIZEN}, "personalisation": {"name": "a", "year": "1"}}) for n in range(1, 41)
    ]
    # the job: the template read, its one chunk written ahead, the job with the chunk's event
    store.calls.clear()
    job = commit(store, handlers.submit_bulk(SubmitBulk("ibi", rows, "sys"), ports, None))
    assert job is not None and store.calls["read:template"] == 1 and store.calls["commit"] == 1
    # the chunk of 40: job, chunk, template, the profiles (one BatchGetItem), which exist (one BatchGetItem); 30
    # notifications committed ahead, the last 10 with the chunk's counts
    assert calls(store, lambda: handlers.bulk_chunk(job["id"], 0, ports, None)) == (5, 2)
