"""CPU time per operation, in process, on fake ports: the ceiling one core gives (issue 12 §5).

Each operation runs a domain's use case (``functions/<domain>/handlers.py``) the way its entry point runs it,
on the in-memory fakes its unit tests use (``tests/unit/<domain>/fakes.py`` over the shared ``Ledger``, a
``FixedClock``) and on the REAL policy engine, built as the functions' ``bootstrap`` builds it
(``functions.core.policy.get_policy``: regorus embedded, ``policies/`` and their data). The policy is part of
what a request costs, so an HTTP command or question includes the kernel's ``policies/authz`` decision for its
route's ``action`` (the question ``HttpFunction._authorize`` asks), and a use case that asks a policy of its
own (the position read, the contact decision, a notification's channel) asks it here too.

One operation is: the authorisation decision (HTTP routes only), the handler deciding and staging its unit of
work, and the fake store committing it (the ``Ledger``'s version checks and applies), with the writes the
handler commits ahead of its unit (a delivery's claim, a fan-out's batches) and, for a delivery, the channel
taking the message (a fake e-mail provider; the real in-app adapter, into the fake store). Not included: HTTP,
parsing and serialising the body, the idempotency or dedupe record, the access-log write, DynamoDB and its
SDK, the provider's network call. So the figure is the code's own CPU per operation, and 1 s / mean is the
most one core could do if the store and the network cost nothing: a ceiling, not a capacity plan.

Every operation acts on its own ids (operation ``i`` is citizen ``i``, record ``i``, request ``i``, alert ``i``,
bulk job ``i``), so it does the real work: no dedupe no-op, no policy memo hit for ``authz`` or ``position``
where their input names the citizen. A decision whose input names no one is the memo's after the first, as in
production: ``policies/consent`` for the contact decision, ``authz`` for ``POST /v1/notifications`` (a system
on a platform route), and ``policies/notifications`` (citizens alike in the same minute share one choice,
which is what makes a fan-out cheap). The state an operation needs (a golden record to join, an open review, a
request to answer, a notification to deliver, a stored chunk, an alert's page) is prepared before the clock
starts. Decision log lines are formatted and written as production does at INFO (into ``/dev/null``).

Adding a domain is one ``Operation`` per use case in ``OPERATIONS``. ``python -m bench.cpu [N]`` prints the
figures and records them in ``docs/benchmarks.md``; ``make bench`` runs it too.
"""

from __future__ import annotations

import gc
import logging
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from bench.stats import record_section
from events.citizen import CitizenRecordUpserted
from events.consent import Actor, Preferences, QuietHours
from events.interaction import InteractionRecorded
from events.notification import AlertPageReady, AlertPublished, Recipient
from events.payment import FineIssued
from events.position import PositionItemUpserted
from events.rgpd import RgpdDomainAnswered
from events.zbe import VehicleRegistered
from functions.audit.handlers import AuditPorts, ReadAccessLog, read_access_log
from functions.citizen import handlers as c360
from functions.citizen.handlers import CitizenPorts
from functions.citizen.matching import load_model
from functions.consent import handlers as consent
from functions.consent.handlers import ConsentPorts
from functions.consent.service import ChangeConsent
from functions.core.audit import AccessRecord, Reader
from functions.core.auth import Subject
from functions.core.logging import get_logger
from functions.core.policy import Decision, EmbeddedPolicy, Policy, get_policy, log_decision
from functions.core.store import UnitOfWork
from functions.core.terms import Terms, load_terms
from functions.interaction import handlers as interaction
from functions.interaction.handlers import InteractionPorts, RecordInteraction
from functions.notification import handlers as notification
from functions.notification import service as notification_service
from functions.notification.bulk import CHUNK_MIN
from functions.notification.handlers import NotificationPorts, PutTemplate, SubmitBulk
from functions.notification.service import NotificationRequest, Subscription
from functions.payment import handlers as payment
from functions.payment.handlers import PaymentPorts
from functions.position import handlers as position
from functions.position.handlers import PositionPorts, ReadPosition
from functions.recommend import handlers as recommend
from functions.recommend.handlers import RecommendPorts
from functions.recommend.service import Profile
from functions.rgpd import handlers as rgpd
from functions.rgpd.handlers import RgpdPorts
from functions.rgpd.service import OpenRequest, PurposeTerms, Requester
from seed.city import CityConfig, Document, PeopleFactory, Person, dni_check_letter
from tests.unit.audit.fakes import FakeAccessLog
from tests.unit.citizen.fakes import FakeCitizenStore
from tests.unit.consent.fakes import FakeConsentStore
from tests.unit.fakes import FixedClock, Ledger, events_in
from tests.unit.interaction.fakes import FakeInteractionStore
from tests.unit.notification.fakes import FakeNotificationStore, fake_ports
from tests.unit.payment.fakes import TEST_GATEWAY, FakePaymentStore, FakeRefunds
from tests.unit.position.fakes import FakePositionStore
from tests.unit.position.samples import linked
from tests.unit.recommend.fakes import FakeRecommendStore
from tests.unit.rgpd.fakes import FakeRgpdStore

