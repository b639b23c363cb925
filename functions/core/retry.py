"""One way to retry a use case that lost a race: decide again on what the winner wrote.

A unit of work commits with conditions (versions, absence); when a concurrent change wins, the commit raises
``LostRaceError`` and nothing was written. Running the use case again reads the winner's state and decides
anew — what a redelivery or a client's retry would do, only sooner. After the last attempt the conflict
reaches the caller (409: the broker retries an event later; a channel may retry its request).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

from functions.core.errors import LostRaceError
from functions.core.logging import get_logger

T = TypeVar("T")

ATTEMPTS = 4
BACKOFF = 0.02  # seconds; full jitter, doubling


def retry_on_conflict(
    attempt: Callable[[], T], *, attempts: int = ATTEMPTS, backoff: float = BACKOFF, what: str = "a use case"
) -> T:
    """``attempt()`` until it does not raise ``LostRaceError``, at most ``attempts`` times (jittered
    exponential backoff between them); the last conflict is raised. A plain ``ConflictError`` (a handler's
    "not ready yet") is not retried here: it is the caller's to retry, later."""
    for number in range(1, attempts + 1):
        try:
            return attempt()
        except LostRaceError:
            if number == attempts:
                raise
            get_logger().info("lost a race: deciding again", extra={"what": what, "attempt": number})
            time.sleep(random.uniform(0, backoff * 2 ** (number - 1)))  # noqa: S311 - jitter, not crypto
    raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises
