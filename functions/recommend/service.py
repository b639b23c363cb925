"""Recommendations (REC, issue 18), pure rules: the per-citizen projection of other domains' facts, the compact
facts the policy decides on, the suggestions built from the policy's answer (each with its reason in words, es/en,
and the data it used), the feedback, and the store's port.

Who may get suggestions and which rules fire is decided by ``policies/recommend`` (Rego): only a citizen in mode b
(consented to ``personalisation``), with no objection to personalisation or profiling (RGPD art. 21) and no
restriction of processing (RGPD art. 18). The rules' thresholds, texts, links and legal sources are that policy's
data (``policies/recommend/data.json``); this module only fills in the person's own details (years, plate, age,
event) and lists the facts used, each with the event type it was projected from.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Literal, Protocol

from functions.core.clock import MADRID
from functions.core.errors import NotFoundError, ValidationError
from functions.core.madrid import find_zone

if TYPE_CHECKING:  # the port names the kernel's unit of work; this module stays free of its adapters
    from functions.core.store import UnitOfWork

POLICY = "recommend"
Feedback = Literal["useful", "not-useful", "dont-show-again"]
FEEDBACKS: tuple[str, ...] = ("useful", "not-useful", "dont-show-again")
SUGGESTION_ID = re.compile(r"^[a-z][a-z-]{1,39}(\.[A-Za-z0-9][A-Za-z0-9._:-]{0,63})?$")
MAX_BOOKINGS = 200  # the booking ids a profile keeps (categories matter, not the whole history)
MAX_FEEDBACK = 200  # hidden instances a profile keeps; the oldest go first

# the event types the facts come from: a suggestion lists them beside the data it used
SRC_RECEIPT = "es.madrid.pic.tax.receipt.paid.v1"
SRC_ISSUED = "es.madrid.pic.tax.receipt.issued.v1"
SRC_DEBIT = "es.madrid.pic.tax.direct-debit.signed.v1"
SRC_VEHICLE = "es.madrid.pic.vehicle.registered.v1"
SRC_CARD = "es.madrid.pic.card.issued.v1"
SRC_CITIZEN = "es.madrid.pic.citizen.updated.v1"
SRC_BOOKING = "es.madrid.pic.booking.confirmed.v1"
SRC_AGENDA = "es.madrid.pic.agenda.event.published.v1"
SRC_ZONES = "es.madrid.pic.zones.changed.v1"


# ---- the domain's problems ---------------------------------------------------------------------------------


class SuggestionNotFoundError(NotFoundError):
    slug, title = "suggestion-not-found", "No such suggestion for this citizen"


class FeedbackError(ValidationError):
    slug, title = "suggestion-feedback", "The feedback is not valid"


# ---- the projection -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Profile:
    """What REC knows of one citizen, each part from its own events, the latest winning where a part is a state.

    ``ibi``: receipt id -> ``{"period", "object", "method", "debit"}`` (issued and paid merge in either order);
    ``debits``: tax object reference -> ``{"active", "taxes", "at"}``; ``vehicles``: plate -> ``{"district",
    "at"}``; ``cards``: card id -> card type held; ``bookings``: booking id -> category; ``zones``: the zones the
    person shares; ``hidden_rules`` (don't show again) and ``hidden_items`` (not useful); ``useful``: counted."""

    citizen_id: str
    mode: str | None = None
    mode_at: datetime | None = None
    restricted: bool = False
    objections: tuple[str, ...] = ()
    flags_at: datetime | None = None
    birth_date: date | None = None
    district: str | None = None
    barrio: str | None = None
    profile_at: datetime | None = None
    ibi: dict[str, dict[str, Any]] = field(default_factory=dict)
    debits: dict[str, dict[str, Any]] = field(default_factory=dict)
    vehicles: dict[str, dict[str, Any]] = field(default_factory=dict)
    cards: dict[str, str] = field(default_factory=dict)
    bookings: dict[str, str] = field(default_factory=dict)
    zones: tuple[dict[str, Any], ...] = ()
    zones_at: datetime | None = None
    hidden_rules: tuple[str, ...] = ()
    hidden_items: tuple[str, ...] = ()
    useful: tuple[str, ...] = ()
    version: int | None = None

    def to_json(self) -> dict[str, Any]:
        def iso(v: datetime | date | None) -> str | None:
            return v.isoformat() if v else None

        return {
            "mode": self.mode, "mode_at": iso(self.mode_at), "restricted": self.restricted,
            "objections": list(self.objections), "flags_at": iso(self.flags_at), "birth_date": iso(self.birth_date),
            "district": self.district, "barrio": self.barrio, "profile_at": iso(self.profile_at), "ibi": self.ibi,
            "debits": self.debits, "vehicles": self.vehicles, "cards": self.cards, "bookings": self.bookings,
            "zones": list(self.zones), "zones_at": iso(self.zones_at), "hidden_rules": list(self.hidden_rules),
            "hidden_items": list(self.hidden_items), "useful": list(self.useful),
        }  # fmt: skip

    @classmethod
    def from_json(cls, citizen_id: str, doc: dict[str, Any], version: int | None) -> Profile:
        def dt(v: str | None) -> datetime | None:
            return datetime.fromisoformat(v) if v else None

        return cls(
            citizen_id, doc.get("mode"), dt(doc.get("mode_at")), bool(doc.get("restricted")),
            tuple(doc.get("objections") or ()), dt(doc.get("flags_at")),
            date.fromisoformat(doc["birth_date"]) if doc.get("birth_date") else None, doc.get("district"),
            doc.get("barrio"), dt(doc.get("profile_at")), dict(doc.get("ibi") or {}), dict(doc.get("debits") or {}),
            dict(doc.get("vehicles") or {}), dict(doc.get("cards") or {}), dict(doc.get("bookings") or {}),
            tuple(doc.get("zones") or ()), dt(doc.get("zones_at")), tuple(doc.get("hidden_rules") or ()),
            tuple(doc.get("hidden_items") or ()), tuple(doc.get("useful") or ()), version,
        )  # fmt: skip


@dataclass(frozen=True)
class AgendaEvent:
    """An event of the council's agenda as REC keeps it: what matching needs and what a suggestion shows."""

    event_id: str
    title: str
    category: str
    district: str | None
    barrio: str | None
    next_dates: tuple[datetime, ...]
    withdrawn: bool = False


def _newer(held: datetime | None, at: datetime) -> bool:
    return held is None or at > held


def with_mode(p: Profile, mode: str, at: datetime) -> Profile | None:
    """The mode every ``consent.changed`` carries (a/b), the latest winning; ``None``: nothing changes."""
    if not _newer(p.mode_at, at):
        return None
    return replace(p, mode=mode, mode_at=at)


def with_flags(p: Profile, restricted: bool, objections: list[str], at: datetime) -> Profile | None:
    if not _newer(p.flags_at, at):
        return None
    return replace(p, restricted=restricted, objections=tuple(sorted(set(objections))), flags_at=at)


def with_profile(
    p: Profile, birth: date | None, district: str | None, barrio: str | None, at: datetime
) -> Profile | None:
    if not _newer(p.profile_at, at):
        return None
    barrio = barrio if barrio and len(barrio) == 3 else None
    changed = replace(p, birth_date=birth, district=district, barrio=barrio, profile_at=at)
    return None if changed == replace(p, profile_at=at) and p.profile_at else changed


def with_receipt(p: Profile, receipt_id: str, **facts: Any) -> Profile | None:
    """An IBI receipt's facts (period, object, debit from ``receipt.issued``; method from ``receipt.paid``)."""
    held = p.ibi.get(receipt_id, {})
    merged = {**held, **{k: v for k, v in facts.items() if v is not None}}
    if merged == held:
        return None
    return replace(p, ibi={**p.ibi, receipt_id: merged})


IBI_NUMBER = re.compile(r"^IBI-([0-9]{4})-")


def ibi_receipt_number(receipt_id: str) -> dict[str, str]:
    """Tributos numbers IBI receipts ``IBI-<year>-<n>`` (``events.payment.TaxReceiptIssued``'s example): a receipt
    issued to an area record (not yet a golden record) reaches REC only when paid, and its number still says it
    is the IBI of that year. A receipt numbered otherwise counts once its ``receipt.issued`` names the citizen."""
    found = IBI_NUMBER.match(receipt_id)
    return {"tax": "IBI", "period": found.group(1)} if found else {}


def with_debit(p: Profile, reference: str, active: bool, taxes: list[str], at: datetime) -> Profile | None:
    held = p.debits.get(reference)
    if held is not None and datetime.fromisoformat(held["at"]) >= at:
        return None
    return replace(p, debits={**p.debits, reference: {"active": active, "taxes": sorted(taxes), "at": at.isoformat()}})


def with_vehicle(p: Profile, plate: str, district: str | None, at: datetime) -> Profile | None:
    held = p.vehicles.get(plate)
    if held is not None and datetime.fromisoformat(held["at"]) >= at:
        return None
    return replace(p, vehicles={**p.vehicles, plate: {"district": district, "at": at.isoformat()}})


def with_card(p: Profile, card_id: str, card_type: str, held: bool) -> Profile | None:
    if held == (card_id in p.cards):
        return None
    cards = {**p.cards, card_id: card_type} if held else {k: v for k, v in p.cards.items() if k != card_id}
    return replace(p, cards=cards)


def with_booking(p: Profile, booking_id: str, category: str) -> Profile | None:
    if booking_id in p.bookings:
        return None
    kept = dict(list(p.bookings.items())[-(MAX_BOOKINGS - 1):])  # fmt: skip
    return replace(p, bookings={**kept, booking_id: category})


def with_zones(p: Profile, zones: list[dict[str, Any]], at: datetime) -> Profile | None:
    if not _newer(p.zones_at, at):
        return None
    return replace(p, zones=tuple(zones), zones_at=at)


def with_feedback(p: Profile, suggestion_id: str, rule: str, feedback: str) -> Profile:
    """Don't show again hides the rule for the person; not useful hides this one suggestion; useful is counted."""
    if feedback == "dont-show-again":
        return replace(p, hidden_rules=tuple(sorted({*p.hidden_rules, rule})))
    if feedback == "not-useful":
        kept = tuple(i for i in p.hidden_items if i != suggestion_id)[-(MAX_FEEDBACK - 1):]  # fmt: skip
        return replace(p, hidden_items=(*kept, suggestion_id))
    if feedback == "useful":
        kept = tuple(i for i in p.useful if i != suggestion_id)[-(MAX_FEEDBACK - 1):]  # fmt: skip
        return replace(p, useful=(*kept, suggestion_id))
    raise FeedbackError(f"feedback is one of {', '.join(FEEDBACKS)}",
                        errors=[{"field": "feedback", "message": f"one of {', '.join(FEEDBACKS)}"}])  # fmt: skip


# ---- the facts the policy decides on ----------------------------------------------------------------------------


def age_on(birth: date, today: date) -> int:
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def ibi_years(p: Profile) -> tuple[list[str], list[str]]:
    """The years of the IBI receipts paid (known as IBI, with their period) and those all paid by card."""
    methods: dict[str, set[str]] = {}
    for receipt in p.ibi.values():
        period, method = receipt.get("period"), receipt.get("method")
        if receipt.get("tax") == "IBI" and period and method:
            methods.setdefault(str(period)[:4], set()).add(method)
    years = sorted(methods)
    return years, [y for y in years if methods[y] == {"card"}]


def ibi_objects(p: Profile) -> list[str]:
    """The IBI tax objects (cadastral references), latest period first."""
    ibi = [r for r in p.ibi.values() if r.get("tax") == "IBI" and r.get("object")]
    seen = sorted(((str(r.get("period") or ""), r["object"]) for r in ibi), reverse=True)
    return list(dict.fromkeys(o for _, o in seen))


def ibi_debit(p: Profile) -> bool:
    """A direct debit covers the IBI: a signed mandate for an IBI object (or naming IBI), or the latest IBI
    receipt issued already under one (Tributos knew of a mandate signed elsewhere)."""
    objects = set(ibi_objects(p))
    if any(d["active"] and (ref in objects or "IBI" in d["taxes"]) for ref, d in p.debits.items()):
        return True
    latest = max((r for r in p.ibi.values() if r.get("tax") == "IBI" and r.get("period")),
                 key=lambda r: str(r["period"]), default=None)  # fmt: skip
    return bool(latest and latest.get("debit"))


def zone_districts(p: Profile) -> list[str]:
    return sorted({z["district"] for z in p.zones if z.get("district")})


def matching_events(p: Profile, events: list[AgendaEvent], now: datetime, limit: int) -> list[AgendaEvent]:
    """Coming events in the person's zones whose category they booked before, soonest first; an event in a zone's
    own barrio before one elsewhere in its district."""
    categories = set(p.bookings.values())
    if not categories:
        return []
    barrios = {z.get("barrio") for z in p.zones if z.get("barrio")}
    districts = set(zone_districts(p))
    found = []
    for event in events:
        coming = [d for d in event.next_dates if d >= now]
        if event.withdrawn or not coming or event.category not in categories or event.district not in districts:
            continue
        found.append((event.barrio not in barrios, min(coming), event.event_id, event))
    return [e for *_, e in sorted(found, key=lambda t: t[:3])][:limit]


def policy_input(p: Profile, today: date, zone_matches: int) -> dict[str, Any]:
    """The compact facts ``policies/recommend`` decides on: people alike share one decision (the engine memoises
    by input), so this holds counts and codes, never ids."""
    years, card_years = ibi_years(p)
    return {
        "facts": {
            "mode": p.mode, "restricted": p.restricted, "objections": list(p.objections),
            "age": age_on(p.birth_date, today) if p.birth_date else None, "resident": p.district is not None,
            "ibi_years": len(years), "ibi_card_years": len(card_years), "ibi_direct_debit": ibi_debit(p),
            "vehicle_districts": sorted({v["district"] for v in p.vehicles.values() if v.get("district")}),
            "cards": sorted(set(p.cards.values())), "zone_matches": zone_matches,
        },
        "hidden_rules": list(p.hidden_rules),
    }  # fmt: skip


# ---- the suggestions --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Suggestion:
    id: str
    rule: str
    title: dict[str, str]
    reason: dict[str, str]
    link: str
    legal_source: str
    used: tuple[dict[str, Any], ...]

    def view(self) -> dict[str, Any]:
        return {
            "id": self.id, "rule": self.rule, "title": self.title, "reason": self.reason, "link": self.link,
            "legal_source": self.legal_source, "used": list(self.used),
        }  # fmt: skip


def _texts(rule: dict[str, Any], **values: Any) -> tuple[dict[str, str], dict[str, str]]:
    title = {lang: str(text).format(**values) for lang, text in rule["title"].items()}
    reason = {lang: str(text).format(**values) for lang, text in rule["reason"].items()}
    return title, reason


def _district_name(code: str | None) -> str:
    zone = find_zone(code) if code else None
    return zone.name if zone else (code or "")


def _one(rule: dict[str, Any], item: str | None, used: list[dict[str, Any]], **values: Any) -> Suggestion:
    title, reason = _texts(rule, **values)
    sid = f"{rule['rule']}.{item}" if item else str(rule["rule"])
    return Suggestion(sid, rule["rule"], title, reason, str(rule["link"]), str(rule["legal_source"]), tuple(used))


def build(rule: dict[str, Any], p: Profile, today: date, events: list[AgendaEvent], now: datetime) -> list[Suggestion]:
    """The suggestions of one rule the policy fired, with the person's details and the data used."""
    used: list[dict[str, Any]]
    match rule["rule"]:
        case "ibi-direct-debit":
            _, card_years = ibi_years(p)
            objects = ibi_objects(p)
            used = [{"key": "ibi_paid_by_card", "value": card_years, "from": SRC_RECEIPT},
                    {"key": "ibi_direct_debit", "value": False, "from": SRC_DEBIT}]  # fmt: skip
            if objects:
                used.append({"key": "cadastral_reference", "value": objects[0], "from": SRC_ISSUED})
            item = objects[0] if objects else None
            return [_one(rule, item, used, years=len(card_years), periods=", ".join(card_years))]
        case "ser-resident-card":
            ser = set(rule["ser_districts"])
            found = []
            for plate, v in sorted(p.vehicles.items()):
                if v.get("district") in ser:
                    vehicle = {"plate": plate, "district": v["district"]}
                    used = [{"key": "vehicle", "value": vehicle, "from": SRC_VEHICLE},
                            {"key": "resident_card_held", "value": False, "from": SRC_CARD}]  # fmt: skip
                    name = f"{v['district']} ({_district_name(v['district'])})"
                    found.append(_one(rule, plate, used, plate=plate, district=name))
            return found
        case "madrid-mayor":
            assert p.birth_date is not None
            age = age_on(p.birth_date, today)
            used = [{"key": "age", "value": age, "from": SRC_CITIZEN},
                    {"key": "district", "value": p.district, "from": SRC_CITIZEN},
                    {"key": "madrid_mayor_held", "value": False, "from": SRC_CARD}]  # fmt: skip
            return [_one(rule, None, used, age=age, min_age=rule["min_age"])]
        case "agenda-events":
            found = []
            labels = {z["district"]: z.get("label") or z["kind"] for z in p.zones}
            for event in matching_events(p, events, now, int(rule["max_events"])):
                when = min(d for d in event.next_dates if d >= now).astimezone(MADRID)
                zone = {"district": event.district, "label": labels.get(event.district or "")}
                booked = sorted(set(p.bookings.values()))
                used = [{"key": "booked_categories", "value": booked, "from": SRC_BOOKING},
                        {"key": "zone", "value": zone, "from": SRC_ZONES},
                        {"key": "event", "value": event.event_id, "from": SRC_AGENDA}]  # fmt: skip
                found.append(_one(
                    rule, event.event_id, used, title=event.title, category=event.category,
                    zone=labels.get(event.district or "", ""), district_name=_district_name(event.district),
                    date=when.strftime("%Y-%m-%d %H:%M"),
                ))  # fmt: skip
            return found
    return []


def suggestions(fired: list[dict[str, Any]], p: Profile, today: date, events: list[AgendaEvent],
                now: datetime) -> list[Suggestion]:  # fmt: skip
    """Every fired rule's suggestions, less those the person marked not useful."""
    hidden = set(p.hidden_items)
    return [s for rule in fired for s in build(rule, p, today, events, now) if s.id not in hidden]


def check_suggestion_id(value: str) -> str:
    if not SUGGESTION_ID.match(value):
        raise SuggestionNotFoundError(f"no suggestion {value[:80]!r}")
    return value


# ---- the store's port ---------------------------------------------------------------------------------------------


class RecommendStore(Protocol):
    def fetch_profile(self, citizen_id: str) -> Profile: ...

    def fetch_events(self, districts: list[str]) -> list[AgendaEvent]: ...

    def fetch_event(self, event_id: str) -> AgendaEvent | None: ...

    def stage_profile(self, uow: UnitOfWork, profile: Profile) -> None: ...

    def stage_event(self, uow: UnitOfWork, event: AgendaEvent, previous: AgendaEvent | None) -> None: ...

    def stage_erase_profile(self, uow: UnitOfWork, citizen_id: str) -> None: ...