REPORT = Path("docs/benchmarks.md")
TITLE = "## CPU per operation (fake ports)"
T0 = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
CLERK = Subject("agent-7", "agent", 2, "hacienda")
REVIEWER = Subject("agent-3", "agent", 3, "atencion-ciudadania")
DESK = Subject("agent-5", "agent", 1, "atencion-ciudadania")
PURPOSE = "EXP-2026-1"  # an agent's stated purpose (Access-Purpose)
PADRON, TRIBUTOS, MULTAS = "/legacy/padron", "/legacy/tributos", "/legacy/multas"
N = 2000  # timed operations per use case
WARMUP = 200  # run first, not timed: caches, the policy VM, the allocator

Step = Callable[[int], int]
"""Operation ``i``, timed: returns its work (writes staged and committed; or items a question answered or a
fan-out wrote)."""


@dataclass(frozen=True)
class Context:
    """What every operation shares: the real policy engine and terms, and how many operations to prepare."""

    policy: EmbeddedPolicy
    terms: Terms
    count: int


@dataclass(frozen=True)
class Operation:
    domain: str
    name: str
    prepare: Callable[[Context], Step]  # fake ports and the state ``count`` operations need (not timed)
    work: str = "writes"  # what the step's number counts: "writes" staged, or "items" answered or fanned out


@dataclass(frozen=True)
class Result:
    operation: Operation
    samples_ns: list[int]
    work: int  # summed over the timed runs: zero means the bench measured nothing

    @property
    def p50_us(self) -> float:
        return statistics.median(self.samples_ns) / 1e3

    @property
    def mean_us(self) -> float:
        return statistics.fmean(self.samples_ns) / 1e3

    @property
    def per_core(self) -> float:
        """Operations per second one core sustains on this CPU alone: throughput follows the mean."""
        return 1e6 / self.mean_us


def authz_question(subject: Subject, action: str, citizen_id: str) -> dict[str, Any]:
    """The kernel's ``policies/authz`` question for a route (``HttpFunction._authorize``)."""
    return {
        "subject": subject.as_policy_input(),
        "action": action,
        "purpose": None if subject.role == "citizen" else PURPOSE,
        "resource": {"citizen_id": citizen_id},
    }


def authorize(policy: Policy, subject: Subject, action: str, citizen_id: str) -> None:
    """The kernel's decision for a route; a refusal means the bench set up the wrong caller, which would
    measure a refusal instead of the operation."""
    decision = policy.decide("authz", authz_question(subject, action, citizen_id))
    if not decision.allow:
        raise AssertionError(f"{action} refused to {subject.id}: {decision.reasons}")


class FakeStore(Protocol):
    """What every domain's fake store has: the shared ``Ledger`` its writes are staged on, and its commit."""

    ledger: Ledger

    def commit(self, uow: UnitOfWork) -> None: ...


def committed(store: FakeStore, unit: UnitOfWork) -> int:
    """Commit a unit on the fake store (its version checks, its writes applied); the writes it held: the
    store's items staged on the ledger, and the unit's own (outbox rows)."""
    writes = len(store.ledger.staged(unit)) + len(unit)
    store.commit(unit)
    return writes


def citizen(i: int) -> str:
    return f"c-{i:07d}"


def authz_alone(ctx: Context) -> Step:
    """The kernel's ``policies/authz`` decision by itself (a citizen writing their consent): the share of
    every HTTP operation below that is authorisation."""

    def step(i: int) -> int:
        authorize(ctx.policy, Subject(citizen(i), "citizen"), "consent.write", citizen(i))
        return 1

    return step


def authz_engine(ctx: Context) -> Step:
    """The same decision's regorus evaluation only (no memo look-up, no decision log line)."""

    def step(i: int) -> int:
        result = ctx.policy.evaluate_uncached(
            "authz", authz_question(Subject(citizen(i), "citizen"), "consent.write", citizen(i))
        )
        return int(bool(result["allow"]))

    return step


def decision_logged(ctx: Context) -> Step:
    """The same decision's log line only: the input's canonical hash and the JSON line, as at INFO."""
    allowed = Decision(True, ["A citizen acts on their own record."], {"allow": True})

    def step(i: int) -> int:
        question = authz_question(Subject(citizen(i), "citizen"), "consent.write", citizen(i))
        log_decision("authz", allowed, question, ctx.policy.bundle.version)
        return 1

    return step


# ---- consent ---------------------------------------------------------------------------------------------


def consent_ports(ctx: Context) -> tuple[ConsentPorts, FakeConsentStore]:
    store = FakeConsentStore()
    return ConsentPorts(store=store, policy=ctx.policy, terms=ctx.terms, clock=FixedClock(T0)), store


def give(i: int, purpose: str = "campaigns", channels: tuple[str, ...] = ("email", "sms")) -> ChangeConsent:
    me = Actor(kind="citizen", id=citizen(i))
    return ChangeConsent(citizen(i), purpose, True, channels, "2026-01", "es", me, "app")


def consent_change(ctx: Context) -> Step:
    ports, store = consent_ports(ctx)

    def step(i: int) -> int:
        authorize(ctx.policy, Subject(citizen(i), "citizen"), "consent.write", citizen(i))
        return committed(store, consent.change_consent(give(i), ports, None).unit)

    return step


def preferences_change(ctx: Context) -> Step:
    ports, store = consent_ports(ctx)
    quiet = Preferences(language="es", channels=["email", "sms"], quiet_hours=QuietHours(start="22:00", end="08:00"))

    def step(i: int) -> int:
        me = Actor(kind="citizen", id=citizen(i))
        authorize(ctx.policy, Subject(citizen(i), "citizen"), "preferences.write", citizen(i))
        return committed(store, consent.change_preferences(citizen(i), quiet, me, ports, None).unit)

    return step


