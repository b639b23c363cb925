"""The one CSV writer: no cell a spreadsheet would run (OWASP CSV injection), plain numbers kept readable."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from functions.core.csvfile import FORMULA_STARTS, cell, to_csv

FORMULAS = [
    '=HYPERLINK("http://evil","x")',
    "=cmd|' /C calc'!A0",
    "+1+1",
    "-2+3",
    "@SUM(A1:A9)",
    "\t=1+1",
    "\r=1+1",
    "-",
    "+34 600 000 000",
    "=",
]


@pytest.mark.parametrize("value", FORMULAS)
def test_a_cell_a_spreadsheet_would_evaluate_starts_with_a_quote(value: str) -> None:
    assert cell(value) == "'" + value


@pytest.mark.parametrize("value", ["-12.50", "+34", "-1,5", "-3e4", "12", "-0.5", ".5", "+.5E-3"])
def test_a_plain_number_is_kept_as_a_number(value: str) -> None:
    assert cell(value) == value


@pytest.mark.parametrize(("value", "text"), [(None, ""), (-12.5, "-12.5"), (3, "3"), (True, "True"), ("a=b", "a=b")])
def test_other_values_are_their_text(value: object, text: str) -> None:
    assert cell(value) == text


def test_rows_share_one_header_of_every_column_in_first_seen_order() -> None:
    text = to_csv([{"a": 1}, {"b": 2}])
    assert text.splitlines() == ["a,b", "1,", ",2"]
    assert text.endswith("\r\n")


def test_column_names_are_cells_too() -> None:
    # GIVEN a column named by data (e.g. a personalisation key) WHEN written THEN neutralised as well
    assert to_csv([{"=1+1": "x"}]).splitlines()[0] == "'=1+1"


def test_a_cell_cannot_start_a_new_cell_or_row() -> None:
    # GIVEN values carrying the separator, quotes and line breaks WHEN written and read back
    row = {"topic": 'a,=1+1\n=2+2"', "note": "x\r\ny"}
    (back,) = csv.DictReader(io.StringIO(to_csv([row]), newline=""))

    # THEN each is one cell again, unchanged (it does not start with a formula character)
    assert back == row


@given(st.lists(st.dictionaries(st.sampled_from(["a", "b", "c"]), st.text(max_size=20)), max_size=5))
def test_no_cell_read_back_starts_a_formula_unless_plainly_a_number(rows: list[dict[str, str]]) -> None:
    # GIVEN any rows WHEN written and read back as a spreadsheet would
    text = to_csv(rows)
    read = list(csv.reader(io.StringIO(text, newline="")))
    # THEN no cell starts with a formula character, save plain numbers
    for cells in read:
        for value in cells:
            assert not value.startswith(FORMULA_STARTS) or cell(value) == value


# The synthetic city's files stand for what the area systems send PIC (machine input, read back verbatim by
# local.load_records): a neutralised phone "+34 600 ..." would come back as "'+34 600 ...". Not PIC's output.
NOT_FOR_PEOPLE = {"seed/city.py", "seed/intake_samples.py"}  # synthetic people: the city, the adapters' samples


def test_every_csv_the_platform_writes_goes_through_the_kernel_writer() -> None:
    # GIVEN every Python source of the platform
    root = Path(__file__).resolve().parents[3]
    sources = [p for d in ("functions", "local", "seed", "events", "bench") for p in (root / d).rglob("*.py")]

    # WHEN searched for the csv module's writers
    writers = {
        str(p.relative_to(root))
        for p in sources
        if re.search(r"csv\.(writer|DictWriter)\(", p.read_text(encoding="utf-8"))
    }

    # THEN only the kernel writer uses them (and the synthetic city, which writes no file for people)
    assert writers == {"functions/core/csvfile.py", *NOT_FOR_PEOPLE}
