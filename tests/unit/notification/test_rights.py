"""Unit: the notification domain's answer to data-subject requests (``rights.answer``), with its export and
erasure replaced (both are tested on the fake store in test_handlers.py, on DynamoDB in
tests/functional/notification/test_notification_rgpd.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from events.rgpd import DomainAction, RgpdRequestOpened
from functions.core import rights as core_rights
from functions.core.policy import get_policy
from functions.core.store import UnitOfWork
from functions.core.terms import load_terms
from functions.notification import rights
from tests.unit.notification.fakes import FakeNotificationStore
from tests.unit.rgpd_support import rgpd_request

AT = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)


def opened(right: str, **details: Any) -> RgpdRequestOpened:
    return rgpd_request(right, "c-1", AT, **details)


def answered(data: RgpdRequestOpened) -> Any:
    return rights.answer(data, UnitOfWork(), FakeNotificationStore(), get_policy(), load_terms(), AT)


EXPORT = {
    "profile": {"flags": {"value": {"restricted": False}}},
    "subscriptions": [],
    "inbox": [{"subject": "IBI"}],
    "notifications": [{"subject": "IBI"}, {"subject": "Veranos de la Villa"}],
}


@pytest.fixture
def erased(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []

    def erase(uow: UnitOfWork, request_id: str, citizen_id: str, retention: Any) -> list[DomainAction]:
        calls.append(f"{request_id}/{citizen_id}")
        return [
            DomainAction(what="push endpoint", count=1, result="erased", legal_basis=None),
            DomainAction(what="in-app records of legal notices", count=2, result="kept", legal_basis="Ley 39/2015"),
        ]

    monkeypatch.setattr(rights, "export_citizen", lambda citizen_id, store, terms: EXPORT)
    monkeypatch.setattr(rights, "erase_citizen", erase)
    return calls


@pytest.mark.parametrize("right", ["access", "portability"])
def test_access_and_portability_carry_the_export_counted_per_kind(erased: list[str], right: str) -> None:
    answer = answered(opened(right))
    assert answer.outcome == "done" and answer.export == EXPORT and answer.domain == "notification"
    counts = [(a.count, a.result) for a in answer.actions]
    assert counts == [(1, "exported"), (0, "exported"), (1, "exported"), (2, "exported")]
    assert erased == []


def test_an_export_too_large_for_one_event_is_failed_with_the_reason(
    erased: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    big = {"profile": {}, "subscriptions": [], "inbox": [{"body": "x" * core_rights.MAX_EXPORT_CHARS}],
           "notifications": []}  # fmt: skip
    monkeypatch.setattr(rights, "export_citizen", lambda citizen_id, store, terms: big)
    answer = answered(opened("access"))
    assert answer.outcome == "failed" and answer.export is None
    assert answer.reason and "delivered by reference" in answer.reason


def test_an_erasure_reports_what_was_erased_and_kept_with_its_legal_basis(erased: list[str]) -> None:
    answer = answered(opened("erasure"))
    assert erased == ["rgpd-1/c-1"]
    assert answer.outcome == "done"
    assert [(a.result, a.legal_basis) for a in answer.actions[:2]] == [("erased", None), ("kept", "Ley 39/2015")]
    # AND what the domain keeps outside its table until the store removes it, with the policy's basis
    transit = answer.actions[2:]
    assert [(a.category, a.count) for a in transit] == [("outbox-events", None), ("request-replays", None)]
    assert all(a.result == "kept" and a.legal_basis and "17.1" in a.legal_basis for a in transit)


def test_an_erasure_with_nothing_held_is_not_applicable(erased: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rights, "erase_citizen", lambda uow, request_id, citizen_id, retention: [])
    assert answered(opened("erasure")).outcome == "not-applicable"


@pytest.mark.parametrize(
    ("right", "details"),
    [("rectification", {"fields": {"email": "a@b.es"}}), ("restriction", {}), ("objection", {"purposes": ["surveys"]})],
)
def test_rectification_restriction_and_objection_are_not_applicable(
    erased: list[str], right: str, details: dict[str, Any]
) -> None:
    answer = answered(opened(right, **details))
    assert answer.outcome == "not-applicable" and answer.actions == [] and answer.export is None
    assert erased == []


@pytest.mark.parametrize(
    ("purpose", "category"),
    [
        ("service-notifications", "legal-notices"),
        ("campaigns", "messages"),
        ("surveys", "messages"),
        ("alerts", "messages"),
        (None, "unclassified-messages"),
        ("", "unclassified-messages"),
    ],
)
def test_a_message_is_a_legal_notice_when_its_purpose_rests_on_a_legal_obligation(
    purpose: str | None, category: str
) -> None:
    assert rights.message_category(purpose, load_terms()) == category