def subscription(ctx: Context) -> Step:
    ports, store = consent_ports(ctx)

    def step(i: int) -> int:
        me = Actor(kind="citizen", id=citizen(i))
        authorize(ctx.policy, Subject(citizen(i), "citizen"), "subscriptions.write", citizen(i))
        zone = f"{i % 21 + 1:02d}"  # Madrid's 21 districts
        return committed(store, consent.subscribe(citizen(i), "traffic", zone, me, ports, None).unit)

    return step


def contact_decision(ctx: Context) -> Step:
    """What notifications ask before each message: ``policies/consent`` on the citizen's consents and quiet
    hours (the citizen gave campaigns by e-mail and SMS first)."""
    ports, store = consent_ports(ctx)
    for i in range(ctx.count):
        store.commit(consent.change_consent(give(i), ports, None).unit)

    def step(i: int) -> int:
        authorize(ctx.policy, Subject("notifications", "system"), "contact.decide", citizen(i))
        answer = consent.contact_decision(citizen(i), "campaigns", "sms", None, ports)
        return int(answer.allow)

    return step


# ---- citizen (C360) --------------------------------------------------------------------------------------


def people(count: int) -> list[Person]:
    """``count`` distinct synthetic people with a DNI, as the seed city draws them (names, birth dates,
    contact points, addresses): blocks hold the collisions of real Spanish names, not one repeated person."""
    factory = PeopleFactory(CityConfig(people=4 * count + 8, seed=12))
    chosen: list[Person] = []
    index = 0
    while len(chosen) < count:
        index += 1
        person = factory.person(index)
        if person.document is not None and person.document["type"] == "DNI":
            chosen.append(person)
    return chosen


def dni(person: Person) -> Document:
    """The person's DNI (``people`` draws only people with one)."""
    if person.document is None:
        raise ValueError(f"{person.person_id} has no document")
    return person.document


def record_of(person: Person, local_id: str, document: Document) -> CitizenRecordUpserted:
    return CitizenRecordUpserted.model_validate(
        {
            "local_id": local_id,
            "document": dict(document),
            "given_name": person.given_name,
            "first_surname": person.first_surname,
            "second_surname": person.second_surname,
            "birth_date": person.birth_date.isoformat(),
            "email": person.email,
            "phone": person.mobile,
            "address": dict(person.address),
        }
    )


def padron(person: Person, i: int) -> CitizenRecordUpserted:
    return record_of(person, f"PAD{i:07d}", dni(person))


def c360_ports(ctx: Context) -> tuple[CitizenPorts, FakeCitizenStore]:
    store = FakeCitizenStore()
    return CitizenPorts(store=store, policy=ctx.policy, model=load_model(), clock=FixedClock(T0)), store


def golden_created(ctx: Context) -> Step:
    ports, store = c360_ports(ctx)
    everyone = people(ctx.count)

    def step(i: int) -> int:
        return committed(store, c360.resolve_record(PADRON, padron(everyone[i], i), ports, None))

    return step


def golden_joined(ctx: Context) -> Step:
    """Tributos sends a person the Padrón sent before, with the same DNI: the document decides."""
    ports, store = c360_ports(ctx)
    everyone = people(ctx.count)
    for i, person in enumerate(everyone):
        store.commit(c360.resolve_record(PADRON, padron(person, i), ports, None))

    def step(i: int) -> int:
        person = everyone[i]
        record = record_of(person, f"TRB{i:07d}", dni(person))
        return committed(store, c360.resolve_record(TRIBUTOS, record, ports, None))

    return step


def other_dni(person: Person) -> Document:
    """A valid DNI that is not the person's: the same person twice under two documents opens a review."""
    number = f"{(int(dni(person)['number'][:8]) + 1) % 10**8:08d}"
    return {"type": "DNI", "number": number + dni_check_letter(number)}


def review_decided(ctx: Context) -> Step:
    """An agent decides "match" on an open review (Multas had the person under another valid DNI): the two
    golden records merged, the links moved, the review closed. Includes the route's read of the review."""
    ports, store = c360_ports(ctx)
    reviews: list[str] = []
    for i, person in enumerate(people(ctx.count)):
        store.commit(c360.resolve_record(PADRON, padron(person, i), ports, None))
        unit = c360.resolve_record(MULTAS, record_of(person, f"MUL{i:07d}", other_dni(person)), ports, None)
        (opened,) = [data["match"]["review_id"] for kind, data in events_in(unit) if data.get("match")]
        store.commit(unit)
        reviews.append(opened)

    def step(i: int) -> int:
        review = c360.find_review(reviews[i], ports)
        authorize(ctx.policy, REVIEWER, "citizen.review", review.citizen_id)
        staged = c360.decide_review(review.review_id, "match", REVIEWER.id, ports, None, read=review)
        return committed(store, staged.unit)

    return step


# ---- position --------------------------------------------------------------------------------------------


def fact(i: int, item: str, section: str, area: str, **fields: Any) -> PositionItemUpserted:
    data = {
        "local_id": f"TRB{i:07d}",
        "section": section,
        "item_id": f"{item}-{i}",
        "status": "pending",
        "title": f"{item} {i}",
        "area": area,
        "as_of": T0.isoformat(),
        "amount_eur": "100.00",
        "due_date": "2026-06-30",
        "attributes": {"cadastral_reference": "9872023VK"},
    }
    return PositionItemUpserted.model_validate({**data, **fields})


