"""Read the council's open-data agenda into events, every record loaded or reported with its reason.

The format is the Ayuntamiento de Madrid's "Actividades culturales y de ocio municipales en los próximos 100 días"
(datos.madrid.es, dataset 206974): JSON-LD, its records in ``@graph``, and the same records as CSV (``;``,
windows-1252). What the files really hold, and what this module does about it:

- times are local without a zone (``"2026-10-18 19:00:00.0"``, ``"time": "19:00"``): Europe/Madrid, with the
  daylight-saving change (zoneinfo);
- ``excluded-days`` are ``d/m/yyyy`` separated by ``;`` (one that does not parse is ignored and reported);
- ``recurrence`` ``{days: "MO,WE", frequency: "WEEKLY", interval: 1}`` (the CSV's ``DIAS-SEMANA`` says
  ``L,M,X,J,V,S,D``): every such weekday between ``dtstart`` and ``dtend``, every ``interval`` weeks; an event
  spanning days without one (an exhibition) happens every day of its span;
- ``free`` (0/1) and the ``price`` text can disagree: a price text naming an amount makes it paid, a "gratis" /
  "entrada libre" text without one makes it free, and the disagreement is reported;
- events without a location (no ``location``, or 0/0) are loaded without coordinates (listed by district, never
  "near"); coordinates outside the municipality are dropped, reported;
- stray control characters (the published JSON has some raw in strings) are removed, reported.

Pure: no store, no clock (occurrences are all of them; the caller decides which are "next").
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

from functions.core import madrid_geo

MADRID = ZoneInfo("Europe/Madrid")
MAX_OCCURRENCES = 400  # a daily event over the 100 days' window, with room
MAX_TEXT = 4000
Format = Literal["json-ld", "csv"]
_CATEGORIES = Path(__file__).parent / "data" / "categories.json"
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_AMOUNT = re.compile(r"(\d+(?:[.,]\d{1,2})?)\s*(?:€|euros?\b|eur\b)", re.IGNORECASE)
_FREE_WORDS = re.compile(r"\b(gratis|gratuit[oa]s?|entrada libre|acceso libre|libre acceso)\b", re.IGNORECASE)
_WEEKDAYS = {"MO": 0, "TU": 1, "WE": 2, "TH": 3, "FR": 4, "SA": 5, "SU": 6,
             "L": 0, "M": 1, "X": 2, "J": 3, "V": 4, "S": 5, "D": 6}  # fmt: skip


@dataclass(frozen=True)
class AgendaEvent:
    """One council event as PIC keeps it: the record's facts, cleaned, and its occurrences (aware, Madrid)."""

    id: str
    title: str
    description: str
    category: str
    audience: tuple[str, ...]
    free: bool
    price: str
    starts: tuple[datetime, ...]
    all_day: bool
    minutes: int | None  # how long one occurrence lasts, when the record says (same-day dtend after the time)
    venue: str
    address: str
    district: str | None
    barrio: str | None
    lat: float | None
    lon: float | None
    link: str | None
    organization: str

    @property
    def cell(self) -> str | None:
        return madrid_geo.cell(self.lat, self.lon) if self.lat is not None and self.lon is not None else None

    def content_hash(self) -> str:
        """What changes when anything a person sees changes: re-loading the same record writes nothing."""
        return hashlib.sha256(json.dumps(as_json(self), sort_keys=True).encode()).hexdigest()[:32]


@dataclass
class Parsed:
    """A file read: the events, the records refused (with why) and the events loaded with a remark."""

    events: list[AgendaEvent] = field(default_factory=list)
    rejected: list[dict[str, str]] = field(default_factory=list)
    warnings: list[dict[str, str]] = field(default_factory=list)
    records: int = 0


class RecordError(ValueError):
    """Why one record is refused (the file goes on)."""


class FileError(ValueError):
    """Why a whole file cannot be read (not JSON, no ``@graph``, no CSV header)."""


# ---- the vocabulary ---------------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def vocabulary() -> dict[str, Any]:
    """Categories (the council's ``@type`` last segment → PIC's slug) and audiences, with their source."""
    return dict(json.loads(_CATEGORIES.read_text(encoding="utf-8")))


def _fold(text: str) -> str:
    """Lower case, no accents, no spaces or punctuation: "Puente de Vallecas" == "PuenteDeVallecas"."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]", "", plain.lower())


@lru_cache(maxsize=1)
def _district_codes() -> dict[str, str]:
    return {_fold(d.name): d.code for d in madrid_geo.districts()}


def district_code(name_or_uri: str) -> str | None:
    """An official district code from a name or the agenda's ``.../Distrito/PuenteDeVallecas`` URI."""
    last = name_or_uri.rstrip("/").rsplit("/", 1)[-1]
    return _district_codes().get(_fold(last))


