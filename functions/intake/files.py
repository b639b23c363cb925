"""A file's text and records, or the reason it is refused whole. Pure: bytes in, records out.

The encoding is the system's declared one (``layouts/<system>.json``). What gives a wrong one away:

- declared UTF-8: bytes that are not UTF-8 (a Latin-1 ``ñ`` is the lone byte 0xF1);
- declared ISO-8859-15 or windows-1252: every byte decodes in ISO-8859-15, so the signs are a UTF-8 byte order
  mark, UTF-8 multi-byte sequences (``Ã±`` where ``ñ`` was meant: the file was written in UTF-8), C1 control
  characters (0x80-0x9F are controls in ISO-8859-15, never text), or, in windows-1252, its five undefined bytes.

The layout is checked over the whole file before any record is read: a fixed-width file's header, trailer,
every line's length and record type, and the trailer's count (a file cut short in transfer is refused, not half
loaded); a CSV's exact header and every row's field count; a JSON file's envelope. A record that is in the
layout but whose values are wrong (a bad date, a document number that is not one) is one bad line, not a
refused file: that is the adapters' business (``adapters.py``).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass

from functions.intake.layouts import Format, Layout, Record
from functions.intake.service import IntakeFileRefusedError

UTF8_MULTIBYTE = re.compile(rb"[\xc2-\xf4][\x80-\xbf]+")
C1_CONTROLS = re.compile("[\x80-\x9f]")


@dataclass(frozen=True)
class RawRecord:
    line: int  # 1-based line of the file (a JSON record: its index + 1 in the list)
    raw: str
    fields: dict[str, str]


def refuse(reason: str) -> IntakeFileRefusedError:
    return IntakeFileRefusedError(reason)


def decode(content: bytes, encoding: str) -> str:
    """The file's text in its declared encoding, or ``IntakeFileRefusedError`` naming what gives it away."""
    codec = encoding.lower().replace("_", "-")
    if content.startswith(b"\xef\xbb\xbf") and codec != "utf-8":
        raise refuse(f"the file starts with a UTF-8 byte order mark: it is UTF-8, not {encoding}")
    if codec == "utf-8":
        try:
            return content.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise refuse(
                f"not {encoding}: byte 0x{content[exc.start]:02X} at offset {exc.start} is not UTF-8 "
                "(a legacy 8-bit file?)"
            ) from None
    if match := UTF8_MULTIBYTE.search(content):
        try:
            match.group().decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            sample = content[max(0, match.start() - 10) : match.end() + 10].decode("utf-8", "replace")
            raise refuse(
                f"not {encoding}: UTF-8 multi-byte text at offset {match.start()} ({sample!r}): "
                f"the file was written in UTF-8"
            )
    try:
        text = content.decode(codec)
    except (UnicodeDecodeError, LookupError) as exc:
        raise refuse(f"not {encoding}: {exc}") from None
    if control := C1_CONTROLS.search(text):
        raise refuse(
            f"not {encoding}: a C1 control character (U+{ord(control.group()):04X}) at offset "
            f"{control.start()}, never text in {encoding}"
        )
    return text


def lines_of(text: str) -> list[str]:
    """The file's lines without their ends (CRLF or LF); a final empty line is no record."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]


def records(layout: Layout, fmt: Format, content: bytes) -> Iterator[RawRecord]:
    """The file's records, once the whole file passed the encoding and layout checks (else refused whole)."""
    text = decode(content, fmt.encoding)
    if fmt.name == "fixed":
        return _fixed(fmt, lines_of(text))
    if fmt.name == "csv":
        return _csv(fmt, text)
    return _json(fmt, text)


# ---- fixed width -------------------------------------------------------------------------------------------------


def _fields(record: Record, line: str) -> dict[str, str]:
    return {f.name: f.cut(line) for f in record.fields if f.name not in ("tipo_registro", "relleno")}


