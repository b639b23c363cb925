"""The example mapping: Licencias (licencias urbanísticas y de actividad) rows -> PIC's CloudEvents.

Licencias keeps who holds a file (``licencias.titulares``: a person's document, name, birth date, contact data
and address) and the files (``licencias.expedientes``: an urban-planning or activity licence, its state, site and
validity, as the Ordenanza 6/2022, de 26 de abril, de Licencias y Declaraciones Responsables Urbanísticas del
Ayuntamiento de Madrid (OLDRUM, BOCM 9-5-2022) names them). ``local/postgres.py`` creates that sample schema.

- a holder inserted or updated -> ``es.madrid.pic.citizen.record.upserted.v1`` (``local_id`` = the holder's id):
  C360 links it to the person's golden record, by document or by the probabilistic match (ADR 0008);
- a file inserted or updated -> ``es.madrid.pic.position.item.upserted.v1``, section ``permits``, keyed by the
  holder's id (the same ``local_id``): the global position shows it; a file deleted -> the same with
  ``removed``; a file moved to another holder -> removed from the old holder, upserted for the new one;
- a holder deleted -> nothing: deleting an area system's record of a person is not an erasure in PIC (that is a
  data-subject request, ADR 0012), and C360 has no event for it; the capture logs it and goes on.

An event's id is a hash of the source, the change's WAL position, the table and the row's key (and the type and
person, as one change may yield two events): a change decoded again after a crash is the same event, which the
consumers acknowledge as a duplicate. A snapshot row has no WAL position: its id hashes its content instead, so
a snapshot run again is the same events.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from functions.cdc.changes import Change, TableSpec

SOURCE = "/legacy/licencias"
ACCOUNT = "legacy-licencias"
RECORD_TYPE = "es.madrid.pic.citizen.record.upserted.v1"
ITEM_TYPE = "es.madrid.pic.position.item.upserted.v1"
AREA = "urbanismo"
HOLDERS = "licencias.titulares"
FILES = "licencias.expedientes"

# PostgreSQL's type OIDs (pg_type): what the mapping expects each column to be
TEXT, DATE, NUMERIC, TIMESTAMPTZ = 25, 1082, 1700, 1184
TABLES = {
    HOLDERS: TableSpec(
        {
            "id": TEXT,
            "tipo_documento": TEXT,
            "numero_documento": TEXT,
            "nombre": TEXT,
            "apellido1": TEXT,
            "apellido2": TEXT,
            "fecha_nacimiento": DATE,
            "email": TEXT,
            "telefono": TEXT,
            "via": TEXT,
            "numero": TEXT,
            "codigo_postal": TEXT,
            "distrito": TEXT,
            "modificado": TIMESTAMPTZ,
        },
        key="id",
    ),
    FILES: TableSpec(
        {
            "id": TEXT,
            "titular_id": TEXT,
            "tipo": TEXT,
            "descripcion": TEXT,
            "estado": TEXT,
            "emplazamiento": TEXT,
            "fecha_solicitud": DATE,
            "vigencia": DATE,
            "tasa_eur": NUMERIC,
            "modificado": TIMESTAMPTZ,
        },
        key="id",
        full_identity=True,  # a deleted file must say whose it was: the old row, not only its key
    ),
}
# The kinds of file (OLDRUM): what the position shows as the item's title
KINDS = {
    "obra-menor": "Licencia de obra menor",
    "obra-mayor": "Licencia de obra mayor",
    "declaracion-responsable": "Declaración responsable urbanística",
    "actividad": "Licencia de actividad",
    "primera-ocupacion": "Licencia de primera ocupación y funcionamiento",
}


@dataclass(frozen=True)
class Outgoing:
    """One CloudEvent to publish as Licencias, and the change it came from."""

    type: str
    id: str
    subject: str
    data: dict[str, Any]
    table: str
    key: str
    op: str
    lsn: int


def event_id(*parts: object) -> str:
    return hashlib.sha256("\n".join(str(p) for p in (SOURCE, *parts)).encode()).hexdigest()[:32]


def events_for(change: Change) -> list[Outgoing]:
    """The events one row change means (none for a holder's delete)."""
    if change.table == HOLDERS:
        if change.op == "delete":
            return []
        return [_out(change, RECORD_TYPE, change.key, holder_record(change.row))]
    if change.table == FILES:
        row, as_of = change.row, _as_of(change)
        if change.op == "delete":
            return [_out(change, ITEM_TYPE, str(row["titular_id"]), permit(row, as_of, removed=True))]
        moved = []
        old_holder = (change.old or {}).get("titular_id")
        if change.op == "update" and old_holder and old_holder != row["titular_id"]:
            moved = [
                _out(change, ITEM_TYPE, old_holder, permit({**row, "titular_id": old_holder}, as_of, removed=True))
            ]
        return [*moved, _out(change, ITEM_TYPE, str(row["titular_id"]), permit(row, as_of))]
    return []


def _out(change: Change, type_: str, subject: str, data: dict[str, Any]) -> Outgoing:
    if change.op == "snapshot":  # no WAL position: the content names it, so a snapshot again is the same events
        name = event_id("snapshot", change.table, change.key, type_, json.dumps(data, sort_keys=True))
    else:
        name = event_id(change.lsn, change.table, change.key, type_, subject)
    return Outgoing(type_, name, subject, data, change.table, change.key, change.op, change.lsn)


def _as_of(change: Change) -> str:
    """When Licencias' fact was true: the commit's time (a snapshot row: its own ``modificado``)."""
    if change.op == "snapshot" and change.row.get("modificado"):
        return datetime.fromisoformat(str(change.row["modificado"])).isoformat()
    return change.commit_time.isoformat()


def holder_record(row: dict[str, str | None]) -> dict[str, Any]:
    """A holder as ``citizen.record.upserted`` carries a person; empty columns are left out."""
    data: dict[str, Any] = {"local_id": row["id"]}
    if row.get("tipo_documento") and row.get("numero_documento"):
        data["document"] = {"type": row["tipo_documento"], "number": row["numero_documento"]}
    names = {"given_name": "nombre", "first_surname": "apellido1", "second_surname": "apellido2",
             "birth_date": "fecha_nacimiento", "email": "email", "phone": "telefono"}  # fmt: skip
    data |= {field: row[column] for field, column in names.items() if row.get(column)}
    address = {"street": "via", "number": "numero", "postal_code": "codigo_postal", "district": "distrito"}
    found = {field: row[column] for field, column in address.items() if row.get(column)}
    if found:
        data["address"] = found
    return data


def permit(row: dict[str, str | None], as_of: str, removed: bool = False) -> dict[str, Any]:
    """A file as the global position's ``permits`` item of its holder."""
    kind = str(row.get("tipo") or "")
    title = f"{KINDS.get(kind, kind or 'Expediente')}: {row.get('descripcion') or ''}".rstrip(": ")
    data: dict[str, Any] = {
        "local_id": row["titular_id"],
        "section": "permits",
        "item_id": row["id"],
        "status": row.get("estado"),
        "title": title[:200],
        "area": AREA,
        "as_of": as_of,
        "reference": row["id"],
        "attributes": {k: str(row[k]) for k in ("tipo", "emplazamiento", "fecha_solicitud") if row.get(k)},
        "removed": removed,
    }
    if row.get("vigencia"):
        data["valid_until"] = row["vigencia"]
    if row.get("tasa_eur") is not None:
        data["amount_eur"] = row["tasa_eur"]
    return data


def problem(event: Outgoing) -> str | None:
    """Why the event fails its type's schema (what the consumers will refuse it for), or None."""
    from events.citizen import CitizenRecordUpserted
    from events.position import PositionItemUpserted

    model = CitizenRecordUpserted if event.type == RECORD_TYPE else PositionItemUpserted
    try:
        model.model_validate(event.data)
    except ValidationError as exc:
        return "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
    return None