def category_of(type_uri: str) -> str | None:
    last = type_uri.rstrip("/").rsplit("/", 1)[-1]
    found = vocabulary()["categories"].get(last)
    return str(found) if found else None


def audiences_of(text: str) -> tuple[str, ...]:
    known: dict[str, str] = vocabulary()["audiences"]
    found = [known.get(_fold(part), _fold(part)) for part in re.split(r"[,;/]", text) if _fold(part)]
    return tuple(dict.fromkeys(found))


# ---- cleaning -----------------------------------------------------------------------------------------------------


def _clean(value: Any, name: str, remarks: list[str], limit: int = MAX_TEXT) -> str:
    if value is None:
        return ""
    text = str(value)
    cleaned = _CONTROL.sub("", text)
    if cleaned != text:
        remarks.append(f"control characters removed from {name}")
    return " ".join(cleaned.split())[:limit] if name != "description" else cleaned.strip()[:limit]


def _stamp(text: str, name: str) -> datetime:
    """``2026-10-18 19:00:00.0`` (or ``2026-10-18``, or ISO ``T``) as a naive local date-time."""
    raw = text.strip().replace("T", " ")
    for pattern in ("%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"):
        try:
            return datetime.strptime(raw, pattern)
        except ValueError:
            continue
    raise RecordError(f"{name} {text[:40]!r} is not a date (yyyy-mm-dd hh:mm:ss.f)")


def _hhmm(text: str) -> time | None:
    match = re.fullmatch(r"\s*(\d{1,2})[:.](\d{2})\s*", text or "")
    if not match:
        return None
    hours, minutes = int(match[1]), int(match[2])
    return time(hours, minutes) if hours < 24 and minutes < 60 else None


def _excluded(text: str, remarks: list[str]) -> set[date]:
    days: set[date] = set()
    for part in re.split(r"[;,]", text or ""):
        if not part.strip():
            continue
        try:
            day, month, year = (int(x) for x in part.strip().split("/"))
            days.add(date(year, month, day))
        except ValueError:
            remarks.append(f"excluded day {part.strip()[:20]!r} is not d/m/yyyy: ignored")
    return days


def _weekdays(days: str) -> set[int]:
    found: set[int] = set()
    for part in re.split(r"[,;\s]+", days.strip().upper()):
        if not part:
            continue
        if part not in _WEEKDAYS:
            raise RecordError(f"recurrence day {part[:8]!r} is not one of MO..SU or L,M,X,J,V,S,D")
        found.add(_WEEKDAYS[part])
    return found


