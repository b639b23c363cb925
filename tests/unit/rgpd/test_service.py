"""Data-subject requests, pure: validation per right, the fold of answers into a status, extensions, flags."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from events.rgpd import RgpdDomainAnswered
from functions.core.errors import InvalidEventError
from functions.rgpd import deadlines, service
from functions.rgpd.service import DomainAnswer, Flags, Requester, RgpdRequestInvalidError

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TODAY = deadlines.local_date(NOW)
TERMS = service.PurposeTerms(
    purposes=frozenset({"campaigns", "surveys", "service-notifications"}),
    legal_obligations=frozenset({"service-notifications"}),
)
CITIZEN = Requester("citizen", "c-1")


def invalid_fields(right: str, details: dict[str, Any]) -> set[str]:
    with pytest.raises(RgpdRequestInvalidError) as raised:
        service.validate_details(right, details, TERMS, TODAY)
    return {e["field"] for e in raised.value.errors or []}


def a_request(domains: tuple[str, ...] = ("consent", "tax"), right: str = "access") -> service.RgpdRequest:
    request, _ = service.open_request("c-1", right, {}, CITIZEN, NOW)
    return replace(request, domains=domains)


def answer(domain: str, outcome: str = "done", at: datetime = NOW) -> DomainAnswer:
    return DomainAnswer(domain, outcome, [], at, at, f"/pic/{domain}", "e-1", "boom" if outcome == "failed" else None)


# ---- validation ------------------------------------------------------------------------------------


def test_access_needs_nothing_but_may_carry_a_note() -> None:
    assert service.validate_details("access", {"note": " please "}, TERMS, TODAY) == {"note": "please"}


def test_a_field_of_another_right_is_named() -> None:
    assert invalid_fields("access", {"purposes": ["campaigns"]}) == {"purposes"}


def test_rectification_names_every_bad_field_and_value() -> None:
    fields = {
        "shoe_size": "42",
        "email": "nope",
        "phone": "123",
        "birth_date": "2999-01-01",
        "address.district": "22",
        "given_name": " ",
    }
    assert invalid_fields("rectification", {"fields": fields}) == {f"fields.{name}" for name in fields}


def test_rectification_with_valid_values_passes() -> None:
    fields = {
        "email": "ana@example.org",
        "phone": "+34 600 000 000",
        "birth_date": "1990-05-01",
        "address.postal_code": "28013",
        "address.district": "01",
    }
    assert service.validate_details("rectification", {"fields": fields}, TERMS, TODAY)["fields"] == fields


def test_rectification_needs_fields() -> None:
    assert invalid_fields("rectification", {}) == {"fields"}
    assert invalid_fields("rectification", {"fields": {}}) == {"fields"}


def test_objection_to_unknown_or_legal_obligation_purposes_is_named() -> None:
    assert invalid_fields("objection", {"purposes": ["service-notifications", "gossip", "campaigns"]}) == {
        "purposes.0",
        "purposes.1",
    }
    assert invalid_fields("objection", {"purposes": ["surveys", "surveys"]}) == {"purposes"}


def test_restriction_needs_its_art_18_grounds() -> None:
    assert invalid_fields("restriction", {}) == {"grounds"}
    assert service.validate_details("restriction", {"grounds": "unlawful-processing"}, TERMS, TODAY) == {
        "grounds": "unlawful-processing",
        "lift": False,
    }


# ---- opening and the deadline ------------------------------------------------------------------------


def test_a_request_is_due_one_month_after_receipt_and_fans_out_to_the_catalog_consumers() -> None:
    request, event = service.open_request("c-1", "erasure", {"grounds": "objection"}, CITIZEN, NOW)
    assert request.due_at == deadlines.due_at(NOW) == event.due_at
    assert request.domains == service.expected_domains()
    assert "consent" in request.domains
    assert event.request_id == request.request_id and event.details == {"grounds": "objection"}
    assert request.status == "in-progress"


def test_an_extension_needs_the_first_month_and_happens_once() -> None:
    request = a_request()
    extended = service.extend(request, "many archives to search", "agent-1", NOW + timedelta(days=3))
    assert extended.due_at == deadlines.extended_due_at(NOW)
    assert extended.extension is not None and extended.extension.due_at_before == request.due_at
    with pytest.raises(service.ExtensionRefusedError, match="already extended"):
        service.extend(extended, "again", "agent-1", NOW + timedelta(days=4))
    with pytest.raises(service.ExtensionRefusedError, match="within one month"):
        service.extend(request, "late", "agent-1", request.due_at + timedelta(seconds=1))


# ---- the fold -------------------------------------------------------------------------------------


def test_the_request_is_in_progress_until_every_domain_answered() -> None:
    state = service.fold(a_request(), [answer("consent")], NOW)
    assert (state.status, state.pending, state.completed_at) == ("in-progress", ["tax"], None)


def test_a_failed_answer_needs_action_and_is_listed() -> None:
    state = service.fold(a_request(), [answer("consent"), answer("tax", "failed")], NOW)
    assert (state.status, state.failed) == ("action-required", ["tax"])


def test_the_request_completes_when_the_last_domain_answers() -> None:
    later = NOW + timedelta(hours=2)
    state = service.fold(a_request(), [answer("consent"), answer("tax", "not-applicable", later)], later)
    assert (state.status, state.completed_at, state.overdue) == ("completed", later, False)


def test_a_request_without_answers_after_its_deadline_is_overdue() -> None:
    request = a_request()
    state = service.fold(request, [], request.due_at + timedelta(seconds=1))
    assert state.overdue and state.status == "in-progress"


def test_the_view_shows_the_proof_per_domain_and_the_export_only_when_complete() -> None:
    request = a_request(("consent",))
    view = service.request_view(request, [answer("consent")], NOW)
    assert view["status"] == "completed"
    assert view["domains"][0]["proof"] == {"event_source": "/pic/consent", "event_id": "e-1"}
    assert view["export"] == f"/v1/rgpd-requests/{request.request_id}/export"
    assert service.request_view(request, [], NOW)["domains"] == [{"domain": "consent", "outcome": "pending"}]


# ---- accepting answers -------------------------------------------------------------------------------


def answered(**changes: Any) -> RgpdDomainAnswered:
    data = {"request_id": "rgpd-1", "citizen_id": "c-1", "domain": "consent", "outcome": "done", "answered_at": NOW}
    return RgpdDomainAnswered.model_validate({**data, **changes})


def test_a_first_answer_and_one_replacing_a_failure_are_recorded_a_second_final_one_is_not() -> None:
    request = a_request()
    assert service.accept_answer(request, {}, answered(), "/pic/consent", "/pic")
    assert service.accept_answer(request, {"consent": answer("consent", "failed")}, answered(), "/pic/consent", "/pic")
    assert not service.accept_answer(request, {"consent": answer("consent")}, answered(), "/pic/consent", "/pic")


@pytest.mark.parametrize(
    ("changes", "source", "message"),
    [
        ({"citizen_id": "c-2"}, "/pic/consent", "another citizen"),
        ({"domain": "wallet"}, "/pic/wallet", "not among the domains"),
        ({}, "/legacy/x", "answers from /pic/consent"),
        ({"export": {"a": 1}}, "/pic/consent", "an export answers access or portability"),
        ({"outcome": "failed"}, "/pic/consent", "must say why"),
    ],
)
def test_answers_that_do_not_belong_are_refused(changes: dict[str, Any], source: str, message: str) -> None:
    request = a_request(right="erasure")
    with pytest.raises(InvalidEventError, match=message):
        service.accept_answer(request, {}, answered(**changes), source, "/pic")


# ---- flags ----------------------------------------------------------------------------------------


def test_a_restriction_sets_the_flag_and_lifting_clears_it() -> None:
    flags = service.flags_after(Flags("c-1"), "restriction", {"grounds": "unlawful-processing"}, NOW)
    assert flags is not None and flags.restricted and flags.changed_at == NOW
    assert service.flags_after(flags, "restriction", {"lift": False}, NOW) is None  # nothing changes
    lifted = service.flags_after(flags, "restriction", {"lift": True}, NOW)
    assert lifted is not None and not lifted.restricted


def test_objections_add_and_withdraw_purposes() -> None:
    flags = service.flags_after(Flags("c-1"), "objection", {"purposes": ["surveys", "campaigns"]}, NOW)
    assert flags is not None and flags.objections == ("campaigns", "surveys")
    withdrawn = service.flags_after(flags, "objection", {"purposes": ["surveys"], "withdraw": True}, NOW)
    assert withdrawn is not None and withdrawn.objections == ("campaigns",)
    assert service.flags_event(withdrawn).objections == ["campaigns"]


def test_other_rights_do_not_change_the_flags() -> None:
    assert service.flags_after(Flags("c-1"), "erasure", {}, NOW) is None


def test_the_completion_is_announced_once_with_the_export_path() -> None:
    request = a_request(("consent",))
    state = service.fold(request, [answer("consent")], NOW)
    event = service.completed_event(request, state, [answer("consent")])
    assert event is not None and event.export == f"/v1/rgpd-requests/{request.request_id}/export"
    assert not event.overdue
    # AND it says when each domain answered (projections drop what a domain erased after they did)
    assert event.answered == {"consent": answer("consent").answered_at}
    done = replace(request, status="completed", completed_at=NOW)
    assert service.completed_event(done, state) is None
    assert service.completed_event(request, service.fold(request, [], NOW)) is None


def test_an_extension_is_announced_with_its_reason() -> None:
    extended = service.extend(a_request(), "many archives to search", "agent-1", NOW)
    event = service.extended_event(extended)
    assert (event.reason, event.due_at) == ("many archives to search", deadlines.extended_due_at(NOW))
