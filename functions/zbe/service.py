"""Low-emission zone (ZBE) access authorisations, pure rules: plates, applications, what the policy is asked,
the agent's review, what is announced and what the cameras read.

An application names a vehicle by its plate, the zone (ZBE Madrid, ZBEDEP Distrito Centro, ZBEDEP Plaza Elíptica)
and the category of Madrid 360 it claims (resident, guest, business, services, PMR card, private garage). The
vehicle's DGT environmental label and holder come from Movilidad (``vehicle.registered``, projected here), never
from the applicant. ``policies/zbe`` decides: granted at once, refused (with its reasons, es/en), or sent to an
agent's review on the desk; the agent approves or refuses with a reason. A grant is announced to the wallet
(``card.granted``, card ``zbe``), to the global position (section ``permits``), to the person (NOT, template
``pic-zbe-decided``) and to whoever listens (``zbe.authorisation.decided``).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal, Protocol
from zoneinfo import ZoneInfo

from events.notification import NotificationRequested, Recipient
from events.position import PositionItemUpserted
from events.wallet import CardGranted
from events.zbe import VehicleRegistered, ZbeAuthorisationDecided
from functions.core.errors import ConflictError, NotFoundError, PicError

if TYPE_CHECKING:  # the port names the kernel's unit of work; this module stays free of its adapters
    from functions.core.store import UnitOfWork

POLICY = "zbe"
NOTICE_TEMPLATE = "pic-zbe-decided"  # functions/notification/platform_templates.json
CARD_TYPE = "zbe"  # functions/wallet/data/card_types.json
MADRID = ZoneInfo("Europe/Madrid")
State = Literal["pending-review", "granted", "refused"]

ZONE_TITLES = {
    "madrid": "ZBE Madrid",
    "distrito-centro": "ZBEDEP Distrito Centro",
    "plaza-eliptica": "ZBEDEP Plaza Elíptica",
}


class InvalidPlateError(PicError):
    status, slug, title = 422, "zbe-invalid-plate", "The plate is not in a Spanish format"


class VehicleUnknownError(PicError):
    status, slug, title = 422, "zbe-vehicle-unknown", "Movilidad has no record of this vehicle"


class ApplicationExistsError(ConflictError):
    status, slug, title = 409, "zbe-application-exists", "An application for this vehicle and zone is already open"


class NotPendingError(ConflictError):
    status, slug, title = 409, "zbe-not-pending", "This application is not awaiting review"


class ApplicationNotFoundError(NotFoundError):
    slug, title = "not-found", "No such ZBE application"


# ---- plates ----------------------------------------------------------------------------------------------

# The current national system (since September 2000): four digits and three consonants, no vowels, Ñ or Q
# (Reglamento General de Vehículos, RD 2822/1998, anexo XVIII, as amended for the 2000 system; the Orden that
# introduced it is not cited here because its number was not checked).
CURRENT = re.compile(r"^(\d{4})([BCDFGHJKLMNPRSTVWXYZ]{3})$")
# The provincial system (1971-2000): province code, four digits, one or two letters (M-1234-AB); and the one
# before it (until 1971): province code and up to six digits (M-123456).
PROVINCIAL = re.compile(r"^([A-Z]{1,2})(\d{4})([A-Z]{1,2})$")
OLD_NUMERIC = re.compile(r"^([A-Z]{1,2})(\d{1,6})$")
# Province codes of the provincial plates, with the earlier codes some provinces changed from (GE→GI, OR→OU,
# PM→IB, LO for Logroño/La Rioja); CE and ML are Ceuta and Melilla.
PROVINCES = frozenset((
    "A", "AB", "AL", "AV", "B", "BA", "BI", "BU", "C", "CA", "CC", "CE", "CO", "CR", "CS", "CU", "GC", "GE", "GI",
    "GR", "GU", "H", "HU", "IB", "J", "L", "LE", "LO", "LU", "M", "MA", "ML", "MU", "NA", "O", "OR", "OU", "P", "PM",
    "PO", "S", "SA", "SE", "SG", "SO", "SS", "T", "TE", "TF", "TO", "V", "VA", "VI", "Z", "ZA",
))  # fmt: skip


@dataclass(frozen=True)
class Plate:
    """A plate in canonical form (what cameras read: capitals and digits only) and its display form."""

    canonical: str
    shown: str
    system: Literal["current", "provincial", "provincial-numeric"]


def parse_plate(text: str) -> Plate:
    """A Spanish plate, written with or without spaces and hyphens, in either case; else ``InvalidPlateError``
    naming the formats accepted (special series — diplomatic, trailers, mopeds, historic — are not accepted)."""
    bare = re.sub(r"[\s-]", "", text or "").upper()
    if m := CURRENT.match(bare):
        return Plate(bare, f"{m[1]} {m[2]}", "current")
    if (m := PROVINCIAL.match(bare)) and m[1] in PROVINCES:
        return Plate(bare, f"{m[1]}-{m[2]}-{m[3]}", "provincial")
    if (m := OLD_NUMERIC.match(bare)) and m[1] in PROVINCES:
        return Plate(bare, f"{m[1]}-{m[2]}", "provincial-numeric")
    raise InvalidPlateError(
        f"{text!r} is not a Spanish plate: write it as 0000 BBB (four digits and three consonants, no vowels, "
        "Ñ or Q), as a provincial plate M-0000-AB or as M-000000"
    )


# ---- the items -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Vehicle:
    """Movilidad's record of a vehicle, as projected from ``vehicle.registered`` (the latest ``as_of`` wins)."""

    plate: str
    label: str
    holder: str  # the golden record, or ``source#local_id`` of Movilidad's record of the person
    district: str | None
    as_of: datetime
    version: int | None = None


