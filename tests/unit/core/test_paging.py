"""Cursor pagination of the citizens' timelines (``functions.core.paging``): the limit's bounds, a cursor that
goes round, and every malformed limit or cursor a 422 problem naming its field, never a 500."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest

from functions.core import paging
from functions.core.errors import ValidationError
from functions.core.paging import Position

AT = datetime(2026, 3, 2, 9, 0, 0, 123456, tzinfo=UTC)


def test_the_limit_is_20_unless_asked_and_from_1_to_100() -> None:
    assert paging.limit_of({}) == 20
    assert [paging.limit_of({"limit": v}) for v in ("1", "100", "007")] == [1, 100, 7]


@pytest.mark.parametrize("bad", ["0", "101", "-1", "ten", "", "1.5", " 5", "٣", "99999999999999999999999"])
def test_a_limit_out_of_bounds_or_not_an_integer_is_a_422_naming_it(bad: str) -> None:
    with pytest.raises(ValidationError) as refused:
        paging.limit_of({"limit": bad})
    assert refused.value.status == 422 and refused.value.errors == [
        {"field": "limit", "message": "an integer from 1 to 100"}
    ]


def test_a_cursor_names_the_position_it_was_made_of() -> None:
    position = Position(AT, "intx-0a1b")
    cursor = paging.encode(position)
    assert paging.decode(cursor) == position and paging.cursor_of({"cursor": cursor}) == position
    assert paging.cursor_of({}) is None and paging.cursor_of({"cursor": ""}) is None
    madrid = paging.encode(Position(datetime.fromisoformat("2026-03-02T10:00:00.123456+01:00"), "x"))
    assert paging.decode(madrid) == Position(AT, "x") and paging.decode(madrid).at.tzinfo == UTC


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


@pytest.mark.parametrize(
    "bad",
    [
        "not-a-cursor",
        "%%%",
        "ñ",
        _b64("[]"),
        _b64("{}"),
        _b64('{"at": "2026-03-02T09:00:00+00:00"}'),
        _b64('{"at": "2026-03-02T09:00:00", "id": "x"}'),  # no timezone
        _b64('{"at": "yesterday", "id": "x"}'),
        _b64('{"at": "9999-12-31T23:59:59-14:00", "id": "x"}'),  # beyond what UTC can hold
        _b64('{"at": 3, "id": "x"}'),
        _b64('{"at": "2026-03-02T09:00:00+00:00", "id": ""}'),
        _b64('{"at": "2026-03-02T09:00:00+00:00", "id": "x", "more": 1}'),
        _b64("[" * 5000 + "]" * 5000),
        "A" * 1000,
        base64.urlsafe_b64encode(b"\xff\xfe").decode(),
    ],
)
def test_a_cursor_this_api_did_not_give_is_a_422_naming_it(bad: str) -> None:
    with pytest.raises(ValidationError) as refused:
        paging.decode(bad)
    assert refused.value.status == 422 and refused.value.errors == [
        {"field": "cursor", "message": "a next_cursor from a previous page"}
    ]


def test_a_page_says_where_the_next_starts_only_when_more_follow() -> None:
    items = [Position(AT, f"id-{n}") for n in range(3)]
    shown, cursor = paging.page(items, 2, lambda p: p)
    assert shown == items[:2] and cursor is not None and paging.decode(cursor) == items[1]
    assert paging.page(items[:2], 2, lambda p: p) == (items[:2], None)
    assert paging.page([], 2, lambda p: p) == ([], None)