def position_ports(ctx: Context) -> tuple[PositionPorts, FakePositionStore]:
    store = FakePositionStore()
    return PositionPorts(store=store, policy=ctx.policy, clock=FixedClock(T0 + timedelta(days=1))), store


def fact_projected(ctx: Context) -> Step:
    ports, store = position_ports(ctx)

    def step(i: int) -> int:
        return committed(store, position.project_fact(TRIBUTOS, fact(i, "IBI", "taxes", "hacienda"), ports))

    return step


def position_read(ctx: Context) -> Step:
    """A level-2 Hacienda clerk reads a person's position (a receipt of their area, a fine of another, a
    special-category case): ``authz``, then ``policies/position`` part by part, then the view built."""
    ports, store = position_ports(ctx)
    for i in range(ctx.count):
        store.commit(position.project_link(linked(T0, TRIBUTOS, f"TRB{i:07d}", citizen(i)), ports))
        for item in (
            fact(i, "IBI", "taxes", "hacienda"),
            fact(i, "MUL", "fines", "movilidad", amount_eur="90.00"),
            fact(i, "SS", "cases", "servicios-sociales", special_category=True),
        ):
            store.commit(position.project_fact(TRIBUTOS, item, ports))

    def step(i: int) -> int:
        authorize(ctx.policy, CLERK, "position.read", citizen(i))
        read = position.read_position(ReadPosition(citizen(i), CLERK.as_policy_input(), PURPOSE), ports)
        return len(read.shown_sections)

    return step


# ---- interaction -----------------------------------------------------------------------------------------


def interaction_recorded(ctx: Context) -> Step:
    store = FakeInteractionStore()
    ports = InteractionPorts(store=store, policy=ctx.policy, clock=FixedClock(T0))

    def step(i: int) -> int:
        call = InteractionRecorded.model_validate(
            {
                "interaction_id": f"GC-{i}",
                "citizen_id": citizen(i),
                "channel": {"kind": "call", "direction": "inbound", "line": "010"},
                "area": "hacienda",
                "topic": "Recibo del IBI",
                "started_at": (T0 - timedelta(minutes=5)).isoformat(),
            }
        )
        authorize(ctx.policy, DESK, "interaction.record", citizen(i))
        staged = interaction.record_interaction(RecordInteraction(call, f"agent:{DESK.id}"), ports, None)
        return committed(store, staged.unit)

    return step


# ---- fines and taxes ------------------------------------------------------------------------------------

PAYMENT_DEBTS = 10  # debts of one person read at once: a household's taxes and a few fines


def _fine(i: int, citizen_id: str) -> FineIssued:
    return FineIssued.model_validate(
        {
            "fine_id": f"MUL-{i}",
            "citizen_id": citizen_id,
            "infraction": {"article": "RGC art. 94.2.e", "description": "Estacionar en carga y descarga"},
            "severity": "grave",
            "regime": "traffic",
            "amount_cents": 20000,
            "notified_at": (T0 - timedelta(days=i % 30)).isoformat(),
        }
    )


def debt_recorded(ctx: Context) -> Step:
    store = FakePaymentStore()
    ports = PaymentPorts(
        store=store, policy=ctx.policy, clock=FixedClock(T0), gateway=TEST_GATEWAY, refunds=FakeRefunds()
    )

    def step(i: int) -> int:
        return committed(store, payment.record_debt(_fine(i, citizen(i)), MULTAS, ports))

    return step


def debts_read(ctx: Context) -> Step:
    store = FakePaymentStore()
    ports = PaymentPorts(
        store=store, policy=ctx.policy, clock=FixedClock(T0), gateway=TEST_GATEWAY, refunds=FakeRefunds()
    )
    for i in range(ctx.count):  # each person their own debts: every decision is new to the memo
        for n in range(PAYMENT_DEBTS):
            store.commit(payment.record_debt(_fine(i * PAYMENT_DEBTS + n, citizen(i)), MULTAS, ports))

    def step(i: int) -> int:
        authorize(ctx.policy, Subject(citizen(i), "citizen"), "debt.read", citizen(i))
        return len(payment.citizen_debts(citizen(i), ports))

    return step


# ---- audit -----------------------------------------------------------------------------------------------

LOG_ENTRIES = 60  # reads of one person's data on record: more than a page


def access_log_page(ctx: Context) -> Step:
    """A citizen reads the first page (50 entries) of who read their data."""
    log = FakeAccessLog()
    reader = Reader(id="agente-1", role="agent", level=2, area="hacienda")
    for i in range(ctx.count):
        log.append(
            *(
                AccessRecord(
                    access_id=f"a-{i}-{n}",
                    citizen_id=citizen(i),
                    reader=reader,
                    purpose=PURPOSE,
                    function="pic-position",
                    resource="position",
                    sections=["taxes:detail"],
                    decision="allowed",
                    reasons=["ok"],
                    at=T0 + timedelta(minutes=n),
                )
                for n in range(LOG_ENTRIES)
            )
        )
    ports = AuditPorts(store=log, policy=ctx.policy, clock=FixedClock(T0 + timedelta(days=1)))

    def step(i: int) -> int:
        authorize(ctx.policy, Subject(citizen(i), "citizen"), "access-log.read", citizen(i))
        return len(read_access_log(ReadAccessLog(citizen(i)), ports).entries)

    return step


