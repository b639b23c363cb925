"""What each system's record becomes: the platform's CloudEvents (``events/``), validated by their pydantic models.

- Padrón: the habitante → ``citizen.record.upserted`` (source ``/legacy/padron``, key the inscription number);
- Tributos: the taxpayer → ``citizen.record.upserted`` (``/legacy/tributos``, key the taxpayer's id) and the
  receipt → ``tax.receipt.issued`` naming that record (PAY attaches it to the person once C360 links the record);
- Multas: the person fined → ``citizen.record.upserted`` (``/legacy/multas``) and the fine → ``fine.issued``;
- Cita Previa: the person → ``citizen.record.upserted`` (``/legacy/cita-previa``) and the appointment →
  ``position.item.upserted`` (section ``appointments``), both keyed by Cita Previa's id for the person.

A value that cannot be read (``31/02/2026``, ``12,3,4 €``), a required one missing, or an event its model refuses is
a ``ValueError`` naming the field: the line becomes a dead letter and nothing of it is sent. Pure.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pydantic

from events.catalog import CATALOG
from functions.intake.files import RawRecord
from functions.intake.layouts import Format
from functions.intake.service import Outgoing

MADRID = ZoneInfo("Europe/Madrid")
RECORD_UPSERTED = "es.madrid.pic.citizen.record.upserted.v1"
RECEIPT_ISSUED = "es.madrid.pic.tax.receipt.issued.v1"
FINE_ISSUED = "es.madrid.pic.fine.issued.v1"
ITEM_UPSERTED = "es.madrid.pic.position.item.upserted.v1"
DNI = re.compile(r"^[0-9]{8}[A-Z]$")
NIE = re.compile(r"^[XYZ][0-9]{7}[A-Z]$")
# INE's document types in the Padrón's files: 1 DNI, 2 pasaporte, 3 tarjeta de extranjero (NIE)
PADRON_DOCUMENTS = {"1": "DNI", "2": "PASSPORT", "3": "NIE"}
OBJECT_KINDS = {
    "REF_CATASTRAL": "cadastral-reference",
    "MATRICULA": "plate",
    "LICENCIA_OBRAS": "works-licence",
    "ACTIVIDAD": "activity",
    "OTRO": "other",
}
MODALITIES = {"PU": "pago-unico", "PC": "pago-a-la-carta", "FB": "fraccionado-bonificado"}
SEVERITIES = {"LEVE": "leve", "GRAVE": "grave", "MUY GRAVE": "muy-grave"}
REGIMES = {"TRAFICO": "traffic", "ADMINISTRATIVO": "administrative"}
APPOINTMENT_STATES = {"CONFIRMADA": "booked", "ATENDIDA": "attended", "NO PRESENTADO": "missed", "ANULADA": "cancelled"}


def _opt(fields: dict[str, str], name: str) -> str | None:
    value = fields.get(name, "").strip()
    return value or None


def _need(fields: dict[str, str], name: str) -> str:
    value = _opt(fields, name)
    if value is None:
        raise ValueError(f"{name}: required, empty")
    return value


def yyyymmdd(value: str | None, name: str) -> str | None:
    if not value or value.strip("0 ") == "":
        return None
    try:
        return datetime.strptime(value, "%Y%m%d").date().isoformat()
    except ValueError:
        raise ValueError(f"{name}: {value!r} is not a date AAAAMMDD") from None


def ddmmyyyy(value: str, name: str) -> date:
    try:
        return datetime.strptime(value, "%d/%m/%Y").date()
    except ValueError:
        raise ValueError(f"{name}: {value!r} is not a date dd/mm/aaaa") from None


def madrid_time(value: str, name: str) -> str:
    """``dd/mm/aaaa hh:mm[:ss]`` on Madrid's clock (the legacy files carry no offset) as an aware ISO 8601."""
    for pattern in ("%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M"):
        try:
            return datetime.strptime(value, pattern).replace(tzinfo=MADRID).isoformat()
        except ValueError:
            continue
    raise ValueError(f"{name}: {value!r} is not a time dd/mm/aaaa hh:mm on Madrid's clock")


def cents(value: str, name: str) -> int:
    """A Spanish amount in euros (``1.234,56``, ``456,78``, ``98``) as integer cents."""
    text = value.replace("€", "").replace(" ", "").replace(".", "")
    if not re.fullmatch(r"[0-9]{1,12}(,[0-9]{1,2})?", text):
        raise ValueError(f"{name}: {value!r} is not an amount in euros (1.234,56)")
    units, _, decimals = text.partition(",")
    return int(units) * 100 + int((decimals + "00")[:2])