@dataclass(frozen=True)
class Reason:
    code: str
    es: str
    en: str


@dataclass(frozen=True)
class Application:
    """One application for an access authorisation and where it stands."""

    id: str
    citizen_id: str
    plate: str
    zone: str
    category: str
    label: str
    note: str | None
    state: State
    reasons: tuple[Reason, ...]
    source: str
    valid_days: int
    created_at: datetime
    decided_at: datetime | None = None
    decided_by: str | None = None  # "policy", or the agent's id
    purpose: str | None = None  # the agent's stated purpose (Access-Purpose)
    valid_from: date | None = None
    valid_until: date | None = None
    version: int | None = None


def new_id() -> str:
    return f"zbe-{uuid.uuid4().hex[:20]}"


def holder_of(data: VehicleRegistered) -> str:
    if data.citizen_id:
        return data.citizen_id
    assert data.record is not None  # the model requires one of the two
    return f"{data.record.source}#{data.record.local_id}"


def project(held: Vehicle | None, data: VehicleRegistered) -> Vehicle | None:
    """The vehicle as it now stands, or ``None`` when ``data`` is older than (or as old as) what is held."""
    if held is not None and held.as_of >= data.as_of:
        return None
    version = held.version if held else None
    return Vehicle(data.plate, data.label, holder_of(data), data.district, data.as_of, version)


def policy_input(citizen_id: str, zone: str, category: str, vehicle: Vehicle, today: date) -> dict[str, Any]:
    """What ``policies/zbe`` decides on: the zone, the category, the DGT label, and whether the vehicle is the
    applicant's own at an address in which district (Movilidad's facts, not the applicant's word)."""
    return {
        "zone": zone,
        "category": category,
        "label": vehicle.label,
        "holder_is_applicant": vehicle.holder == citizen_id,
        "vehicle_district": vehicle.district,
        "today": today.isoformat(),
    }


def local_day(at: datetime) -> date:
    return at.astimezone(MADRID).date()


