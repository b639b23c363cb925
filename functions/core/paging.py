"""Cursor pagination of a citizen's timelines, newest first: ``?limit=1..100&cursor=``.

A page ends at its last item; the next page starts strictly after it. The cursor is that item's position
(its time and its id, which breaks ties), opaque to callers: URL-safe base64 of a small JSON object. It
names no table key, so a store may turn it into a DynamoDB ``ExclusiveStartKey`` or filter on it. A limit or
a cursor this API did not give is a 422 problem naming the field, never a 500.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from functions.core.errors import ValidationError

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
MAX_CURSOR = 400  # characters: a position's time and id fit in far fewer

T = TypeVar("T")


@dataclass(frozen=True, order=True)
class Position:
    """Where an item sits in a timeline: its time (timezone-aware) and its id."""

    at: datetime
    id: str


@dataclass(frozen=True)
class ReadTimeline:
    """A page of a citizen's timeline, newest first: ``limit`` (1 to ``MAX_LIMIT``) after the position a
    cursor named (``None``: the first page)."""

    citizen_id: str
    limit: int = DEFAULT_LIMIT
    after: Position | None = None

    @classmethod
    def from_args(cls, citizen_id: str, args: Mapping[str, str]) -> ReadTimeline:
        """The query a route's ``?limit=&cursor=`` asks; a 422 naming the field for either one this API did not
        give."""
        return cls(citizen_id, limit_of(args), cursor_of(args))


@dataclass(frozen=True)
class TimelinePage:
    """A page's items, as the API shows them, and the cursor of the next page (``None`` on the last)."""

    items: list[dict[str, Any]]
    next_cursor: str | None

    def body(self) -> dict[str, Any]:
        return {"items": self.items, "next_cursor": self.next_cursor}


def limit_of(args: Mapping[str, str]) -> int:
    """``?limit=``: an integer from 1 to ``MAX_LIMIT``, ``DEFAULT_LIMIT`` when absent."""
    text = args.get("limit", str(DEFAULT_LIMIT))
    if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= MAX_LIMIT:
        raise ValidationError(
            f"limit must be an integer from 1 to {MAX_LIMIT}",
            errors=[{"field": "limit", "message": f"an integer from 1 to {MAX_LIMIT}"}],
        )
    return int(text)


def encode(position: Position) -> str:
    raw = json.dumps({"at": position.at.isoformat(), "id": position.id}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode()


def cursor_of(args: Mapping[str, str]) -> Position | None:
    """``?cursor=``: a ``next_cursor`` this API gave (``None`` when absent: the first page)."""
    text = args.get("cursor") or None
    return None if text is None else decode(text)


def decode(cursor: str) -> Position:
    """The position a cursor names, or a 422 naming the field."""
    try:
        if len(cursor) > MAX_CURSOR:
            raise ValueError("too long")
        found = json.loads(base64.urlsafe_b64decode(cursor.encode("ascii")))
        if not isinstance(found, dict) or set(found) != {"at", "id"}:
            raise ValueError("not a position")
        at, id_ = found["at"], found["id"]
        if not isinstance(at, str) or not isinstance(id_, str) or not id_ or not id_.isprintable():
            raise ValueError("not a position")
        when = datetime.fromisoformat(at)
        if when.tzinfo is None:
            raise ValueError("a position's time has a timezone")
        when = when.astimezone(UTC)  # as the stores keep times (and a year 9999 beyond UTC is refused here)
    except (ValueError, UnicodeError, binascii.Error, RecursionError, OverflowError) as exc:
        raise ValidationError(
            "cursor is not one this API gave",
            errors=[{"field": "cursor", "message": "a next_cursor from a previous page"}],
        ) from exc
    return Position(when, id_)


def page(found: Sequence[T], limit: int, position: Callable[[T], Position]) -> tuple[list[T], str | None]:
    """The page out of ``found`` (read with ``limit + 1``: one more than shown tells whether more follow) and
    the cursor of the next page, the position of its last item (``None``: this is the last page)."""
    shown = list(found[:limit])
    return shown, encode(position(shown[-1])) if len(found) > limit and shown else None