def document(number: str | None) -> dict[str, str] | None:
    """A NIF as the systems write it: a DNI (8 digits and letter) or a NIE (X/Y/Z, 7 digits, letter). The check
    letter is C360's to judge (a wrong one is a finding there), not a reason to drop the record."""
    if not number:
        return None
    value = number.upper().replace("-", "").replace(" ", "")
    if DNI.match(value):
        return {"type": "DNI", "number": value}
    if NIE.match(value):
        return {"type": "NIE", "number": value}
    raise ValueError(f"nif: {number!r} is neither a DNI nor a NIE")


def _drop_none(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if v is not None}


def _person(key: str, doc: dict[str, str] | None, f: dict[str, str], **more: Any) -> Outgoing:
    data = _drop_none(
        {
            "local_id": key,
            "document": doc,
            "given_name": _opt(f, "nombre"),
            "first_surname": _opt(f, "apellido1"),
            "second_surname": _opt(f, "apellido2"),
            **more,
        }
    )
    return Outgoing(RECORD_UPSERTED, "person", key, data)


# ---- per system ----------------------------------------------------------------------------------------------------


def padron(f: dict[str, str], source: str) -> list[Outgoing]:
    key = _need(f, "numero_inscripcion")
    kind = _opt(f, "tipo_documento")
    doc = None
    if kind is not None:
        if kind not in PADRON_DOCUMENTS:
            raise ValueError(f"tipo_documento: {kind!r} is not 1 (DNI), 2 (pasaporte) or 3 (NIE)")
        doc = {"type": PADRON_DOCUMENTS[kind], "number": _need(f, "numero_documento").upper()}
    street = " ".join(x for x in (_opt(f, "tipo_via"), _opt(f, "nombre_via")) if x) or None
    address = _drop_none(
        {
            "street": street,
            "number": _opt(f, "numero"),
            "postal_code": _opt(f, "codigo_postal"),
            "district": _opt(f, "distrito"),
            "barrio": _opt(f, "barrio"),
        }
    )
    more = {
        "birth_date": yyyymmdd(_opt(f, "fecha_nacimiento"), "fecha_nacimiento"),
        "email": _opt(f, "email"),
        "phone": _opt(f, "telefono"),
        "address": address or None,
    }
    return [_person(key, doc, f, **more)]


def tributos(f: dict[str, str], source: str) -> list[Outgoing]:
    taxpayer = _need(f, "id_contribuyente")
    address = _drop_none(
        {"street": _opt(f, "domicilio"), "number": _opt(f, "numero"), "postal_code": _opt(f, "codigo_postal")}
    )
    person = _person(taxpayer, document(_opt(f, "nif")), f, address=address or None)
    kind = _need(f, "objeto_tipo").upper()
    if kind not in OBJECT_KINDS:
        raise ValueError(f"objeto_tipo: {kind!r} is not one of {', '.join(OBJECT_KINDS)}")
    debited = _need(f, "domiciliado").upper()
    if debited not in ("S", "N"):
        raise ValueError(f"domiciliado: {debited!r} is not S or N")
    modality = _opt(f, "modalidad")
    if modality is not None and modality.upper() not in MODALITIES:
        raise ValueError(f"modalidad: {modality!r} is not PU, PC or FB")
    period = _need(f, "ejercicio") + (f"-{p}" if (p := _opt(f, "periodo")) else "")
    receipt = _drop_none(
        {
            "receipt_id": _need(f, "num_recibo"),
            "record": {"source": source, "local_id": taxpayer},
            "tax": _need(f, "impuesto"),
            "concept": _opt(f, "concepto"),
            "object": {"kind": OBJECT_KINDS[kind], "reference": _need(f, "objeto_ref")},
            "period": period,
            "amount_cents": cents(_need(f, "importe"), "importe"),
            "voluntary_period": {
                "start": ddmmyyyy(_need(f, "inicio_voluntaria"), "inicio_voluntaria").isoformat(),
                "end": ddmmyyyy(_need(f, "fin_voluntaria"), "fin_voluntaria").isoformat(),
            },
            "direct_debit": {
                "status": "active" if debited == "S" else "none",
                "modality": MODALITIES[modality.upper()] if modality and debited == "S" else None,
            },
        }
    )
    return [person, Outgoing(RECEIPT_ISSUED, "receipt", receipt["receipt_id"], receipt)]


