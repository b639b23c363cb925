"""The one CSV writer of PIC: RFC 4180 text that a spreadsheet opens without running anything in it.

A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is a formula to Excel,
LibreOffice and Google Sheets (``=HYPERLINK("http://evil","x")``, DDE ``=cmd|...``): "CSV injection"
(OWASP). Every such cell is written with a single quote in front (OWASP's recommendation), which the
spreadsheet shows as text and does not evaluate. Numbers that are plainly numbers (``-12.50``,
``+34``, ``-1,5``, ``-3e4``) are kept as they are, so amounts stay readable and summable: a plain
number runs nothing. Column names are cells too (they may come from data, e.g. personalisation keys).

This is for files people open: exports (``functions/rgpd/export.py``), reports, reconciliation files.
JSON next to a CSV (``export.json``) keeps every value verbatim, so nothing is lost for machines.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:[.,]\d+)?|[.,]\d+)(?:[eE][+-]?\d+)?")


def cell(value: Any) -> str:
    """``value`` as the text of one cell, neutralised if a spreadsheet would take it for a formula."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_STARTS) and not PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def to_csv(rows: Iterable[Mapping[str, Any]], columns: Sequence[str] | None = None) -> str:
    """RFC 4180 CSV (CRLF, quoted as needed) of ``rows`` under a header of ``columns`` — by default every
    column any row has, in first-seen order; a row without a column leaves its cell empty."""
    rows = list(rows)
    if columns is None:
        seen: dict[str, None] = {}
        for row in rows:
            seen.update(dict.fromkeys(row))
        columns = list(seen)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([cell(name) for name in columns])
    writer.writerows([cell(row.get(name)) for name in columns] for row in rows)
    return out.getvalue()