# ---- rgpd ------------------------------------------------------------------------------------------------


def rgpd_ports(ctx: Context) -> tuple[RgpdPorts, FakeRgpdStore]:
    store = FakeRgpdStore()
    ports = RgpdPorts(store=store, policy=ctx.policy, terms=PurposeTerms.published(ctx.terms), clock=FixedClock(T0))
    return ports, store


def request_opened(ctx: Context) -> Step:
    ports, store = rgpd_ports(ctx)

    def step(i: int) -> int:
        authorize(ctx.policy, Subject(citizen(i), "citizen"), "rgpd.request", citizen(i))
        cmd = OpenRequest(citizen(i), "access", {}, Requester("citizen", citizen(i)))
        return committed(store, rgpd.open_request(cmd, ports, None).unit)

    return step


def answer_folded(ctx: Context) -> Step:
    """The consent domain's answer to an open access request, recorded and folded into the request."""
    ports, store = rgpd_ports(ctx)
    requests = []
    for i in range(ctx.count):
        cmd = OpenRequest(citizen(i), "access", {}, Requester("citizen", citizen(i)))
        staged = rgpd.open_request(cmd, ports, None)
        store.commit(staged.unit)
        requests.append(staged.result)

    def step(i: int) -> int:
        request = requests[i]
        data = RgpdDomainAnswered.model_validate(
            {
                "request_id": request.request_id,
                "citizen_id": request.citizen_id,
                "domain": "consent",
                "outcome": "done",
                "answered_at": T0,
                "export": {"consents": [{"purpose": "campaigns", "granted": True}]},
            }
        )
        return committed(store, rgpd.record_answer(data, "/pic/consent", f"e-{i}", ports, None))

    return step


# ---- notification ----------------------------------------------------------------------------------------

TRIBUTOS_SYSTEM = Subject("sys-tributos", "system")  # an internal system asking for notifications
IBI = PutTemplate(
    "ibi", "service-notifications", {"es": "IBI {{ year }}"}, {"es": "Hola, {{ name }}: su recibo del IBI {{ year }}."},
    "sys-tributos",
)  # fmt: skip
FAN_OUT = 50  # subscribers of an alert page, rows of a bulk chunk: fewer than a full page or chunk holds, so
# that N operations' notifications fit in memory; the cost per message is the mean / FAN_OUT


@dataclass
class NotificationStore(FakeNotificationStore):
    """The unit tests' fake store, also counting the writes committed ahead (a delivery's claim, a fan-out's
    batches): they are the use case's work too, but the handler commits them before it answers its unit."""

    written_ahead: int = 0

    def commit_ahead(self, uow: UnitOfWork) -> None:
        self.written_ahead += len(self.ledger.staged(uow)) + len(uow)
        super().commit_ahead(uow)


def notification_ports(ctx: Context) -> tuple[NotificationPorts, NotificationStore]:
    """Fake store and channels (the real in-app adapter), the real engine and terms, the IBI template saved."""
    store = NotificationStore()
    ports = fake_ports(store, FixedClock(T0), ctx.policy, ctx.terms)
    store.commit(notification.put_template(IBI, ports, None).unit)
    return ports, store


def reachable(store: NotificationStore, citizen_id: str, **parts: Any) -> None:
    """A citizen as the projections hold them: C360's e-mail, and the parts given, as of an hour before."""
    at = T0 - timedelta(hours=1)
    held = notification_service.merge_contacts({}, f"{citizen_id}@example.org", None, at) or {}
    for name, value in parts.items():
        held = notification_service.merge_part(held, name, value, at) or held
    store.profiles[citizen_id] = held


def ibi_for(notification_id: str, citizen_id: str, requested_by: str) -> NotificationRequest:
    personalisation = {"name": "Inés", "year": "2026"}
    return NotificationRequest(notification_id, "ibi", Recipient(citizen_id=citizen_id), personalisation, requested_by)


def written(store: NotificationStore, unit: UnitOfWork) -> int:
    """The writes committed ahead during the operation and those of the unit it answered."""
    ahead, store.written_ahead = store.written_ahead, 0
    return ahead + committed(store, unit)


def notification_posted(ctx: Context) -> Step:
    """``POST /v1/notifications`` to a citizen with an e-mail: the route's ``authz`` (a system on the platform:
    its input names no citizen, so it is the memo's, as in production), then decided, rendered and staged."""
    ports, store = notification_ports(ctx)
    for i in range(ctx.count):
        reachable(store, citizen(i))

    def step(i: int) -> int:
        authorize(ctx.policy, TRIBUTOS_SYSTEM, "notification.send", "")
        req = ibi_for(notification_service.new_notification_id(), citizen(i), TRIBUTOS_SYSTEM.id)
        return committed(store, notification.notify(req, ports, None).unit)

    return step


def notification_requested(ctx: Context) -> Step:
    """``notification.requested`` from Tributos: the same use case, its id derived from the event's."""
    ports, store = notification_ports(ctx)
    for i in range(ctx.count):
        reachable(store, citizen(i))

    def step(i: int) -> int:
        req = ibi_for(notification_service.derived_id("event", TRIBUTOS, f"e-{i}"), citizen(i), TRIBUTOS)
        return committed(store, notification.notify(req, ports, None).unit)

    return step


