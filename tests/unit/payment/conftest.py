"""The payment use cases' ports for unit tests: an in-memory store, a fixed clock, the real policy engine and
Redsys's public test merchant."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from functions.core.policy import EmbeddedPolicy
from functions.payment.handlers import PaymentPorts
from tests.unit.fakes import FixedClock
from tests.unit.payment.fakes import TEST_GATEWAY, FakePaymentStore, FakeRefunds

T0 = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)


@pytest.fixture
def store() -> FakePaymentStore:
    return FakePaymentStore()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


@pytest.fixture
def refunds() -> FakeRefunds:
    return FakeRefunds()


@pytest.fixture
def ports(store: FakePaymentStore, policy: EmbeddedPolicy, clock: FixedClock, refunds: FakeRefunds) -> PaymentPorts:
    return PaymentPorts(store=store, policy=policy, clock=clock, gateway=TEST_GATEWAY, refunds=refunds)
