"""The booking functions' real adapters, built once per process: DynamoDB through
``storage.DynamoBookingStore``, the policy engine ``PIC_POLICY_ENGINE`` names and the system clock. Tests build
``handlers.BookingPorts`` with fakes instead."""

from __future__ import annotations

from functools import lru_cache

from functions.booking.handlers import BookingPorts
from functions.booking.storage import DynamoBookingStore
from functions.core.clock import SYSTEM_CLOCK
from functions.core.policy import get_policy


@lru_cache(maxsize=1)
def ports() -> BookingPorts:
    return BookingPorts(store=DynamoBookingStore(), policy=get_policy(), clock=SYSTEM_CLOCK)
