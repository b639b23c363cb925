"""What the domains' unit tests of their answers to data-subject requests share: the request they answer."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from events.rgpd import RgpdRequestOpened
from functions.core.store import UnitOfWork


def rgpd_request(right: str, citizen_id: str, opened_at: datetime, **details: Any) -> RgpdRequestOpened:
    """``rgpd.request.opened`` for ``right`` (its ``details`` as the coordinator sends them), due in a month."""
    return RgpdRequestOpened(
        request_id="rgpd-1",
        citizen_id=citizen_id,
        right=right,  # type: ignore[arg-type]
        details=details,
        opened_at=opened_at,
        due_at=opened_at + timedelta(days=30),
    )


def assert_staged_beside_the_answer(units: list[UnitOfWork], answer_unit: UnitOfWork, room: int) -> None:
    """Of the deletions staged (``units``: the unit of work each went to, in order), the last ``room`` go in the
    answer's unit and the first ones in earlier units, committed before it (``rights.stage_deletions``)."""
    assert len(units) > room, "the erasure is larger than the answer's transaction holds"
    assert [unit is answer_unit for unit in units] == [False] * (len(units) - room) + [True] * room
