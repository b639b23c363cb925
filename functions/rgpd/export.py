"""The access/portability export, pure: one JSON document of everything held across domains, and one CSV
per domain and table, in a zip.

RGPD art. 20.1: "in a structured, commonly used and machine-readable format"; art. 15.3: a copy of the
personal data undergoing processing. JSON keeps the structure and every value verbatim; CSV opens in any
spreadsheet, written by the kernel's writer so that no cell runs as a formula (``functions.core.csvfile``).

Domain exports are chunked for storage (``chunks``/``join_chunks``): a DynamoDB item holds at most 400 KB.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from functions.core import csvfile

# Characters, not bytes: 90,000 characters are at most 360 KB of UTF-8, under the 400 KB item limit with
# room for the item's keys and attributes.
CHUNK_CHARS = 90_000
_SAFE_NAME = re.compile(r"[^A-Za-z0-9_.-]+")


def canonical_json(value: Any) -> str:
    """The stored form of an export: sorted keys, so its SHA-256 is stable proof of what was received."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def chunks(text: str, size: int = CHUNK_CHARS) -> list[str]:
    """``text`` in pieces of at most ``size`` characters (at least one piece, maybe empty)."""
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


def join_chunks(pieces: Iterable[str], expected_sha256: str | None) -> Any:
    """The export back from its pieces; ``ValueError`` if they are not what was received."""
    text = "".join(pieces)
    if expected_sha256 is not None and sha256(text) != expected_sha256:
        raise ValueError("the stored export does not match the SHA-256 recorded when it was received")
    return json.loads(text) if text else None


def tables(domain_export: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """A domain's export as tables: a list of objects is a table; an object is a one-row table; the
    top-level scalars make a one-row table named after the domain itself (key ``""``)."""
    found: dict[str, list[dict[str, Any]]] = {}
    scalars: dict[str, Any] = {}
    for key, value in domain_export.items():
        if isinstance(value, list) and all(isinstance(row, dict) for row in value):
            found[key] = [flatten(row) for row in value]
        elif isinstance(value, dict):
            found[key] = [flatten(value)]
        elif isinstance(value, list):
            found[key] = [{"value": _cell(v)} for v in value]
        else:
            scalars[key] = value
    if scalars:
        found[""] = [flatten(scalars)]
    return found


def flatten(row: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested objects become dotted columns (``actor.id``); lists become JSON text in one cell."""
    flat: dict[str, Any] = {}
    for key, value in row.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = _cell(value)
    return flat


def _cell(value: Any) -> Any:
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    if value is None:
        return ""
    return value


def build_zip(document: dict[str, Any], exports: dict[str, dict[str, Any]], generated_at: datetime) -> bytes:
    """``export.json`` (the whole document) plus ``<domain>/<table>.csv`` for every domain's tables."""
    buffer = io.BytesIO()
    stamp = generated_at.timetuple()[:6]
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        _write(archive, "export.json", json.dumps(document, ensure_ascii=False, indent=2, default=str), stamp)
        for domain, export in sorted(exports.items()):
            for table, rows in sorted(tables(export).items()):
                name = f"{_safe(domain)}/{_safe(table or domain)}.csv"
                _write(archive, name, csvfile.to_csv(rows), stamp)
    return buffer.getvalue()


def _write(archive: zipfile.ZipFile, name: str, text: str, stamp: tuple[int, ...]) -> None:
    info = zipfile.ZipInfo(name, date_time=stamp)  # type: ignore[arg-type]
    info.compress_type = zipfile.ZIP_DEFLATED
    archive.writestr(info, text.encode("utf-8"))


def _safe(name: str) -> str:
    return _SAFE_NAME.sub("-", name).strip("-") or "data"
