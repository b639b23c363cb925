"""The area systems' file layouts, read from ``layouts/<system>.json``: positions and columns are data, not code.

Each layout names the system (``padron``), the sender it posts as (``legacy-padron``, its CloudEvent source
``/legacy/padron``: ``events/catalog.py``) and, per format it accepts, the file extensions, the declared text
encoding and the layout proper: a fixed-width record's fields (``start`` 1-based, ``length``), a header and a
trailer record; a CSV's delimiter and exact header; a JSON envelope's header keys and the key of its record
list. Which layout each system's files follow, and its sources, is in ``functions/intake/README.md``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

LAYOUTS = Path(__file__).parent / "layouts"
FormatName = Literal["fixed", "csv", "json"]


@dataclass(frozen=True)
class Field:
    name: str
    start: int  # 1-based, as record designs are written
    length: int

    def cut(self, line: str) -> str:
        return line[self.start - 1 : self.start - 1 + self.length].strip()


@dataclass(frozen=True)
class Record:
    code: str  # the record type in position 1 (header 0, detail 1, trailer 9)
    fields: tuple[Field, ...]
    count_field: str | None = None


@dataclass(frozen=True)
class Format:
    name: FormatName
    extensions: tuple[str, ...]
    encoding: str  # a Python codec name: iso-8859-15, windows-1252, utf-8
    record_length: int = 0  # fixed
    header: Record | None = None  # fixed
    detail: Record | None = None  # fixed
    trailer: Record | None = None  # fixed
    delimiter: str = ";"  # csv
    columns: tuple[str, ...] = ()  # csv, json (each record's keys)
    records_key: str = ""  # json: the list of records
    header_keys: tuple[str, ...] = ()  # json: the envelope's other keys


@dataclass(frozen=True)
class Layout:
    system: str
    title: str
    sender: str  # the ServiceAccount it posts as
    source: str  # its CloudEvent source
    formats: tuple[Format, ...]

    def format_for(self, file_name: str) -> Format | None:
        """The format a file's extension names (``.txt``/``.dat`` fixed-width, ``.csv``, ``.json``), if accepted."""
        suffix = Path(file_name).suffix.lower()
        return next((f for f in self.formats if suffix in f.extensions), None)

    @property
    def extensions(self) -> list[str]:
        return [e for f in self.formats for e in f.extensions]


def _record(doc: dict[str, Any] | None) -> Record | None:
    if doc is None:
        return None
    fields = tuple(Field(f["name"], int(f["start"]), int(f["length"])) for f in doc["fields"])
    return Record(str(doc["code"]), fields, doc.get("count_field"))


def _format(name: str, doc: dict[str, Any]) -> Format:
    if name not in ("fixed", "csv", "json"):
        raise ValueError(f"unknown format {name!r}")
    return Format(
        name=name,  # type: ignore[arg-type]
        extensions=tuple(doc["extensions"]),
        encoding=str(doc["encoding"]),
        record_length=int(doc.get("record_length", 0)),
        header=_record(doc.get("header")),
        detail=_record(doc.get("detail")),
        trailer=_record(doc.get("trailer")),
        delimiter=str(doc.get("delimiter", ";")),
        columns=tuple(doc.get("columns", ())),
        records_key=str(doc.get("records", "")),
        header_keys=tuple(doc.get("envelope", ())),
    )


@cache
def layouts() -> dict[str, Layout]:
    """Every system's layout, by system name."""
    found = {}
    for path in sorted(LAYOUTS.glob("*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        formats = tuple(_format(name, f) for name, f in doc["formats"].items())
        found[doc["system"]] = Layout(doc["system"], doc["title"], doc["sender"], doc["source"], formats)
    return found


def layout(system: str) -> Layout | None:
    return layouts().get(system)