def check_open(existing: list[Application], plate: str, zone: str, today: date) -> None:
    """One open application (awaiting review, or granted and not yet expired) per person, vehicle and zone."""
    for a in existing:
        if a.plate != plate or a.zone != zone:
            continue
        if a.state == "pending-review" or (a.state == "granted" and a.valid_until and a.valid_until >= today):
            raise ApplicationExistsError(f"application {a.id} for {plate} in {zone} is {a.state}")


def decide(
    app_id: str, citizen_id: str, plate: str, zone: str, category: str, note: str | None, vehicle: Vehicle,
    decision: dict[str, Any], now: datetime,
) -> Application:  # fmt: skip
    """The application as the policy leaves it: granted (valid from today), refused, or awaiting review."""
    outcome = decision["outcome"]
    reasons = tuple(Reason(r["code"], r["es"], r["en"]) for r in decision["reasons"])
    state: State = {"grant": "granted", "refuse": "refused"}.get(outcome, "pending-review")  # type: ignore[assignment]
    app = Application(
        app_id, citizen_id, plate, zone, category, vehicle.label, note, state, reasons, decision.get("source", ""),
        int(decision.get("valid_days") or 0), now,
    )  # fmt: skip
    if state == "pending-review":
        return app
    return conclude(app, state, "policy", None, reasons, now)


def conclude(
    app: Application, state: State, decided_by: str, purpose: str | None, reasons: tuple[Reason, ...], now: datetime
) -> Application:
    """A final decision: granted for ``valid_days`` from today (Madrid's day), or refused."""
    today = local_day(now)
    granted = state == "granted"
    return replace(
        app, state=state, reasons=reasons, decided_at=now, decided_by=decided_by, purpose=purpose,
        valid_from=today if granted else None,
        valid_until=today + timedelta(days=max(app.valid_days, 1) - 1) if granted else None,
    )  # fmt: skip


def review(
    app: Application, approve: bool, reason: str, agent_id: str, purpose: str | None, now: datetime
) -> Application:
    """An agent's decision on an application awaiting review, with the reason they give (es/en alike)."""
    if app.state != "pending-review":
        raise NotPendingError(f"application {app.id} is {app.state}")
    code = "agent-approved" if approve else "agent-refused"
    return conclude(app, "granted" if approve else "refused", agent_id, purpose, (Reason(code, reason, reason),), now)


# ---- what is announced -------------------------------------------------------------------------------------


def decided_event(app: Application) -> ZbeAuthorisationDecided:
    assert app.decided_at is not None and app.state != "pending-review"
    return ZbeAuthorisationDecided(
        authorisation_id=app.id, citizen_id=app.citizen_id, plate=app.plate, zone=app.zone,  # type: ignore[arg-type]
        category=app.category, label=app.label, decision=app.state,  # type: ignore[arg-type]
        decided_by="policy" if app.decided_by == "policy" else "agent", reasons=[r.code for r in app.reasons],
        valid_from=app.valid_from, valid_until=app.valid_until, decided_at=app.decided_at,
    )  # fmt: skip


def card_grant(app: Application) -> CardGranted:
    """The wallet's fact: this person may hold the ZBE card, for this plate and label."""
    assert app.decided_at is not None
    return CardGranted(
        citizen_id=app.citizen_id, card_type=CARD_TYPE, granted_at=app.decided_at,
        reason=f"Autorización {app.id}: {ZONE_TITLES[app.zone]}, {app.category}",
        claims={"plate": app.plate, "label": app.label},
    )  # fmt: skip


POSITION_STATUS = {"pending-review": "pending", "granted": "granted", "refused": "refused"}


def position_item(app: Application, now: datetime) -> PositionItemUpserted:
    """The application in the person's global position, section ``permits`` (the golden record itself)."""
    return PositionItemUpserted(
        local_id=app.citizen_id, section="permits", item_id=app.id, status=POSITION_STATUS[app.state],
        title=f"Autorización de acceso a {ZONE_TITLES[app.zone]}: {app.plate}", area="movilidad",
        valid_until=app.valid_until, reference=app.id, as_of=now,
        attributes={"zone": app.zone, "category": app.category, "plate": app.plate},
    )  # fmt: skip


