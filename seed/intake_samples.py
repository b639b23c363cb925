"""Sample files of the area systems, in their layouts (``functions/intake/layouts``), for the legacy adapters.

``python -m seed.intake_samples [--out functions/intake/samples] [--people 12]`` writes, from ``seed.city``'s people
(seed 19: not ``make run``'s city; keys of their own, so they never touch its records), byte-identical each time:

- ``padron-2026-12.txt``: the Padrón's periodic extract, fixed-width (300 characters, ISO-8859-15, header and
  trailer) with three bad lines (a date that does not exist, an unknown document type, no inscription number);
- ``padron-2026-12.csv``: the same people as CSV (``;``, ISO-8859-15) with one bad line;
- ``padron-2026-12-utf8.txt``: the extract written in UTF-8 by mistake (refused whole: wrong encoding);
- ``padron-2026-12-cortado.txt``: the extract cut short in transfer (refused whole: no trailer);
- ``tributos-2026-ibi-ivtm.csv``: Tributos' receipts (``;``, windows-1252) for the same people (by DNI), with
  three bad lines (an amount that is not one, 31/02, a NIF that is neither DNI nor NIE);
- ``multas-2026-12.csv`` and ``multas-2026-12.json``: fines (UTF-8), a bad line each;
- ``cita-previa-2026-12.csv``: Cita Previa's appointments (``;``, UTF-8), a bad line.

``padron_extract(n)`` builds an extract of ``n`` people for the benchmark (``bench/intake.py``).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path

from functions.intake.layouts import Format, layout
from seed.city import CityConfig, NoiseRates, PeopleFactory, Person

SEED = 19
EXTRACTED = date(2026, 12, 1)
OUT = Path(__file__).resolve().parents[1] / "functions" / "intake" / "samples"
INE_DOCUMENT = {"DNI": "1", "PASSPORT": "2", "NIE": "3"}


def people(n: int) -> Iterator[tuple[int, Person]]:
    factory = PeopleFactory(CityConfig(people=max(n, 1), seed=SEED, rates=NoiseRates.none()))
    produced = 0
    index = 0
    while produced < n:
        index += 1
        person = factory.person(index)
        if person.resident and person.address.get("district"):
            produced += 1
            yield produced, person


def inscription(i: int) -> str:
    return f"M19{i:09d}"


VIA_TYPES = {
    "c.": "CALLE",
    "calle": "CALLE",
    "avenida": "AVDA",
    "avda.": "AVDA",
    "paseo": "PASEO",
    "plaza": "PLAZA",
    "via": "VIA",
    "vía": "VIA",
    "camino": "CMNO",
    "ronda": "RONDA",
    "glorieta": "GTA",
    "travesía": "TRVA",
    "carrera": "CARR",
    "cuesta": "CUSTA",
    "pasaje": "PSAJE",
    "callejón": "CJON",
    "urbanización": "URB",
}


def street_parts(street: str) -> tuple[str, str]:
    """The Padrón's via type (its abbreviation) and the via's name, from a street as ``seed.city`` writes it."""
    first, _, rest = street.partition(" ")
    kind = VIA_TYPES.get(first.lower())
    return (kind, rest) if kind and rest else ("CALLE", street)


def padron_fields(i: int, p: Person) -> dict[str, str]:
    kind, name = street_parts(p.address["street"])
    doc = p.document
    return {
        "provincia": "28",
        "municipio": "079",
        "distrito": p.address["district"] or "",
        "seccion": f"{(i * 7) % 150 + 1:03d}",
        "barrio": f"{p.address['district']}{1 + i % 4}",
        "numero_inscripcion": inscription(i),
        "tipo_documento": INE_DOCUMENT[doc["type"]] if doc else "",
        "numero_documento": doc["number"] if doc else "",
        "nombre": p.given_name,
        "apellido1": p.first_surname,
        "apellido2": p.second_surname or "",
        "sexo": "6" if p.sex == "F" else "1",
        "fecha_nacimiento": p.birth_date.strftime("%Y%m%d"),
        "tipo_via": kind,
        "nombre_via": name,
        "numero": p.address["number"],
        "codigo_postal": p.address["postal_code"],
        "telefono": p.mobile or "",
        "email": p.email or "",
        "fecha_variacion": "20261115",
    }


def _fixed_line(fmt: Format, part: str, values: dict[str, str]) -> str:
    record = {"header": fmt.header, "detail": fmt.detail, "trailer": fmt.trailer}[part]
    assert record is not None
    out = []
    for f in record.fields:
        value = record.code if f.name == "tipo_registro" else values.get(f.name, "")
        out.append(
            value[: f.length].ljust(f.length)
            if not value.isdigit() or f.name != "total_registros"
            else value.zfill(f.length)
        )
    return "".join(out)


def padron_fixed(rows: list[dict[str, str]]) -> str:
    lay = layout("padron")
    assert lay is not None
    fmt = lay.format_for("x.txt")
    assert fmt is not None
    lines = [
        _fixed_line(
            fmt, "header", {"provincia": "28", "municipio": "079", "fecha_extraccion": EXTRACTED.strftime("%Y%m%d")}
        )
    ]
    lines += [_fixed_line(fmt, "detail", row) for row in rows]
    lines.append(_fixed_line(fmt, "trailer", {"total_registros": str(len(rows))}))
    return "\r\n".join(lines) + "\r\n"


def _csv(columns: tuple[str, ...] | list[str], rows: list[dict[str, str]], delimiter: str) -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([row.get(c, "") for c in columns])
    return out.getvalue()


def padron_extract(n: int) -> bytes:
    """An extract of ``n`` people, fixed-width, ISO-8859-15 (no bad lines): the benchmark's file."""
    return padron_fixed([padron_fields(i, p) for i, p in people(n)]).encode("iso-8859-15", "replace")