def _fixed(fmt: Format, lines: list[str]) -> Iterator[RawRecord]:
    assert fmt.header and fmt.detail and fmt.trailer
    if len(lines) < 2:
        raise refuse("a fixed-width file has a header record and a trailer record at least")
    for number, line in enumerate(lines, start=1):
        if len(line) != fmt.record_length:
            raise refuse(
                f"line {number} is {len(line)} characters long: every record of this layout is {fmt.record_length}"
            )
    if lines[0][:1] != fmt.header.code:
        raise refuse(f"line 1 is not the header record (type {fmt.header.code})")
    if lines[-1][:1] != fmt.trailer.code:
        raise refuse(f"the last line is not the trailer record (type {fmt.trailer.code}): the file is cut short?")
    for number, line in enumerate(lines[1:-1], start=2):
        if line[:1] != fmt.detail.code:
            raise refuse(f"line {number} has record type {line[:1]!r}: detail records are type {fmt.detail.code}")
    count = _fields(fmt.trailer, lines[-1]).get(fmt.trailer.count_field or "", "")
    if not count.isdigit() or int(count) != len(lines) - 2:
        raise refuse(f"the trailer counts {count or 'no'} records, the file has {len(lines) - 2}")
    return (RawRecord(n, line, _fields(fmt.detail, line)) for n, line in enumerate(lines[1:-1], start=2))


# ---- CSV -----------------------------------------------------------------------------------------------------------


def _reader(fmt: Format, text: str) -> Iterator[list[str]]:
    return csv.reader(io.StringIO(text, newline=""), delimiter=fmt.delimiter, strict=True)


def _csv(fmt: Format, text: str) -> Iterator[RawRecord]:
    try:
        rows = list(_reader(fmt, text))
    except csv.Error as exc:
        raise refuse(f"not a CSV file with delimiter {fmt.delimiter!r}: {exc}") from None
    if not rows:
        raise refuse("the file is empty: a CSV of this layout starts with its header")
    header = [c.strip().lower() for c in rows[0]]
    if header != list(fmt.columns):
        missing = [c for c in fmt.columns if c not in header]
        extra = [c for c in header if c not in fmt.columns]
        detail = (
            "; ".join(
                x for x in (missing and f"missing {', '.join(missing)}", extra and f"unknown {', '.join(extra)}") if x
            )
            or "columns out of order"
        )
        raise refuse(
            f"the header is not this layout's ({len(fmt.columns)} columns: {fmt.delimiter.join(fmt.columns)}): {detail}"
        )
    raw_lines = lines_of(text)
    for number, row in enumerate(rows[1:], start=2):
        if row and len(row) != len(fmt.columns):
            raise refuse(f"line {number} has {len(row)} fields, the header {len(fmt.columns)}")
    return (
        RawRecord(
            n,
            raw_lines[n - 1] if n - 1 < len(raw_lines) else fmt.delimiter.join(row),
            dict(zip(fmt.columns, (v.strip() for v in row), strict=True)),
        )
        for n, row in enumerate(rows[1:], start=2)
        if row
    )


# ---- JSON ----------------------------------------------------------------------------------------------------------


def _json(fmt: Format, text: str) -> Iterator[RawRecord]:
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise refuse(f"not JSON: {exc}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get(fmt.records_key), list):
        raise refuse(f"a JSON file of this layout is an object with the list {fmt.records_key!r}")
    missing = [k for k in fmt.header_keys if k not in doc]
    if missing:
        raise refuse(f"the envelope lacks {', '.join(missing)}")
    return (_json_record(fmt, n, item) for n, item in enumerate(doc[fmt.records_key], start=1))


def _json_record(fmt: Format, number: int, item: object) -> RawRecord:
    raw = json.dumps(item, ensure_ascii=False)
    if not isinstance(item, dict):
        return RawRecord(number, raw, {})
    fields = {k: "" if v is None else str(v).strip() for k, v in item.items()}
    return RawRecord(number, raw, fields)
