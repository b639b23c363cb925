"""Unit: the envelope every domain's answer to a data-subject request shares (``functions.core.rights``): the
answer's outcome, the export size check, the retention actions with their legal basis, the split of large
erasures into extra units of work, the staging of ``rgpd.domain.answered`` and the wait for projected flags."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from events.rgpd import DomainAction, RgpdRequestOpened
from functions.core import rights
from functions.core.errors import ConflictError
from functions.core.outbox import OutboxRecord
from functions.core.policy import EmbeddedPolicy, PolicyBundle
from functions.core.store import UnitOfWork
from tests.unit.rgpd_support import rgpd_request

ROOT = Path(__file__).resolve().parents[3]
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def opened(right: str, opened_at: datetime = NOW, **details: Any) -> RgpdRequestOpened:
    return rgpd_request(right, "c-ana", opened_at, **details)


ONE = DomainAction(what="access-log entries", count=1, result="exported")


# ---- the answer ---------------------------------------------------------------------------------------


def test_an_export_within_one_event_is_done_with_what_it_contains() -> None:
    answered = rights.Answering(opened("access"), "audit", NOW).with_export({"access_log": [{}]}, [ONE])
    assert (answered.outcome, answered.domain, answered.answered_at) == ("done", "audit", NOW)
    assert answered.export == {"access_log": [{}]} and answered.actions == [ONE] and answered.reason is None
    assert (answered.request_id, answered.citizen_id) == ("rgpd-1", "c-ana")


def test_an_export_larger_than_one_event_is_failed_with_its_size_and_no_data(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rights, "MAX_EXPORT_CHARS", 50)
    export = {"access_log": ["x" * 60]}
    answered = rights.Answering(opened("portability"), "audit", NOW).with_export(export, [ONE], label="access-log")
    assert answered.outcome == "failed" and answered.export is None and answered.actions == []
    assert answered.reason == (
        f"the access-log export is {len(json.dumps(export))} characters, more than one event carries (50); "
        "it must be delivered by reference"
    )


def test_the_failed_reason_names_the_domain_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rights, "MAX_EXPORT_CHARS", 1)
    answered = rights.Answering(opened("access"), "consent", NOW).with_export({"consents": []}, [])
    assert answered.reason is not None and answered.reason.startswith("the consent export is ")


def test_an_export_exactly_at_the_limit_is_carried(monkeypatch: pytest.MonkeyPatch) -> None:
    export = {"k": "v"}
    monkeypatch.setattr(rights, "MAX_EXPORT_CHARS", len(json.dumps(export)))
    assert rights.Answering(opened("access"), "audit", NOW).with_export(export, []).outcome == "done"


def test_done_when_something_was_done_and_not_applicable_otherwise() -> None:
    answering = rights.Answering(opened("erasure"), "interaction", NOW)
    erased = rights.erased("interactions", 2)
    assert answering.with_actions([erased]).outcome == "done"
    assert answering.with_actions([erased]).actions == [erased]
    assert answering.with_actions([]).outcome == "not-applicable"
    nothing = answering.not_applicable()
    assert nothing.outcome == "not-applicable" and nothing.actions == [] and nothing.export is None


def test_the_answer_unit_stages_the_erasure_and_the_answer_from_the_domain() -> None:
    answered = rights.Answering(opened("erasure"), "position", NOW).with_actions([rights.erased("rows", 1)])
    staged: list[list[str]] = []
    uow = rights.Answer(answered, ["row-1"]).unit("00-trace-01", lambda unit, plan: staged.append(plan))
    assert staged == [["row-1"]]
    (op,) = uow._ops
    record = op.item
    assert isinstance(record, OutboxRecord) and op.tag == "outbox"
    assert record.type == "es.madrid.pic.rgpd.domain.answered.v1" and record.source.endswith("/position")
    assert record.subject == "c-ana" and record.traceparent == "00-trace-01"
    assert json.loads(record.data)["outcome"] == "done"


def test_an_answer_without_erasure_stages_only_the_answer() -> None:
    answered = rights.Answering(opened("access"), "audit", NOW).not_applicable()
    uow = rights.Answer[list[str]](answered).unit(None, lambda unit, plan: pytest.fail("nothing to erase"))
    assert len(uow) == 1


# ---- retention and the actions --------------------------------------------------------------------------


def test_the_legal_basis_carries_its_source() -> None:
    decision = {"legal_basis": "RGPD art. 17.3.b", "legal_source": "LOPDGDD arts. 72-74"}
    assert rights.legal_basis(decision) == "RGPD art. 17.3.b (LOPDGDD arts. 72-74)"
    assert rights.legal_basis({"legal_basis": "RGPD art. 17.3.b"}) == "RGPD art. 17.3.b"


def test_what_no_rule_covers_is_kept_for_review_with_the_reasons() -> None:
    decision = {"legal_basis": None, "reasons": ["no rule for category x", "no date"]}
    assert rights.legal_basis(decision) == "kept for review: no rule for category x; no date"


def test_the_legal_basis_fits_the_event() -> None:
    basis = rights.legal_basis({"legal_basis": "b" * 400, "legal_source": "s" * 400})
    assert len(basis) == rights.MAX_LEGAL_BASIS
    DomainAction(what="x", count=1, result="kept", legal_basis=basis)  # validates


def test_kept_says_until_when_the_period_ends() -> None:
    decision = {"keep_until": "2029-03-02T09:00:00Z", "legal_basis": "RGPD art. 7.1"}
    action = rights.kept("consent proofs", 2, decision)
    assert (action.what, action.count, action.result) == ("consent proofs, kept until 2029-03-02T09:00:00Z", 2, "kept")
    assert action.legal_basis == "RGPD art. 7.1"
    worded = rights.kept("log entries", 3, decision, until="{what}, the last until {until}")
    assert worded.what == "log entries, the last until 2029-03-02T09:00:00Z"
    assert rights.kept("the flag", 1, {"keep_until": None, "legal_basis": "RGPD art. 18"}).what == "the flag"


def test_erased_and_exported_need_no_legal_basis() -> None:
    assert rights.erased("subscriptions", 3) == DomainAction(what="subscriptions", count=3, result="erased")
    counts = {"consents": 2, "flags": 1}
    assert [(a.what, a.count, a.result, a.legal_basis) for a in rights.exported(counts)] == [
        ("consents", 2, "exported", None),
        ("flags", 1, "exported", None),
    ]


def test_an_export_is_plain_json_with_iso_dates() -> None:
    data = {"at": NOW, "nested": [{"when": NOW}], "n": 1}
    assert rights.json_ready(data) == {"at": NOW.isoformat(), "nested": [{"when": NOW.isoformat()}], "n": 1}


def test_retention_asks_the_real_policy_per_record() -> None:
    policy = EmbeddedPolicy(PolicyBundle.load(ROOT / "policies"))
    recent = rights.retention(policy, "consent", "consent-proofs", NOW, {"recorded_at": NOW.isoformat()})
    assert recent["erase"] is False and str(recent["keep_until"]).startswith("2029-03-02")
    assert "RGPD art. 7.1" in rights.legal_basis(recent)
    old = (NOW - timedelta(days=5 * 365)).isoformat()
    assert rights.retention(policy, "consent", "consent-proofs", NOW, {"recorded_at": old})["erase"] is True
    assert rights.retention(policy, "consent", "preferences", NOW)["erase"] is True


# ---- erasure in several units -------------------------------------------------------------------------


def test_deletions_that_fit_go_with_the_answer() -> None:
    before, final = rights.split_deletions(list(range(5)), room=5)
    assert before == [] and final == [0, 1, 2, 3, 4]


def test_the_last_deletions_go_with_the_answer_and_the_first_in_earlier_units() -> None:
    before, final = rights.split_deletions(list(range(25)), room=4, unit=10)
    assert final == [21, 22, 23, 24]
    assert before == [list(range(10)), list(range(10, 20)), [20]]


def test_a_step_is_never_split_across_units() -> None:
    steps = ["a", "bbb", "cc", "dddd", "e"]
    before, final = rights.split_deletions(steps, room=3, size=len, unit=5)
    assert final == ["e"]  # "dddd" does not fit beside it
    assert before == [["a", "bbb"], ["cc"], ["dddd"]]
    assert all(sum(map(len, group)) <= 5 for group in before)
    assert [s for group in before for s in group] + final == steps


def test_no_deletions_no_units() -> None:
    assert rights.split_deletions([], room=90) == ([], [])


def test_the_earlier_units_are_committed_before_the_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    log: list[tuple[str, Any]] = []

    class Unit(UnitOfWork):
        def commit(self, token: str | None = None) -> None:
            log.append(("commit", id(self)))

    monkeypatch.setattr(rights, "UnitOfWork", Unit)
    answer_unit = UnitOfWork()
    rights.stage_deletions(
        answer_unit, list(range(7)), lambda unit, n: log.append((f"stage {n}", id(unit))), room=3, unit=2
    )

    units = [unit for what, unit in log if what.startswith("stage")]
    assert units[4:] == [id(answer_unit)] * 3  # 4, 5 and 6 go with the answer
    assert log[:6] == [
        ("stage 0", units[0]),
        ("stage 1", units[0]),
        ("commit", units[0]),
        ("stage 2", units[2]),
        ("stage 3", units[2]),
        ("commit", units[2]),
    ]
    assert units[0] != units[2] != id(answer_unit)


def test_a_uniform_erasure_stages_its_deletions_beside_the_answer() -> None:
    erasure = rights.Erasure(erased=["a", "b"], actions=[rights.erased("rows", 2)])
    staged: list[str] = []
    erasure.stage(UnitOfWork(), lambda unit, row: staged.append(row))
    assert staged == ["a", "b"]


# ---- restriction and objection --------------------------------------------------------------------


def test_a_restriction_waits_until_the_flag_is_projected() -> None:
    request = opened("restriction")
    with pytest.raises(ConflictError, match="the restriction of request rgpd-1 is not projected yet"):
        rights.restriction(request, False, None, "restricted", "lifted")
    with pytest.raises(ConflictError):  # a flag older than the request is not its projection
        rights.restriction(request, False, NOW - timedelta(seconds=1), "restricted", "lifted")
    (action,) = rights.restriction(request, True, NOW, "restricted", "lifted")
    assert (action.what, action.count, action.result, action.legal_basis) == (
        "restricted",
        1,
        "restricted",
        "RGPD art. 18",
    )


def test_a_restriction_already_in_force_needs_no_wait_and_a_lift_says_so() -> None:
    (action,) = rights.restriction(opened("restriction"), True, NOW - timedelta(days=1), "restricted", "lifted")
    assert action.what == "restricted"
    lift = opened("restriction", lift=True)
    with pytest.raises(ConflictError):
        rights.restriction(lift, True, NOW - timedelta(days=1), "restricted", "lifted")
    (lifted,) = rights.restriction(lift, True, NOW, "restricted", "lifted")  # projected: answered as asked
    assert lifted.what == "lifted" and lifted.result == "restricted"


def test_an_objection_waits_for_its_flags_unless_in_force() -> None:
    request = opened("objection", purposes=["surveys"])
    with pytest.raises(ConflictError, match="the objection of request rgpd-1"):
        rights.wait_for_flags(request, None, in_force=False)
    rights.wait_for_flags(request, None, in_force=True)
    rights.wait_for_flags(request, NOW, in_force=False)


# ---- what every domain keeps outside its own tables ---------------------------------------------------------


def test_a_kept_action_names_the_retention_category_it_was_decided_on() -> None:
    policy = EmbeddedPolicy(PolicyBundle.load(ROOT / "policies"))
    decision = rights.retention(policy, "consent", "consent-proofs", NOW, {"recorded_at": NOW.isoformat()})
    assert decision["category"] == "consent-proofs"
    assert rights.kept("consent proofs", 2, decision).category == "consent-proofs"
    assert rights.erased("preferences", 1, "preferences").category == "preferences"


def test_every_erasure_lists_the_outbox_rows_and_request_replays_kept_until_their_ttl() -> None:
    # GIVEN a domain that erased something about the person
    policy = EmbeddedPolicy(PolicyBundle.load(ROOT / "policies"))
    erased = rights.erased("interactions", 2, "interactions")

    # WHEN its erasure answer is built
    actions = rights.erasure_actions([erased], policy, "interaction", NOW)

    # THEN it also says what it keeps until the store removes it: not counted (not indexed by person), with the
    # TTLs the code sets, on the retention policy's legal basis
    assert actions[0] == erased
    outbox, replays = actions[1:]
    assert (outbox.result, outbox.count, outbox.category) == ("kept", None, "outbox-events")
    assert "7 days after it was written" in outbox.what
    assert (replays.result, replays.count, replays.category) == ("kept", None, "request-replays")
    assert "48 hours after it was written" in replays.what
    assert all(a.legal_basis and "without undue delay" in a.legal_basis for a in (outbox, replays))


def test_an_erasure_of_nothing_held_lists_nothing_in_transit() -> None:
    policy = EmbeddedPolicy(PolicyBundle.load(ROOT / "policies"))
    assert rights.erasure_actions([], policy, "audit", NOW) == []
    answering = rights.Answering(opened("erasure"), "audit", NOW)
    assert answering.with_actions(rights.erasure_actions([], policy, "audit", NOW)).outcome == "not-applicable"