def notice(app: Application, app_url: str) -> NotificationRequested:
    """What NOT tells the person when their application is decided (a service notice: RGPD art. 6.1.e)."""
    return NotificationRequested(
        template=NOTICE_TEMPLATE,
        recipient=Recipient(citizen_id=app.citizen_id),
        personalisation={
            "plate": app.plate,
            "zone": ZONE_TITLES[app.zone],
            "granted": app.state == "granted",
            "valid_until": app.valid_until.strftime("%d/%m/%Y") if app.valid_until else "",
            "reasons_es": "; ".join(r.es for r in app.reasons),
            "reasons_en": "; ".join(r.en for r in app.reasons),
            "app_url": app_url,
        },
        reference=app.id,
    )


# ---- views ---------------------------------------------------------------------------------------------


def view(app: Application) -> dict[str, Any]:
    """The API's representation of an application: everything the person (or an agent) may see of it."""
    return {
        "id": app.id,
        "citizen_id": app.citizen_id,
        "plate": app.plate,
        "zone": app.zone,
        "zone_title": ZONE_TITLES[app.zone],
        "category": app.category,
        "label": app.label,
        "note": app.note,
        "state": app.state,
        "reasons": [{"code": r.code, "es": r.es, "en": r.en} for r in app.reasons],
        "source": app.source,
        "created_at": app.created_at.isoformat(),
        "decided_at": app.decided_at.isoformat() if app.decided_at else None,
        "decided_by": "policy" if app.decided_by == "policy" else ("agent" if app.decided_by else None),
        "valid_from": app.valid_from.isoformat() if app.valid_from else None,
        "valid_until": app.valid_until.isoformat() if app.valid_until else None,
    }


PLATE_COLUMNS = ("plate", "zone", "category", "valid_from", "valid_until")


def plate_row(app: Application) -> dict[str, str]:
    """One row the enforcement cameras read: the plate, where and until when. No person, no label, no reason:
    the least data that lets a camera tell an authorised vehicle (RGPD art. 5.1.c)."""
    assert app.valid_from is not None and app.valid_until is not None
    return {"plate": app.plate, "zone": app.zone, "category": app.category,
            "valid_from": app.valid_from.isoformat(), "valid_until": app.valid_until.isoformat()}  # fmt: skip


def in_force(app: Application, today: date) -> bool:
    return (
        app.state == "granted"
        and app.valid_from is not None
        and app.valid_until is not None
        and app.valid_from <= today <= app.valid_until
    )


# ---- the domain's port ----------------------------------------------------------------------------------


class ZbeStore(Protocol):
    """What the domain reads and stages (``storage.DynamoZbeStore``; an in-memory fake in the unit tests).
    Every item is written under its version: a concurrent change makes the commit lose the race."""

    def fetch_vehicle(self, plate: str) -> Vehicle | None: ...
    def fetch_application(self, app_id: str) -> Application | None: ...
    def fetch_by_citizen(self, citizen_id: str) -> list[Application]:
        """The person's applications, newest first (one Query of index ``by-citizen``)."""
        ...

    def fetch_pending(self, limit: int) -> list[Application]:
        """Applications awaiting review, oldest first (index ``by-state``), at most ``limit``."""
        ...

    def fetch_granted(self) -> list[Application]:
        """Every granted application (index ``by-state``, page by page): the plate list filters those in force."""
        ...

    def stage_vehicle(self, uow: UnitOfWork, vehicle: Vehicle) -> None: ...
    def stage_application(self, uow: UnitOfWork, app: Application) -> None: ...
    def stage_erase_application(self, uow: UnitOfWork, app: Application) -> None: ...