def padron_rows(n: int) -> list[dict[str, str]]:
    rows = [padron_fields(i, p) for i, p in people(n)]
    rows.insert(3, {**rows[0], "numero_inscripcion": inscription(900), "fecha_nacimiento": "20261345"})
    rows.insert(6, {**rows[1], "numero_inscripcion": inscription(901), "tipo_documento": "7"})
    rows.insert(9, {**rows[2], "numero_inscripcion": ""})
    return rows


def taxpayer(i: int) -> str:
    return f"CT19{i:06d}"


def tributos_rows(n: int) -> list[dict[str, str]]:
    rows = []
    for i, p in people(n):
        if not p.document or p.document["type"] == "PASSPORT":
            continue
        who = {
            "id_contribuyente": taxpayer(i),
            "nif": p.document["number"],
            "nombre": p.given_name,
            "apellido1": p.first_surname,
            "apellido2": p.second_surname or "",
            "domicilio": p.address["street"],
            "numero": p.address["number"],
            "codigo_postal": p.address["postal_code"],
        }
        rows.append(
            {
                **who,
                "num_recibo": f"IBI-2026-19{i:05d}",
                "impuesto": "IBI",
                "concepto": "",
                "ejercicio": "2026",
                "periodo": "",
                "objeto_tipo": "REF_CATASTRAL",
                "objeto_ref": f"98720{i:02d}VH5797S0001WX",
                "importe": f"{300 + i * 17},{i % 100:02d}",
                "inicio_voluntaria": "01/09/2026",
                "fin_voluntaria": "31/12/2026",
                "domiciliado": "S" if i % 3 == 0 else "N",
                "modalidad": "FB" if i % 3 == 0 else "",
            }
        )
        if i % 2 == 0:
            rows.append(
                {
                    **who,
                    "num_recibo": f"IVTM-2026-19{i:05d}",
                    "impuesto": "IVTM",
                    "concepto": "",
                    "ejercicio": "2026",
                    "periodo": "",
                    "objeto_tipo": "MATRICULA",
                    "objeto_ref": f"{1000 + i}KLM",
                    "importe": f"{90 + i},75",
                    "inicio_voluntaria": "01/04/2026",
                    "fin_voluntaria": "31/12/2026",
                    "domiciliado": "N",
                    "modalidad": "",
                }
            )
    rows.append({**rows[0], "num_recibo": "IBI-2026-1990001", "importe": "12,3,4"})
    rows.append({**rows[1], "num_recibo": "IBI-2026-1990002", "fin_voluntaria": "31/02/2026"})
    rows.append(
        {
            **rows[2],
            "num_recibo": "TAS-2026-1990003",
            "impuesto": "tasa",
            "concepto": "Tasa por paso de vehículos",
            "objeto_tipo": "OTRO",
            "objeto_ref": "VADO-0042",
            "nif": "1234",
        }
    )
    return rows


