"""Segments, pure: a declarative, versioned filter over audience rows, validated, explained in words, and
compiled two ways from one tree — to SQL over the columnar export (a count or a full build of the whole city)
and to a predicate over one row (a saved segment kept current by events without a rebuild).

Interface fixed by the lead for the helpers (issue 16); the implementation fills it in.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from functions.campaign.audience import AudienceRow


def parse(raw: Any) -> Any:
    """The filter of a JSON document, or ``ValidationError`` (422) naming every error (field path + message)."""
    raise NotImplementedError


def explain(segment_filter: Any, language: str) -> str:
    """The filter in words, in ``es`` or ``en``."""
    raise NotImplementedError


def matches(segment_filter: Any, row: AudienceRow, today: date) -> bool:
    """Whether a row is in the segment (ages computed against ``today``)."""
    raise NotImplementedError


def to_sql(segment_filter: Any, today: date) -> tuple[str, list[Any]]:
    """A WHERE condition over the columnar export's columns (``columnar.COLUMNS``) with bound parameters, in
    the ANSI SQL subset DuckDB and Spark SQL both take."""
    raise NotImplementedError
