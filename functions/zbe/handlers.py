"""ZBE use cases: one function per command, question or event, over the domain's ports.

Applying reads Movilidad's record of the vehicle (projected from ``vehicle.registered``: its DGT label and
holder), asks ``policies/zbe`` and stages the application; a decision the rules take alone is announced in the
same unit of work (``zbe.authorisation.decided``, the position's ``permits`` item, the person's notice, and on a
grant the wallet's ``card.granted``). An application the rules send to review waits in the desk's queue until an
agent approves or refuses it (``review``), which announces the same. Nothing here knows HTTP, CloudEvents or
DynamoDB; the entry point commits the unit and runs the handler again if it lost a race.
"""

from __future__ import annotations

from dataclasses import dataclass

from events.base import EventData
from events.rgpd import RgpdRequestOpened
from events.zbe import VehicleRegistered
from functions.core.clock import Clock
from functions.core.outbox import stage_event
from functions.core.policy import Policy
from functions.core.store import Staged, UnitOfWork
from functions.zbe import rights, service
from functions.zbe.service import Application, ZbeStore

PRODUCER = "pic-zbe"
MAX_QUEUE = 100


@dataclass(frozen=True)
class ZbePorts:
    """Everything the use cases need from outside: built once per process by ``bootstrap``."""

    store: ZbeStore
    policy: Policy
    clock: Clock
    app_url: str = "/app/zbe"  # where the person sees the decision (the notice links it)


# ---- commands -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Apply:
    citizen_id: str
    plate: str  # as the person wrote it: parsed here
    zone: str
    category: str
    note: str | None = None


def apply(cmd: Apply, ports: ZbePorts, traceparent: str | None) -> Staged[Application]:
    """An application for an access authorisation: refused at once on a plate in no Spanish format or a vehicle
    Movilidad does not know (problems, nothing stored), else stored as the policy decides it."""
    plate = service.parse_plate(cmd.plate)
    vehicle = ports.store.fetch_vehicle(plate.canonical)
    if vehicle is None:
        raise service.VehicleUnknownError(
            f"Movilidad has no record of {plate.shown}: its environmental label cannot be known yet"
        )
    now = ports.clock.now()
    service.check_open(ports.store.fetch_by_citizen(cmd.citizen_id), plate.canonical, cmd.zone, service.local_day(now))
    inp = service.policy_input(cmd.citizen_id, cmd.zone, cmd.category, vehicle, service.local_day(now))
    decision = ports.policy.decide(service.POLICY, inp).result
    app = service.decide(
        service.new_id(), cmd.citizen_id, plate.canonical, cmd.zone, cmd.category, cmd.note, vehicle, decision, now
    )
    uow = UnitOfWork()
    ports.store.stage_application(uow, app)
    announce(uow, app, ports, traceparent)
    return Staged(uow, app)


@dataclass(frozen=True)
class Review:
    application_id: str
    approve: bool
    reason: str
    agent_id: str
    purpose: str | None


def review(
    cmd: Review, ports: ZbePorts, traceparent: str | None, read: Application | None = None
) -> Staged[Application]:
    """An agent's approval or refusal of an application awaiting review (409 ``zbe-not-pending`` otherwise).
    ``read``: the application as the route's citizen resolver just read it (a retry after a lost race reads again)."""
    app = read if read is not None and read.id == cmd.application_id else find(cmd.application_id, ports)
    decided = service.review(app, cmd.approve, cmd.reason, cmd.agent_id, cmd.purpose, ports.clock.now())
    uow = UnitOfWork()
    ports.store.stage_application(uow, decided)
    announce(uow, decided, ports, traceparent)
    return Staged(uow, decided)


def announce(uow: UnitOfWork, app: Application, ports: ZbePorts, traceparent: str | None) -> None:
    """The position always learns where the application stands; a decision is also told to the person and to
    listeners, and a grant to the wallet."""
    now = ports.clock.now()
    subject = app.citizen_id

    def emit(data: EventData) -> None:
        stage_event(uow, data, subject=subject, traceparent=traceparent, now=now, producer=PRODUCER)

    emit(service.position_item(app, now))
    if app.state == "pending-review":
        return
    emit(service.decided_event(app))
    emit(service.notice(app, ports.app_url))
    if app.state == "granted":
        emit(service.card_grant(app))


# ---- events -------------------------------------------------------------------------------------------


def project_vehicle(data: VehicleRegistered, ports: ZbePorts) -> UnitOfWork:
    """Movilidad's record of a vehicle: the latest ``as_of`` wins; an older or repeated one stages nothing."""
    uow = UnitOfWork()
    moved = service.project(ports.store.fetch_vehicle(data.plate), data)
    if moved is not None:
        ports.store.stage_vehicle(uow, moved)
    return uow


# ---- questions ----------------------------------------------------------------------------------------


def find(application_id: str, ports: ZbePorts) -> Application:
    app = ports.store.fetch_application(application_id)
    if app is None:
        raise service.ApplicationNotFoundError(f"no ZBE application {application_id!r}")
    return app


def citizen_applications(citizen_id: str, ports: ZbePorts) -> list[Application]:
    return ports.store.fetch_by_citizen(citizen_id)


def review_queue(ports: ZbePorts, limit: int = MAX_QUEUE) -> list[Application]:
    """Applications awaiting an agent's review, oldest first."""
    return ports.store.fetch_pending(min(max(limit, 1), MAX_QUEUE))


def plate_list(ports: ZbePorts) -> list[dict[str, str]]:
    """The authorisations in force today (Madrid's day): what the enforcement cameras read, sorted by plate."""
    today = service.local_day(ports.clock.now())
    rows = [service.plate_row(a) for a in ports.store.fetch_granted() if service.in_force(a, today)]
    return sorted(rows, key=lambda r: (r["plate"], r["zone"], r["valid_until"]))


# ---- data-subject rights (RGPD) ---------------------------------------------------------------------


def answer_rights(data: RgpdRequestOpened, ports: ZbePorts, traceparent: str | None) -> UnitOfWork:
    """This domain's answer to a data-subject request (``rights.answer``), its erasures in the same unit."""
    result = rights.answer(data, ports.store, ports.policy, ports.clock.now())
    return result.unit(
        traceparent, lambda uow, plan: plan.stage(uow, lambda u, app: ports.store.stage_erase_application(u, app))
    )