def accepted_notifications(ctx: Context, **parts: Any) -> tuple[NotificationPorts, NotificationStore, list[str]]:
    """``count`` notifications accepted for as many citizens (with the profile parts given), to deliver."""
    ports, store = notification_ports(ctx)
    ids = []
    for i in range(ctx.count):
        reachable(store, citizen(i), **parts)
        staged = notification.notify(ibi_for(f"ntf-{i:07d}", citizen(i), TRIBUTOS), ports, None)
        store.commit(staged.unit)
        ids.append(staged.result["id"])
    return ports, store, ids


def delivered_by_email(ctx: Context) -> Step:
    """``notification.accepted`` → an e-mail sent through a fake provider: the claim (sending) committed ahead,
    the message sent, the outcome (delivered) and its events staged and committed."""
    ports, store, ids = accepted_notifications(ctx)

    def step(i: int) -> int:
        return written(store, notification.deliver(ids[i], ports, None))

    return step


def delivered_in_app(ctx: Context) -> Step:
    """The same for a citizen who wants the inbox: the message, sending and delivered in one unit, no claim."""
    ports, store, ids = accepted_notifications(ctx, preferences={"channels": ["inapp"]})

    def step(i: int) -> int:
        return written(store, notification.deliver(ids[i], ports, None))

    return step


def consent_projected(ctx: Context) -> Step:
    """``consent.changed``: a citizen's campaigns consent joins the profile C360's e-mail made."""
    ports, store = notification_ports(ctx)
    for i in range(ctx.count):
        reachable(store, citizen(i))
    given = {"granted": True, "channels": ["email", "sms"], "text_version": "2026-01"}

    def step(i: int) -> int:
        return committed(store, notification.project_consent(citizen(i), "campaigns", given, T0, ports))

    return step


def alert_fanned_out(ctx: Context) -> Step:
    """``alert.page.ready``: one page of ``FAN_OUT`` traffic subscribers in Centro, each decided and staged (in
    batches committed ahead) for a new alert each time; subscribers alike share one decision, as in
    production. Items: the notifications written."""
    ports, store = notification_ports(ctx)
    for n in range(FAN_OUT):
        subscriber = f"s-{n:05d}"
        reachable(store, subscriber)
        store.subscriptions[(subscriber, "traffic.01")] = Subscription(subscriber, "traffic.01", "traffic", "01",
                                                                       True, T0)  # fmt: skip
    alert = AlertPublished(topic="traffic", zones=["01"], severity="moderate", text={"es": "Corte en la calle Mayor."})
    pages = []
    for i in range(ctx.count):
        unit = notification.publish_alert(alert, "/legacy/movilidad", f"e-{i}", ports, None)
        store.commit(unit)
        pages.append(AlertPageReady.model_validate(events_in(unit)[0][1]))

    def step(i: int) -> int:
        before = len(store.notifications)
        store.commit(notification.alert_page(pages[i], ports, None))
        return len(store.notifications) - before

    return step


def chunk_decided(ctx: Context) -> Step:
    """``bulk.chunk.ready``: one stored chunk of ``FAN_OUT`` rows (a job each time, its rows to citizens C360
    knows), each row decided, rendered and staged; the chunk's counts with the last batch. Items: rows."""
    ports, store = notification_ports(ctx)
    for n in range(FAN_OUT):
        reachable(store, citizen(n))
    rows: list[tuple[int, Any]] = [
        (n + 1, {"recipient": {"citizen_id": citizen(n)}, "personalisation": {"name": "Inés", "year": "2026"}})
        for n in range(FAN_OUT)
    ]
    jobs = []
    for _ in range(ctx.count):
        staged = notification.submit_bulk(SubmitBulk("ibi", rows, TRIBUTOS_SYSTEM.id), ports, None)
        store.commit(staged.unit)
        jobs.append(staged.result["id"])

    def step(i: int) -> int:
        before = len(store.notifications)
        store.commit(notification.bulk_chunk(jobs[i], 0, ports, None))
        return len(store.notifications) - before

    return step


def incident_reported(ctx: Context) -> Step:
    """A citizen's report (Avisos, issue 18): catalogue, attributes, the in-city check (the real boundaries), the
    report with its ``incident.reported``, ``case.requested``, notice and position events staged and committed."""
    from functions.incident import handlers as incident
    from functions.incident.locator import locator
    from functions.incident.service import Report
    from tests.unit.incident.fakes import FakeIncidentStore

    store = FakeIncidentStore()
    ports = incident.IncidentPorts(store, ctx.policy, FixedClock(T0), locator(), "https://pic.test")
    report = Report("alumbrado-farola-apagada", 40.41694, -3.70361, attributes={"tipo-averia": "apagada"})

    def step(i: int) -> int:
        staged = incident.report(incident.ReportCmd(report, citizen(i), None, "app"), ports, None)
        store.commit(staged.unit)
        return len(staged.unit)

    return step


# ---- recommendations (REC) ------------------------------------------------------------------------------------


def recommend_ports(ctx: Context) -> tuple[RecommendPorts, FakeRecommendStore]:
    store = FakeRecommendStore()
    return RecommendPorts(store=store, policy=ctx.policy, clock=FixedClock(T0)), store