def multas(f: dict[str, str], source: str) -> list[Outgoing]:
    offender = _need(f, "id_denunciado")
    address = _drop_none({"street": _opt(f, "domicilio"), "postal_code": _opt(f, "codigo_postal")})
    person = _person(offender, document(_opt(f, "nif")), f, address=address or None)
    severity, regime = _need(f, "gravedad").upper(), _need(f, "regimen").upper()
    if severity not in SEVERITIES:
        raise ValueError(f"gravedad: {severity!r} is not LEVE, GRAVE or MUY GRAVE")
    if regime not in REGIMES:
        raise ValueError(f"regimen: {regime!r} is not TRAFICO or ADMINISTRATIVO")
    fine = _drop_none(
        {
            "fine_id": _need(f, "expediente"),
            "record": {"source": source, "local_id": offender},
            "plate": (_opt(f, "matricula") or "").replace(" ", "").replace("-", "").upper() or None,
            "infraction": {"article": _need(f, "articulo"), "description": _need(f, "hecho")},
            "severity": SEVERITIES[severity],
            "regime": REGIMES[regime],
            "amount_cents": cents(_need(f, "importe"), "importe"),
            "notified_at": madrid_time(_need(f, "fecha_notificacion"), "fecha_notificacion"),
        }
    )
    return [person, Outgoing(FINE_ISSUED, "fine", fine["fine_id"], fine)]


def cita_previa(f: dict[str, str], source: str) -> list[Outgoing]:
    key = _need(f, "id_persona")
    kind, number = _opt(f, "tipo_documento"), _opt(f, "numero_documento")
    doc = None
    if number:
        doc = (
            document(number)
            if (kind or "NIF").upper() in ("NIF", "DNI", "NIE")
            else {"type": "PASSPORT", "number": number.upper()}
        )
    person = _person(key, doc, f, phone=_opt(f, "telefono"), email=_opt(f, "email"))
    state = _need(f, "estado").upper()
    if state not in APPOINTMENT_STATES:
        raise ValueError(f"estado: {state!r} is not one of {', '.join(APPOINTMENT_STATES)}")
    starts = madrid_time(f"{_need(f, 'fecha')} {_need(f, 'hora')}", "fecha/hora")
    item: dict[str, Any] = {
        "local_id": key,
        "section": "appointments",
        "item_id": _need(f, "id_cita"),
        "status": APPOINTMENT_STATES[state],
        "title": f"Cita: {_need(f, 'servicio')}"[:200],
        "area": "atencion-ciudadania",
        "as_of": madrid_time(_need(f, "actualizado"), "actualizado"),
        "starts_at": starts,
        "reference": _need(f, "id_cita"),
        "attributes": {"oficina": _need(f, "oficina")},
        "removed": state == "ANULADA",
    }
    return [person, Outgoing(ITEM_UPSERTED, "appointment", str(item["item_id"]), item)]


ADAPTERS: dict[str, Callable[[dict[str, str], str], list[Outgoing]]] = {
    "padron": padron,
    "tributos": tributos,
    "multas": multas,
    "cita-previa": cita_previa,
}


def _errors(exc: pydantic.ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'record'}: {e['msg']}" for e in exc.errors())


def events_of(system: str, source: str, fmt: Format, record: RawRecord) -> list[Outgoing]:
    """A record's events, each valid against its event type's model; ``ValueError`` naming why not."""
    if fmt.name == "json":
        keys = set(record.fields)
        if not record.fields and not record.raw.startswith("{"):
            raise ValueError("not a JSON object")
        missing, extra = sorted(set(fmt.columns) - keys), sorted(keys - set(fmt.columns))
        if missing or extra:
            raise ValueError(
                "; ".join(
                    x
                    for x in (missing and f"missing {', '.join(missing)}", extra and f"unknown {', '.join(extra)}")
                    if x
                )
            )
    out = ADAPTERS[system](record.fields, source)
    for item in out:
        try:
            CATALOG[item.type].model.model_validate(item.data)
        except pydantic.ValidationError as exc:
            raise ValueError(f"not a valid {item.type.removeprefix('es.madrid.pic.')}: {_errors(exc)}") from None
    return out