def multas_rows(n: int) -> list[dict[str, str]]:
    rows = []
    for i, p in people(n):
        if i % 3 != 1 or not p.document or p.document["type"] == "PASSPORT":
            continue
        rows.append(
            {
                "expediente": f"MUL-2026-19{i:05d}",
                "matricula": f"{2000 + i}BCD",
                "articulo": "RGC art. 94.2.e",
                "hecho": "Estacionar en zona reservada a carga y descarga",
                "gravedad": "GRAVE",
                "regimen": "TRAFICO",
                "importe": "200,00",
                "fecha_notificacion": f"{1 + i % 5:02d}/12/2026 10:30",
                "id_denunciado": f"DEN19{i:06d}",
                "nif": p.document["number"],
                "nombre": p.given_name,
                "apellido1": p.first_surname,
                "apellido2": p.second_surname or "",
                "domicilio": f"{p.address['street']} {p.address['number']}",
                "codigo_postal": p.address["postal_code"],
            }
        )
    rows.append({**rows[0], "expediente": "MUL-2026-1999999", "gravedad": "GRAVISIMA"})
    return rows


def cita_rows(n: int) -> list[dict[str, str]]:
    rows = []
    services = ("Empadronamiento", "Certificado de empadronamiento", "Registro", "Tarjeta de estacionamiento")
    for i, p in people(n):
        if i % 2 != 1:
            continue
        doc = p.document
        rows.append(
            {
                "id_cita": f"CITA-19-{i:05d}",
                "servicio": services[i % len(services)],
                "oficina": "OAC Centro" if i % 4 == 1 else "OAC Chamberí",
                "fecha": f"{10 + i % 10}/12/2026",
                "hora": "09:30",
                "estado": "ANULADA" if i == 5 else "CONFIRMADA",
                "actualizado": "01/12/2026 08:00:00",
                "id_persona": f"CP19{i:06d}",
                "tipo_documento": "PASAPORTE" if doc and doc["type"] == "PASSPORT" else "NIF",
                "numero_documento": doc["number"] if doc else "",
                "nombre": p.given_name,
                "apellido1": p.first_surname,
                "apellido2": p.second_surname or "",
                "telefono": p.mobile or "",
                "email": p.email or "",
            }
        )
    rows.append({**rows[0], "id_cita": "CITA-19-99999", "hora": "25:70"})
    return rows


def columns(system: str, ext: str) -> tuple[str, ...]:
    lay = layout(system)
    fmt = lay.format_for(f"x{ext}") if lay else None
    assert fmt is not None
    return fmt.columns


def write(out: Path, n: int) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    padron = padron_rows(n)
    fixed = padron_fixed(padron)
    cut = fixed.split("\r\n")[:-2]  # the trailer (and the final line end) lost in transfer
    files = {
        "padron-2026-12.txt": fixed.encode("iso-8859-15"),
        "padron-2026-12-utf8.txt": fixed.encode("utf-8"),
        "padron-2026-12-cortado.txt": ("\r\n".join(cut) + "\r\n").encode("iso-8859-15"),
        "padron-2026-12.csv": _csv(columns("padron", ".csv"), padron[:4], ";").encode("iso-8859-15"),
        "tributos-2026-ibi-ivtm.csv": _csv(columns("tributos", ".csv"), tributos_rows(n), ";").encode("windows-1252"),
        "multas-2026-12.csv": _csv(columns("multas", ".csv"), multas_rows(n), ",").encode("utf-8"),
        "cita-previa-2026-12.csv": _csv(columns("cita-previa", ".csv"), cita_rows(n), ";").encode("utf-8"),
    }
    fines = multas_rows(n)
    fines[1] = {k: v for k, v in fines[1].items() if k != "hecho"}  # a record without a field
    envelope = {"sistema": "multas", "fecha_extraccion": EXTRACTED.isoformat(), "expedientes": fines}
    files["multas-2026-12.json"] = (json.dumps(envelope, ensure_ascii=False, indent=1) + "\n").encode("utf-8")
    written = []
    for name, content in files.items():
        (out / name).write_bytes(content)
        written.append(out / name)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m seed.intake_samples", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--people", type=int, default=12)
    args = parser.parse_args(argv)
    for path in write(args.out, args.people):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
