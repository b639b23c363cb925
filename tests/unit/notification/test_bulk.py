"""Bulk jobs' pure rules (``functions.notification.bulk``): reading a JSON or CSV request, validating rows one
by one (a bad row is reported, the job goes on), chunking, and the job's progress as its requester sees it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from functions.core.errors import (
    MalformedRequestError,
    PayloadTooLargeError,
    UnsupportedMediaTypeError,
    ValidationError,
)
from functions.notification import bulk, templates

FIELDS = ("name", "year")


def test_a_csv_names_its_columns_and_empty_cells_are_absent() -> None:
    raw = "\ufeffemail,name,year,reference\nana@example.org, Ana ,2026,R-1\n\n,Luis,,\n".encode()
    template, rows = bulk.parse_request("text/csv", raw, "ibi")
    assert template == "ibi"
    assert rows == [
        (1, {"recipient": {"email": "ana@example.org"}, "personalisation": {"name": "Ana", "year": "2026"},
             "reference": "R-1"}),
        (3, {"recipient": {}, "personalisation": {"name": "Luis"}, "reference": None}),
    ]  # fmt: skip


def test_a_csv_row_with_the_wrong_number_of_cells_is_its_own_error() -> None:
    (row,) = bulk.csv_rows(b"phone,name\n612345678,Ana,extra\n")
    assert row[0] == 1 and isinstance(row[1], ValueError) and "3 values for 2 columns" in str(row[1])


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        (b"name,year\nAna,2026\n", ValidationError),  # no recipient column
        (b"", ValidationError),
        ("email\nañа@example.org\n".encode("latin-1", "replace"), MalformedRequestError),
    ],
)
def test_a_csv_that_cannot_be_a_job_is_refused_whole(raw: bytes, error: type[Exception]) -> None:
    with pytest.raises(error):
        bulk.csv_rows(raw)


def test_a_json_job_names_its_template_and_numbers_its_rows() -> None:
    raw = b'{"template": "ibi", "recipients": [{"recipient": {"email": "a@example.org"}}, 7]}'
    assert bulk.parse_request("application/json", raw, "") == (
        "ibi",
        [(1, {"recipient": {"email": "a@example.org"}}), (2, 7)],
    )
    with pytest.raises(ValidationError):
        bulk.parse_request("application/json", b'{"template": "ibi"}', "")
    with pytest.raises(MalformedRequestError):
        bulk.parse_request("application/json", b"{", "")
    with pytest.raises(UnsupportedMediaTypeError):
        bulk.parse_request("text/plain", b"x", "")


def test_rows_are_validated_one_by_one() -> None:
    rows: list[tuple[int, Any]] = [
        (1, {"recipient": {"email": "ana@example.org"}, "personalisation": {"name": "Ana", "year": "2026"}}),
        (2, {"recipient": {"email": "luis@example.org"}, "personalisation": {"name": "Luis"}}),  # a field missing
        (3, {"recipient": {"phone": "12"}, "personalisation": {"name": "Eva", "year": "2026"}}),  # not a phone
        (4, ValueError("3 values for 2 columns")),
        (5, {"recipient": {"email": "x@example.org"}, "unknown": 1}),
    ]
    good, malformed = bulk.validate_rows(rows, FIELDS)
    assert [r["row"] for r in good] == [1]
    assert [m["row"] for m in malformed] == [2, 3, 4, 5]
    assert all(m["errors"] for m in malformed)


def test_a_job_takes_one_row_at_least_and_a_hundred_thousand_at_most() -> None:
    bulk.check_size(1)
    bulk.check_size(bulk.MAX_BULK_RECIPIENTS)
    with pytest.raises(ValidationError):
        bulk.check_size(0)
    with pytest.raises(PayloadTooLargeError):
        bulk.check_size(bulk.MAX_BULK_RECIPIENTS + 1)


@pytest.mark.parametrize(("rows", "chunks"), [(0, 0), (1, 1), (500, 1), (501, 2), (100_000, 90)])
def test_rows_go_in_at_most_ninety_chunks_of_at_least_five_hundred(rows: int, chunks: int) -> None:
    made = bulk.chunked([{"row": n} for n in range(rows)])
    assert len(made) == chunks and sum(len(c) for c in made) == rows
    assert all(len(c) >= bulk.CHUNK_MIN for c in made[:-1])


def test_a_job_is_deciding_then_delivering_then_done() -> None:
    content = templates.TemplateContent("service-notifications", {"es": "x"}, {"es": "y"})
    template = templates.Template("ibi", 2, content, ())
    at = datetime(2026, 3, 2, tzinfo=UTC)
    job = bulk.job_doc("blk-1", template, 3, [{"row": 1}, {"row": 2}], 2, [{"row": 3, "errors": []}], "sys", at)
    zero = {"chunks_done": 0, "delivered": 0, "failed": 0}
    assert bulk.progress_view(job, zero)["state"] == "deciding"
    decided = {"chunks_done": 2, "delivered": 1, "failed": 0, "accepted": 2, "not-allowed": 0}
    view = bulk.progress_view(job, decided)
    assert (view["state"], view["decided"], view["malformed_count"]) == ("delivering", 2, 1)
    assert bulk.progress_view(job, {**decided, "failed": 1})["state"] == "done"