def suggestions_read(ctx: Context) -> Step:
    """A mode-b citizen's suggestions: ``policies/recommend`` over the compact facts (a senior with a car in Centro
    who paid the IBI by card two years: three rules fire), the texts and the data used; the authz decision first."""
    ports, store = recommend_ports(ctx)
    for i in range(ctx.count):
        ibi = {f"IBI-{y}-{i}": {"tax": "IBI", "period": str(y), "object": f"REF{i}", "method": "card"}
               for y in (2024, 2025)}  # fmt: skip
        store.profiles[citizen(i)] = Profile(
            citizen(i), "b", T0, birth_date=date(1950, 1, 1), district="01", profile_at=T0, ibi=ibi,
            vehicles={f"{1000 + i % 9000}BCD": {"district": "01", "at": T0.isoformat()}}, version=1,
        )  # fmt: skip

    def step(i: int) -> int:
        authorize(ctx.policy, Subject(citizen(i), "citizen"), "recommend.suggestions.read", citizen(i))
        return len(recommend.citizen_suggestions(citizen(i), ports).suggestions)

    return step


def incident_suggested(ctx: Context) -> Step:
    """Duplicate suggestions (Avisos): the open reports of a service near a point, from the cells its radius touches,
    filtered by exact distance, among 1,000 open reports around Sol. Items: the reports suggested."""
    import random

    from bench.incident import IndexedStore
    from functions.incident import handlers as incident
    from functions.incident.service import Report, cell_of
    from tests.unit.incident.fakes import FakeLocator

    store = IndexedStore()  # the by-near index as a dictionary: what a Query per cell returns
    ports = incident.IncidentPorts(store, ctx.policy, FixedClock(T0), FakeLocator(), "https://pic.test")
    rng = random.Random(4)
    for n in range(1000):
        at = Report("alumbrado-farola-apagada", 40.41694 + rng.uniform(-0.005, 0.005),
                    -3.70361 + rng.uniform(-0.005, 0.005), attributes={"tipo-averia": "apagada"})  # fmt: skip
        staged = incident.report(incident.ReportCmd(at, citizen(n), None, "app"), ports, None)
        store.commit(staged.unit)
        store.near[f"{at.service_code}#{cell_of(staged.result.lat, staged.result.lon)}"].append(staged.result)

    def step(i: int) -> int:
        return len(incident.suggest("alumbrado-farola-apagada", 40.41694, -3.70361, ports))

    return step


def vehicle_projected(ctx: Context) -> Step:
    """A vehicle registered by Movilidad projected into a citizen's recommendation profile."""
    ports, store = recommend_ports(ctx)

    def step(i: int) -> int:
        data = VehicleRegistered(plate=f"{1000 + i % 9000}BCD", label="C", citizen_id=citizen(i), district="01",
                                 as_of=T0)  # fmt: skip
        uow = recommend.on_vehicle_registered(data, ports)
        staged = len(store.ledger.staged(uow))
        store.commit(uow)
        return staged

    return step


OPERATIONS: tuple[Operation, ...] = (
    Operation("kernel", "policies/authz decision alone", authz_alone, "items"),
    Operation("kernel", "policies/authz: its regorus evaluation only", authz_engine, "items"),
    Operation("kernel", "policies/authz: its decision log line only", decision_logged, "items"),
    Operation("consent", "consent change (PUT, a first consent)", consent_change),
    Operation("consent", "preferences change (PUT)", preferences_change),
    Operation("consent", "subscription (POST)", subscription),
    Operation("consent", "contact decision (consent policy from memo)", contact_decision, "items"),
    Operation("citizen", "record upserted, creating a golden record", golden_created),
    Operation("citizen", "record upserted, joining one by DNI", golden_joined),
    Operation("citizen", "review decided: match (merge)", review_decided),
    Operation("position", "fact projected (item upserted)", fact_projected),
    Operation("position", "position read, decided part by part", position_read, "items"),
    Operation("interaction", "interaction recorded (POST)", interaction_recorded),
    Operation("payment", "fine recorded (fine.issued)", debt_recorded),
    Operation("payment", f"a person's {PAYMENT_DEBTS} debts read, each priced by policy", debts_read, "items"),
    Operation("audit", "access log page (50 entries)", access_log_page, "items"),
    Operation("rgpd", "request opened (access)", request_opened),
    Operation("rgpd", "domain answer folded", answer_folded),
    Operation("notification", "notification to a citizen (POST)", notification_posted),
    Operation("notification", "notification to a citizen (requested event)", notification_requested),
    Operation("notification", "delivery by e-mail (claim, send, outcome)", delivered_by_email),
    Operation("notification", "delivery in-app", delivered_in_app),
    Operation("notification", "consent projected (consent.changed)", consent_projected),
    Operation("notification", f"alert page fan-out ({FAN_OUT} subscribers)", alert_fanned_out, "items"),
    Operation("notification", f"bulk chunk ({FAN_OUT} rows)", chunk_decided, "items"),
    Operation("incident", "a citizen's report (case, notice, position events)", incident_reported),
    Operation("incident", "duplicate suggestion (1,000 open reports near)", incident_suggested, "items"),
    Operation("recommend", "suggestions read (mode b, three rules fire)", suggestions_read, "items"),
    Operation("recommend", "vehicle projected (vehicle.registered)", vehicle_projected),
)


def real_policy() -> EmbeddedPolicy:
    """The engine the functions' ``bootstrap`` builds; the OPA REST adapter would measure a round trip."""
    policy = get_policy()
    if not isinstance(policy, EmbeddedPolicy):
        raise SystemExit("bench.cpu measures the embedded engine: unset PIC_POLICY_ENGINE=opa")
    return policy


