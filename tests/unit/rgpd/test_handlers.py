"""The data-subject-rights use cases (``functions.rgpd.handlers``) on in-memory fakes of their ports: what each
stages at the clock's time, the art. 12.3 deadline at month ends, one extension, answers folded into the
request (and refused when they do not belong), the completion announced once, the flags, and lost races
decided again. No DynamoDB, no HTTP: milliseconds."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import pytest

from events.rgpd import RgpdDomainAnswered
from functions.core.errors import InvalidEventError, LostRaceError
from functions.core.policy import EmbeddedPolicy
from functions.core.retry import retry_on_conflict
from functions.core.store import Staged, UnitOfWork
from functions.core.terms import Terms
from functions.rgpd import handlers, service
from functions.rgpd.handlers import RgpdPorts
from functions.rgpd.service import ExtendDeadline, OpenRequest, PurposeTerms, Requester, RgpdRequest
from tests.unit.fakes import FixedClock, events_in
from tests.unit.rgpd.fakes import FakeRgpdStore

T = TypeVar("T")
MADRID = ZoneInfo("Europe/Madrid")
CITIZEN_ID = "c-0001"
ME = Requester("citizen", CITIZEN_ID)
AGENT = "agent-7"
T0 = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
OPENED = "es.madrid.pic.rgpd.request.opened.v1"
FLAGS = "es.madrid.pic.rgpd.flags.changed.v1"
EXTENDED = "es.madrid.pic.rgpd.request.extended.v1"
COMPLETED = "es.madrid.pic.rgpd.request.completed.v1"


@pytest.fixture
def store() -> FakeRgpdStore:
    return FakeRgpdStore()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


@pytest.fixture
def ports(store: FakeRgpdStore, clock: FixedClock, terms: Terms, policy: EmbeddedPolicy) -> RgpdPorts:
    return RgpdPorts(store=store, policy=policy, terms=PurposeTerms.published(terms), clock=clock)


def committed(store: FakeRgpdStore, staged: Staged[T]) -> T:
    store.commit(staged.unit)
    return staged.result


def open_request(ports: RgpdPorts, right: str = "access", **details: Any) -> Staged[RgpdRequest]:
    return handlers.open_request(OpenRequest(CITIZEN_ID, right, details, ME), ports, traceparent=None)


def answered(request: RgpdRequest, domain: str, outcome: str = "done", **changes: Any) -> RgpdDomainAnswered:
    data = {
        "request_id": request.request_id,
        "citizen_id": request.citizen_id,
        "domain": domain,
        "outcome": outcome,
        "answered_at": T0,
        "reason": "the store timed out" if outcome == "failed" else None,
    }
    return RgpdDomainAnswered.model_validate({**data, **changes})


def record(ports: RgpdPorts, data: RgpdDomainAnswered, source: str | None = None, event_id: str = "e-1") -> UnitOfWork:
    return handlers.record_answer(data, source or f"/pic/{data.domain}", event_id, ports, traceparent=None)


def until_committed(store: FakeRgpdStore, step: Callable[[], UnitOfWork]) -> None:
    """What the kernel does with a use case (``ctx.run``, ``EventFunction``): commit, and decide again on a
    lost race."""
    retry_on_conflict(lambda: store.commit(step()), backoff=0)


# ---- opening a request --------------------------------------------------------------------------------


def test_opening_a_request_stages_it_and_its_fan_out_at_the_clocks_time(ports: RgpdPorts, store: FakeRgpdStore) -> None:
    # GIVEN a citizen WHEN they ask for a copy of their data
    staged = open_request(ports, note="everything, please")

    # THEN the unit holds the request and one request.opened to every domain that holds personal data
    request = staged.result
    ((kind, data),) = events_in(staged.unit)
    assert kind == OPENED and data["request_id"] == request.request_id
    assert data["details"] == {"note": "everything, please"}
    assert request.opened_at == T0 and request.domains == service.expected_domains() and request.requested_by == ME

    # AND committed, the request is the citizen's, in progress
    committed(store, staged)
    (listed,) = handlers.requests_of(CITIZEN_ID, ports)
    assert (listed["request_id"], listed["status"], listed["overdue"]) == (request.request_id, "in-progress", False)


@pytest.mark.parametrize(
    ("received", "due"),
    [
        (datetime(2026, 1, 31, 10, tzinfo=MADRID), date(2026, 3, 2)),  # no 31 February; Sat 28 Feb → Mon 2 March
        (datetime(2028, 1, 31, 10, tzinfo=MADRID), date(2028, 2, 29)),  # leap year: Tuesday 29 February
        (datetime(2026, 3, 31, 10, tzinfo=MADRID), date(2026, 4, 30)),  # no 31 April: Thursday 30 April
        (datetime(2026, 8, 31, 10, tzinfo=MADRID), date(2026, 9, 30)),  # no 31 September: Wednesday 30
        (datetime(2026, 4, 30, 23, 30, tzinfo=UTC), date(2026, 6, 1)),  # already 1 May in Madrid; Mon 1 June
    ],
)
def test_the_deadline_at_a_months_end_follows_regulation_1182_71(
    ports: RgpdPorts, clock: FixedClock, received: datetime, due: date
) -> None:
    # GIVEN the clock at the moment the request is received
    clock.at = received.astimezone(UTC)

    # WHEN the request is opened
    staged = open_request(ports, "erasure")

    # THEN it is due at the end of the expected day in Madrid (same date next month, or that month's last
    # day; a weekend moves it to Monday), in the request and in the event that fans it out
    end = datetime(due.year, due.month, due.day, 23, 59, 59, tzinfo=MADRID)
    ((_, data),) = events_in(staged.unit)
    assert staged.result.due_at == end and datetime.fromisoformat(data["due_at"]) == end


def test_a_birth_date_is_in_the_future_by_the_clocks_date_in_madrid(ports: RgpdPorts, clock: FixedClock) -> None:
    # GIVEN 1 March 23:30 UTC, already 2 March in Madrid
    clock.at = datetime(2026, 3, 1, 23, 30, tzinfo=UTC)

    # THEN a person born on 2 March may be rectified to it; 3 March is in the future
    assert open_request(ports, "rectification", fields={"birth_date": "2026-03-02"}).result.right == "rectification"
    with pytest.raises(service.RgpdRequestInvalidError) as refused:
        open_request(ports, "rectification", fields={"birth_date": "2026-03-03"})
    assert [e["field"] for e in refused.value.errors or []] == ["fields.birth_date"]


def test_an_invalid_request_stages_nothing(ports: RgpdPorts, store: FakeRgpdStore) -> None:
    # WHEN a citizen objects to a purpose resting on a legal obligation THEN it is refused, naming the field
    with pytest.raises(service.RgpdRequestInvalidError) as refused:
        open_request(ports, "objection", purposes=["service-notifications"])
    assert [e["code"] for e in refused.value.errors or []] == ["not_objectable"]
    assert store.requests == {} and store.ledger.pending == {}


# ---- restriction and objection: the flags ----------------------------------------------------------------


def test_a_restriction_changes_the_flags_and_lifting_it_changes_them_back(
    ports: RgpdPorts, store: FakeRgpdStore, clock: FixedClock
) -> None:
    # WHEN a citizen asks for restriction (art. 18.1.a)
    staged = open_request(ports, "restriction", grounds="accuracy-contested")

    # THEN the flags change in the same unit as the request, and every domain is told
    assert [kind for kind, _ in events_in(staged.unit)] == [OPENED, FLAGS]
    assert events_in(staged.unit)[1][1]["restricted"] is True
    committed(store, staged)
    assert handlers.flags_of(CITIZEN_ID, ports).restricted

    # AND asking again changes nothing: no flags event
    again = open_request(ports, "restriction", grounds="unlawful-processing")
    assert [kind for kind, _ in events_in(again.unit)] == [OPENED]
    committed(store, again)

    # AND lifting it (art. 18.3) clears the flag, at the clock's time
    clock.advance(days=2)
    committed(store, open_request(ports, "restriction", grounds="accuracy-contested", lift=True))
    flags = handlers.flags_of(CITIZEN_ID, ports)
    assert not flags.restricted and flags.changed_at == T0 + timedelta(days=2)


def test_two_requests_racing_for_the_flags_are_decided_again_and_both_stand(
    ports: RgpdPorts, store: FakeRgpdStore
) -> None:
    # GIVEN two objections decided on the same flags (two channels at once)
    surveys = open_request(ports, "objection", purposes=["surveys"])
    campaigns = open_request(ports, "objection", purposes=["campaigns"])
    committed(store, surveys)

    # WHEN the second commits THEN it lost the race: nothing of it is written, not even its request
    with pytest.raises(LostRaceError):
        store.commit(campaigns.unit)
    assert list(store.requests) == [surveys.result.request_id]

    # AND decided again (the kernel's retry), both objections stand, each request with its own event
    def attempt() -> UnitOfWork:
        staged = open_request(ports, "objection", purposes=["campaigns"])
        assert events_in(staged.unit)[1][1]["objections"] == ["campaigns", "surveys"]
        return staged.unit

    until_committed(store, attempt)
    assert handlers.flags_of(CITIZEN_ID, ports).objections == ("campaigns", "surveys")
    assert len(handlers.requests_of(CITIZEN_ID, ports)) == 2


# ---- extending the deadline ---------------------------------------------------------------------------


def test_an_agent_extends_the_deadline_once_within_the_first_month(
    ports: RgpdPorts, store: FakeRgpdStore, clock: FixedClock
) -> None:
    # GIVEN a request opened on 31 January 2026 (due Monday 2 March)
    clock.at = datetime(2026, 1, 31, 10, tzinfo=MADRID).astimezone(UTC)
    request = committed(store, open_request(ports, "access"))

    # WHEN an agent extends it ten days later
    clock.advance(days=10)
    cmd = ExtendDeadline(request.request_id, "twelve archives to search", AGENT)
    staged = handlers.extend_deadline(cmd, ports, None)

    # THEN it is due three months from receipt (30 April 2026, a Thursday), and the person is told why
    ((kind, data),) = events_in(staged.unit)
    assert kind == EXTENDED and data["reason"] == "twelve archives to search"
    assert staged.result["due_at"] == datetime(2026, 4, 30, 23, 59, 59, tzinfo=MADRID)
    assert staged.result["extension"]["by"] == AGENT and staged.result["extension"]["at"] == clock.at
    committed(store, staged)

    # AND a second extension is refused (art. 12.3 allows one)
    with pytest.raises(service.ExtensionRefusedError, match="already extended"):
        handlers.extend_deadline(cmd, ports, None)


def test_an_extension_after_the_first_month_is_refused(
    ports: RgpdPorts, store: FakeRgpdStore, clock: FixedClock
) -> None:
    request = committed(store, open_request(ports, "erasure"))
    clock.at = request.due_at + timedelta(seconds=1)
    with pytest.raises(service.ExtensionRefusedError, match="within one month"):
        handlers.extend_deadline(ExtendDeadline(request.request_id, "too late to ask", AGENT), ports, None)


def test_extending_a_request_that_does_not_exist_is_not_found(ports: RgpdPorts) -> None:
    with pytest.raises(service.RgpdRequestNotFoundError):
        handlers.extend_deadline(ExtendDeadline("rgpd-nope", "no such request", AGENT), ports, None)


def test_an_extension_that_lost_to_an_answer_is_decided_again_on_it(
    ports: RgpdPorts, store: FakeRgpdStore, clock: FixedClock
) -> None:
    # GIVEN an extension and a domain's answer decided on the same request
    request = committed(store, open_request(ports, "access"))
    cmd = ExtendDeadline(request.request_id, "twelve archives to search", AGENT)
    extension = handlers.extend_deadline(cmd, ports, None)
    store.commit(record(ports, answered(request, "consent")))

    # WHEN the extension commits THEN it lost; decided again, it keeps the answer and extends the deadline
    with pytest.raises(LostRaceError):
        store.commit(extension.unit)
    until_committed(store, lambda: handlers.extend_deadline(cmd, ports, None).unit)
    view = handlers.view_request(handlers.request_of(request.request_id, ports), ports)
    assert view["extension"] is not None and "consent" not in view["pending_domains"]


# ---- the domains' answers -------------------------------------------------------------------------------


def test_an_answer_is_recorded_with_its_proof_and_the_last_one_completes_the_request_once(
    ports: RgpdPorts, store: FakeRgpdStore, clock: FixedClock
) -> None:
    # GIVEN an erasure request every domain must answer
    request = committed(store, open_request(ports, "erasure"))
    *first, last = request.domains

    # WHEN all but one answer THEN the request is in progress, waiting for the last, and nothing is announced
    for i, domain in enumerate(first):
        unit = record(ports, answered(request, domain), event_id=f"e-{i}")
        assert events_in(unit) == []
        store.commit(unit)
    view = handlers.view_request(request, ports)
    assert (view["status"], view["pending_domains"]) == ("in-progress", [last])
    assert view["domains"][0]["proof"] == {"event_source": f"/pic/{first[0]}", "event_id": "e-0"}

    # WHEN the last answers, an hour later
    clock.advance(hours=1)
    unit = record(ports, answered(request, last, "not-applicable"), event_id="e-last")

    # THEN the request completes then, and rgpd.request.completed says when each domain answered
    ((kind, data),) = events_in(unit)
    assert kind == COMPLETED and set(data["answered"]) == set(request.domains) and data["export"] is None
    store.commit(unit)
    stored = handlers.request_of(request.request_id, ports)
    assert (stored.status, stored.completed_at) == ("completed", clock.at)

    # AND the answer delivered again stages nothing: no second completion
    assert len(record(ports, answered(request, last, "not-applicable"), event_id="e-last")) == 0


def test_a_failed_answer_needs_action_until_the_domain_answers_again(ports: RgpdPorts, store: FakeRgpdStore) -> None:
    request = committed(store, open_request(ports, "access"))
    for domain in request.domains:
        store.commit(record(ports, answered(request, domain, "failed" if domain == "position" else "done")))
    view = handlers.view_request(request, ports)
    assert (view["status"], view["failed_domains"]) == ("action-required", ["position"])
    assert view["domains"][request.domains.index("position")]["reason"] == "the store timed out"

    # WHEN the domain answers again THEN its answer replaces the failure and completes the request
    unit = record(ports, answered(request, "position"), event_id="e-2")
    assert [kind for kind, _ in events_in(unit)] == [COMPLETED]
    store.commit(unit)
    assert handlers.view_request(request, ports)["status"] == "completed"


@pytest.mark.parametrize(
    ("domain", "source", "message"),
    [
        ("consent", "/pic/position", "answers from /pic/consent"),  # another domain speaking for it
        ("consent", "/legacy/padron", "answers from /pic/consent"),
        ("no-such-domain", "/pic/no-such-domain", "not among the domains"),
    ],
)
def test_an_answer_from_a_source_that_is_not_the_domain_is_refused(
    ports: RgpdPorts, store: FakeRgpdStore, domain: str, source: str, message: str
) -> None:
    request = committed(store, open_request(ports, "erasure"))
    with pytest.raises(InvalidEventError, match=message):
        record(ports, answered(request, domain), source=source)
    assert store.answers == {}


def test_an_answer_to_no_known_request_is_refused(ports: RgpdPorts, store: FakeRgpdStore) -> None:
    request = open_request(ports, "erasure").result  # never committed
    with pytest.raises(InvalidEventError, match="no data-subject request"):
        record(ports, answered(request, "consent"))


def test_two_answers_racing_for_the_request_complete_it_exactly_once(ports: RgpdPorts, store: FakeRgpdStore) -> None:
    # GIVEN every domain but two has answered
    request = committed(store, open_request(ports, "erasure"))
    *first, one, other = request.domains
    for domain in first:
        store.commit(record(ports, answered(request, domain)))

    # WHEN the last two answers are decided at once, neither sees the other: neither completes the request
    mine, theirs = record(ports, answered(request, one)), record(ports, answered(request, other))
    assert events_in(mine) == events_in(theirs) == []
    store.commit(mine)
    with pytest.raises(LostRaceError):
        store.commit(theirs)

    # THEN the loser, decided again on the winner's fold, completes it: one completion, every domain in it
    published: list[str] = []

    def attempt() -> UnitOfWork:
        unit = record(ports, answered(request, other))
        published[:] = [kind for kind, _ in events_in(unit)]
        return unit

    until_committed(store, attempt)
    assert published == [COMPLETED]
    assert handlers.request_of(request.request_id, ports).status == "completed"


# ---- views and the export --------------------------------------------------------------------------


def test_a_request_unanswered_past_its_deadline_shows_overdue(
    ports: RgpdPorts, store: FakeRgpdStore, clock: FixedClock
) -> None:
    request = committed(store, open_request(ports, "access"))
    clock.at = request.due_at + timedelta(seconds=1)
    assert handlers.view_request(request, ports)["overdue"] is True
    assert handlers.requests_of(CITIZEN_ID, ports)[0]["overdue"] is True


def test_the_export_waits_for_every_domain_and_other_rights_have_none(ports: RgpdPorts, store: FakeRgpdStore) -> None:
    request = committed(store, open_request(ports, "access"))
    store.commit(record(ports, answered(request, "consent", export={"mode": "b"})))
    with pytest.raises(service.ExportNotReadyError, match=r"pending: (.*, )?audit"):
        handlers.assemble_export(request, ports)
    erasure = committed(store, open_request(ports, "erasure"))
    with pytest.raises(service.ExportNotReadyError, match="has no export"):
        handlers.assemble_export(erasure, ports)


def test_the_export_holds_every_domains_data_as_received_and_this_domains_own(
    ports: RgpdPorts, store: FakeRgpdStore, clock: FixedClock
) -> None:
    # GIVEN an objection (flags) and an access request every domain answered, consent with its data
    committed(store, open_request(ports, "objection", purposes=["surveys"]))
    request = committed(store, open_request(ports, "access"))
    consents = {"mode": "b", "proofs": [{"purpose": "surveys", "granted": False}]}
    for domain in request.domains:
        store.commit(record(ports, answered(request, domain, export=consents if domain == "consent" else {})))

    # WHEN the export is assembled
    clock.advance(minutes=5)
    made = handlers.assemble_export(request, ports)

    # THEN the zip's JSON holds consent's data verbatim, and this domain's requests and flags
    assert made.filename == f"pic-rgpd-access-{request.request_id}.zip"
    archive = zipfile.ZipFile(io.BytesIO(made.body))
    document = json.loads(archive.read("export.json"))
    assert document["domains"]["consent"]["data"] == consents
    own = document["domains"]["rgpd"]["data"]
    assert own["flags"]["objections"] == ["surveys"] and len(own["requests"]) == 2
    assert {"consent/proofs.csv", "rgpd/requests.csv"} <= set(archive.namelist())

    # AND a stored export that is not what was received is refused, not served
    store.exports[(request.request_id, "consent")] = ['{"mode":"a"}']
    with pytest.raises(ValueError, match="SHA-256"):
        handlers.assemble_export(request, ports)
