"""An event whose commit lost a race is decided again in-process before the broker hears 409."""

from __future__ import annotations

from typing import Any

import pytest
from cloudevents.http import CloudEvent
from werkzeug.exceptions import HTTPException

from functions.core import cloudevent, idempotency
from functions.core.cloudevent import CONFLICT_ATTEMPTS, EventContext, EventFunction
from functions.core.errors import ConflictError, LostRaceError
from functions.core.store import UnitOfWork

UPSERTED = "es.madrid.pic.citizen.record.upserted.v1"


def event() -> CloudEvent:
    return CloudEvent({"type": UPSERTED, "source": "/legacy/padron", "id": "e-1"}, {"local_id": "P-1"})


@pytest.fixture
def commits(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Commits that fail with a conflict as many times as the test says, recording each attempt."""
    attempts: list[int] = []
    monkeypatch.setattr(idempotency, "already_done", lambda key: False)
    monkeypatch.setattr(cloudevent, "CONFLICT_BACKOFF", 0.0)
    return attempts


def failing(attempts: list[int], conflicts: int) -> Any:
    def commit(self: UnitOfWork, token: str | None = None) -> None:
        attempts.append(len(self))
        if len(attempts) <= conflicts:
            raise LostRaceError("a concurrent change touched citizen-golden; retry")

    return commit


def test_a_lost_race_is_decided_again_on_what_the_winner_wrote(
    commits: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    decided: list[str] = []

    def handler(ctx: EventContext, data: Any) -> UnitOfWork:
        decided.append(ctx.id)  # a real handler reads the state again here
        return UnitOfWork()

    monkeypatch.setattr(UnitOfWork, "commit", failing(commits, conflicts=2))
    EventFunction("test", {UPSERTED: handler})(event())

    assert decided == ["e-1"] * 3  # two lost races, then the third decision committed
    assert commits == [1, 1, 1]  # each unit carries its own idempotency record, once


def test_a_race_lost_every_time_is_a_409_for_the_broker_to_retry(
    commits: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(UnitOfWork, "commit", failing(commits, conflicts=CONFLICT_ATTEMPTS))
    with pytest.raises(HTTPException) as answered:
        EventFunction("test", {UPSERTED: lambda ctx, data: UnitOfWork()})(event())

    assert answered.value.response is not None and answered.value.response.status_code == 409
    assert len(commits) == CONFLICT_ATTEMPTS


def test_a_conflict_the_handler_itself_raises_is_not_retried_here(
    commits: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []

    def handler(ctx: EventContext, data: Any) -> UnitOfWork:
        calls.append(1)
        raise ConflictError("not readable yet; retry")  # e.g. a projection still behind: the broker waits

    with pytest.raises(HTTPException):
        EventFunction("test", {UPSERTED: handler})(event())
    assert calls == [1]