def measure(operation: Operation, ctx: Context, n: int, warmup: int) -> Result:
    """Operations ``0..warmup`` untimed, then ``n`` each timed on this thread's CPU clock (not wall time: the
    machine is shared, and waiting for a core is not CPU the operation costs)."""
    step = operation.prepare(Context(ctx.policy, ctx.terms, warmup + n))
    for i in range(warmup):
        step(i)
    gc.collect()
    samples: list[int] = []
    work = 0
    for i in range(warmup, warmup + n):
        start = time.thread_time_ns()
        work += step(i)
        samples.append(time.thread_time_ns() - start)
    return Result(operation, samples, work)


@contextmanager
def decision_log_discarded() -> Iterator[None]:
    """The decision log as production writes it (INFO, one JSON line per decision: formatting it is CPU a
    request costs), into ``/dev/null`` instead of the terminal."""
    logger = get_logger()
    handler = logger.registered_handler
    level = logger.log_level
    with open(os.devnull, "w", encoding="utf-8") as sink:
        if not isinstance(handler, logging.StreamHandler):
            raise SystemExit(f"the process logger writes through {handler!r}, not a stream")
        stream = handler.setStream(sink)
        logger.setLevel("INFO")
        try:
            yield
        finally:
            handler.setStream(stream)
            logger.setLevel(level)


def run_all(n: int = N, warmup: int = WARMUP, only: tuple[Operation, ...] = OPERATIONS) -> list[Result]:
    ctx = Context(real_policy(), load_terms(), 0)
    with decision_log_discarded():
        return [measure(operation, ctx, n, warmup) for operation in only]


def section(results: list[Result], on: date, n: int) -> str:
    """The ``docs/benchmarks.md`` section: the figures, the machine, what an operation includes."""
    from bench.stats import machine

    rows = "\n".join(
        f"| {r.operation.domain} | {r.operation.name} | {r.p50_us:,.0f} | {r.mean_us:,.0f} | {r.per_core:,.0f} |"
        for r in results
    )
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return f"""{TITLE}

Recorded by `python -m bench.cpu` (and `make bench`) on {on:%Y-%m-%d}: {n:,} operations per use case after a
warm-up, each timed on the thread's CPU clock (`time.thread_time_ns`). Machine: {machine()}. The machine is
shared with other sessions (load average {load} when recorded); CPU time, unlike wall time, does not count
waiting for a core, but caches and cores are shared, so figures move by up to a third between runs (two runs
minutes apart, at load averages 14 and 24, differed by 5–35 %): compare rows of one run.

One operation is what a function's process spends on the use case itself: the kernel's `policies/authz`
decision for the route's action (HTTP routes; events have none), the handler (`functions/<domain>/handlers.py`)
reading its fake port, deciding — with the real embedded regorus engine as `bootstrap` builds it, because the
policy is part of the CPU a request costs — and staging its unit of work, and the in-memory store committing
it (`tests/unit/fakes.py`'s `Ledger`), with what the handler commits ahead of its unit (a delivery's claim,
a fan-out's batches of notifications) and, for a delivery, the channel taking the message (a fake e-mail
provider that records it; the real in-app adapter, into the fake store). Not included: HTTP and JSON bodies,
the idempotency/dedupe record, the access-log write, DynamoDB and its SDK, the outbox relay, the provider's
network call. Every operation works on its own citizen, record, request, alert or bulk
job, so nothing is a dedupe no-op and no `authz` or `position` decision whose input names the citizen comes
from the policy memo. Questions that name no one are the memo's after the first, here as in production: the
contact decision's `policies/consent` (citizens with the same consents asked in the same minute share one
decision; its engine cost is the "policy consent: engine" row above), the `authz` of `POST /v1/notifications`
(a system on a platform route), and `policies/notifications` (citizens alike in the same minute share one
choice: what makes a fan-out cheap). A notification's operations go to a citizen C360 gave an e-mail; the
alert page and the bulk chunk hold {FAN_OUT} subscribers or rows (a page takes up to {notification.ALERT_PAGE}; a
chunk, but a job's last, at least {CHUNK_MIN}): their mean is per page or chunk, per message the mean / {FAN_OUT}.
Decision log lines are formatted and written, as production does at INFO (into `/dev/null`). "Ceiling per
core" is 1 s / mean: what one core could do if the store and the network cost nothing; the SDK's and the HTTP
stack's own CPU come on top. The `kernel` rows are the `authz` decision alone (about half of every simple
HTTP command), then two of its parts measured apart: the regorus evaluation, and the decision log line (the
input's canonical SHA-256 and the JSON line); the rest is the memo's key (the input as JSON) and the decision
object. Source: `bench/cpu.py`.

| domain | operation | CPU p50 µs | CPU mean µs | ceiling per core (ops/s) |
|---|---|---|---|---|
{rows}
"""


def record(text: str, report: Path = REPORT) -> None:
    """Put the section in the report: replacing the one recorded before, else before "Goals not met"."""
    record_section(TITLE, text, report)


def show(results: list[Result]) -> None:
    for r in results:
        print(
            f"cpu {r.operation.domain:<12} {r.operation.name:<44} p50 {r.p50_us:7.1f} µs  mean {r.mean_us:7.1f} µs"
            f"  {r.per_core:7,.0f}/s per core",
            flush=True,
        )


def main(argv: list[str]) -> int:
    n = int(argv[0]) if argv else N
    results = run_all(n)
    show(results)
    record(section(results, datetime.now(UTC).date(), n))
    print(f"recorded in {REPORT}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