def occurrences(
    start: datetime, end: datetime, at: time | None, recurrence: dict[str, Any] | None, excluded: set[date]
) -> list[datetime]:
    """Every start of the event, aware in Europe/Madrid, in order (at most ``MAX_OCCURRENCES``)."""
    if end < start:
        raise RecordError("dtend is before dtstart")
    clock = at or start.time()
    first, last = start.date(), end.date()
    if recurrence and str(recurrence.get("days") or "").strip():
        frequency = str(recurrence.get("frequency") or "WEEKLY").upper()
        if frequency != "WEEKLY":
            raise RecordError(f"recurrence frequency {frequency[:12]!r}: only WEEKLY is published")
        try:
            interval = max(1, int(recurrence.get("interval") or 1))
        except (TypeError, ValueError):
            raise RecordError("recurrence interval is not a whole number") from None
        days = _weekdays(str(recurrence["days"]))
        monday = first - timedelta(days=first.weekday())
        dates = [d for d in _span(first, last)
                 if d.weekday() in days and ((d - monday).days // 7) % interval == 0]  # fmt: skip
    else:
        dates = list(_span(first, last))
    starts = [datetime.combine(d, clock, tzinfo=MADRID) for d in dates if d not in excluded]
    return starts[:MAX_OCCURRENCES]


def _span(first: date, last: date) -> list[date]:
    if (last - first).days > 3 * MAX_OCCURRENCES:
        raise RecordError("the event spans more than three years")
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _free(flag: Any, price: str, remarks: list[str]) -> bool:
    said_free = str(flag).strip() in ("1", "true", "True", "S", "SI", "Sí")
    amounts = [float(a.replace(",", ".")) for a in _AMOUNT.findall(price)]
    if said_free and any(a > 0 for a in amounts):
        remarks.append("free says free but the price text names an amount: shown as paid, with the price text")
        return False
    if not said_free and not any(a > 0 for a in amounts) and _FREE_WORDS.search(price):
        remarks.append("free says paid but the price text says free and names no amount: shown as free")
        return True
    return said_free


def _coordinates(lat: Any, lon: Any, remarks: list[str]) -> tuple[float, float, madrid_geo.Place] | None:
    try:
        y, x = float(str(lat).replace(",", ".")), float(str(lon).replace(",", "."))
    except (TypeError, ValueError):
        remarks.append("no location: listed by district, never near a place")
        return None
    if y == 0 and x == 0:
        remarks.append("no location: listed by district, never near a place")
        return None
    place = madrid_geo.locate(y, x)
    if place is None:
        remarks.append(f"location {y:.5f},{x:.5f} is outside Madrid: dropped")
        return None
    return round(y, 6), round(x, 6), place


# ---- one record -------------------------------------------------------------------------------------------------


def _event(fields: dict[str, Any], remarks: list[str]) -> AgendaEvent:
    """One record's fields (already mapped from JSON-LD or CSV names) as an event, or RecordError."""
    event_id = _clean(fields.get("id"), "id", remarks, 64)
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", event_id):
        raise RecordError("no id (or not letters and digits)")
    title = _clean(fields.get("title"), "title", remarks, 300)
    if not title:
        raise RecordError("no title")
    if not str(fields.get("dtstart") or "").strip():
        raise RecordError("no dtstart")
    start = _stamp(str(fields["dtstart"]), "dtstart")
    end = _stamp(str(fields.get("dtend") or fields["dtstart"]), "dtend")
    at = _hhmm(str(fields.get("time") or ""))
    if str(fields.get("time") or "").strip() and at is None:
        remarks.append(f"time {str(fields['time'])[:10]!r} is not hh:mm: the start's time is used")
    starts = occurrences(start, end, at, fields.get("recurrence"), _excluded(str(fields.get("excluded") or ""),
                                                                                 remarks))  # fmt: skip
    if not starts:
        raise RecordError("no day is left once the excluded days are taken out")
    clock = at or start.time()
    all_day = at is None and clock == time(0, 0)
    minutes = None
    # a same-day dtend says how long it lasts; 23:59 is the agenda's "until the end of the day", not a duration
    if not all_day and clock < end.time() < time(23, 59) and end.date() == start.date():
        minutes = (datetime.combine(date.min, end.time()) - datetime.combine(date.min, clock)).seconds // 60
    price = _clean(fields.get("price"), "price", remarks, 300)
    type_uri = str(fields.get("type") or "")
    category = category_of(type_uri) if type_uri else None
    if category is None:
        remarks.append(f"category {type_uri.rsplit('/', 1)[-1][:40]!r} is not in the vocabulary: otros")
    located = _coordinates(fields.get("lat"), fields.get("lon"), remarks)
    district = district_code(str(fields.get("district") or "")) if fields.get("district") else None
    barrio = None
    lat = lon = None
    if located:
        lat, lon, place = located
        if district and district != place.district_code:
            remarks.append(f"district {district} disagrees with its location's ({place.district_code}): location kept")
        district, barrio = place.district_code, place.barrio_code
    link = _clean(fields.get("link"), "link", remarks, 500)
    return AgendaEvent(
        id=event_id, title=title, description=_clean(fields.get("description"), "description", remarks),
        category=category or "otros", audience=audiences_of(_clean(fields.get("audience"), "audience", remarks)),
        free=_free(fields.get("free"), price, remarks), price=price, starts=tuple(starts), all_day=all_day,
        minutes=minutes, venue=_clean(fields.get("venue"), "event-location", remarks, 300),
        address=_clean(fields.get("address"), "address", remarks, 300), district=district, barrio=barrio,
        lat=lat, lon=lon, link=link if link.startswith(("http://", "https://")) else None,
        organization=_clean(fields.get("organization"), "organization", remarks, 300),
    )  # fmt: skip


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _from_jsonld(record: dict[str, Any]) -> dict[str, Any]:
    address = _object(record.get("address"))
    area, district = _object(address.get("area")), _object(address.get("district"))
    location, organization = _object(record.get("location")), _object(record.get("organization"))
    audience = record.get("audience")
    return {
        "id": record.get("id") or str(record.get("@id") or "").rstrip("/").rsplit("/", 1)[-1].split("-")[0],
        "title": record.get("title"), "description": record.get("description"), "free": record.get("free"),
        "price": record.get("price"), "dtstart": record.get("dtstart"), "dtend": record.get("dtend"),
        "time": record.get("time"), "excluded": record.get("excluded-days"),
        "recurrence": record.get("recurrence") if isinstance(record.get("recurrence"), dict) else None,
        "venue": record.get("event-location"), "type": record.get("@type"), "link": record.get("link"),
        "address": " ".join(str(area.get(k) or "") for k in ("street-address", "postal-code")).strip(),
        "district": district.get("@id"), "lat": location.get("latitude"), "lon": location.get("longitude"),
        "organization": organization.get("organization-name"),
        "audience": ",".join(audience) if isinstance(audience, list) else audience,
    }  # fmt: skip


def _from_csv(row: dict[str, str]) -> dict[str, Any]:
    days = (row.get("DIAS-SEMANA") or "").strip()
    return {
        "id": row.get("ID-EVENTO"), "title": row.get("TITULO"), "description": row.get("DESCRIPCION"),
        "free": row.get("GRATUITO"), "price": row.get("PRECIO"), "dtstart": row.get("FECHA"),
        "dtend": row.get("FECHA-FIN"), "time": row.get("HORA"), "excluded": row.get("DIAS-EXCLUIDOS"),
        "recurrence": {"days": days, "frequency": "WEEKLY", "interval": 1} if days else None,
        "venue": row.get("NOMBRE-INSTALACION"), "type": row.get("TIPO"), "link": row.get("CONTENT-URL"),
        "address": " ".join(x for x in (row.get("CLASE-VIAL-INSTALACION"), row.get("NOMBRE-VIA-INSTALACION"),
                                        row.get("NUM-INSTALACION"), row.get("CODIGO-POSTAL-INSTALACION")) if x),
        "district": row.get("DISTRITO-INSTALACION"), "lat": row.get("LATITUD"), "lon": row.get("LONGITUD"),
        "organization": row.get("NOMBRE-INSTALACION"), "audience": row.get("AUDIENCIA"),
    }  # fmt: skip


# ---- a file -------------------------------------------------------------------------------------------------------


def _records(content: bytes, fmt: Format) -> list[tuple[str, dict[str, Any] | None]]:
    """The file's records as (reference, mapped fields or None when the record is not an object)."""
    if fmt == "json-ld":
        try:
            # strict=False: the published file carries raw control characters inside strings
            data = json.loads(content.decode("utf-8-sig"), strict=False)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise FileError(f"not JSON: {exc}") from None
        graph = data.get("@graph") if isinstance(data, dict) else None
        if not isinstance(graph, list):
            raise FileError("no @graph list: not the agenda's JSON-LD")
        return [(f"@graph[{i}]", _from_jsonld(r) if isinstance(r, dict) else None) for i, r in enumerate(graph)]
    text = content.decode("cp1252", errors="replace")  # the council publishes the CSV in windows-1252
    reader = csv.DictReader(io.StringIO(text), delimiter=";")
    if not reader.fieldnames or "ID-EVENTO" not in reader.fieldnames:
        raise FileError("no CSV header with ID-EVENTO: not the agenda's CSV (';', windows-1252)")
    return [(f"line {n + 2}", _from_csv(row)) for n, row in enumerate(reader)]


def parse(content: bytes, fmt: Format) -> Parsed:
    """Every record of an agenda file: loaded (``events``), or refused with its reason (``rejected``); the
    loaded ones' remarks in ``warnings``. A record id seen twice keeps the first and refuses the second."""
    parsed = Parsed()
    seen: set[str] = set()
    for ref, fields in _records(content, fmt):
        parsed.records += 1
        remarks: list[str] = []
        try:
            if fields is None:
                raise RecordError("not an object")
            event = _event(fields, remarks)
            if event.id in seen:
                raise RecordError(f"id {event.id} repeats an earlier record")
        except RecordError as why:
            record_id = str((fields or {}).get("id") or "")[:64]
            parsed.rejected.append({"record": ref, "id": record_id, "reason": str(why)})
            continue
        seen.add(event.id)
        parsed.events.append(event)
        parsed.warnings.extend({"record": ref, "id": event.id, "warning": r} for r in remarks)
    return parsed


# ---- (de)serialising --------------------------------------------------------------------------------------------


def as_json(event: AgendaEvent) -> dict[str, Any]:
    return {
        "id": event.id, "title": event.title, "description": event.description, "category": event.category,
        "audience": list(event.audience), "free": event.free, "price": event.price,
        "starts": [s.isoformat() for s in event.starts], "all_day": event.all_day, "minutes": event.minutes,
        "venue": event.venue, "address": event.address, "district": event.district, "barrio": event.barrio,
        "lat": event.lat, "lon": event.lon, "link": event.link, "organization": event.organization,
    }  # fmt: skip


def from_json(data: dict[str, Any]) -> AgendaEvent:
    return AgendaEvent(
        id=data["id"], title=data["title"], description=data["description"], category=data["category"],
        audience=tuple(data["audience"]), free=data["free"], price=data["price"],
        starts=tuple(datetime.fromisoformat(s) for s in data["starts"]), all_day=data["all_day"],
        minutes=data.get("minutes"), venue=data["venue"], address=data["address"], district=data["district"],
        barrio=data["barrio"], lat=data["lat"], lon=data["lon"], link=data["link"], organization=data["organization"],
    )  # fmt: skip
