"""Cuaderno 60, modality 2: the letters a bank accepts, the barcode it scans, and the collection file PIC reads.

The control digits are checked against a worked example done by hand from independently published inputs
(below); the rest against the layouts the module documents, and by properties over many letters.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date

import pytest
from barcode.charsets import code128  # type: ignore[import-untyped]
from hypothesis import given
from hypothesis import strategies as st

from functions.payment import cuaderno60
from functions.payment.cuaderno60 import Collected, Letter, ReturnFileError

MADRID = "280796"  # an emisora shaped like a municipality's (INE 28079 and a digit), not a real one
DUE = date(2026, 4, 30)
ENTITY = "2100"


def collected(letter: Letter, on: date = date(2026, 4, 2), entity: str = ENTITY) -> Collected:
    return Collected(letter.emisora, letter.reference, letter.identification, letter.amount_cents, on, entity)


def a_file(*amounts: int) -> str:
    letters = [cuaderno60.letter(MADRID, str(i), "521", DUE, amount) for i, amount in enumerate(amounts, start=1)]
    return cuaderno60.render_return_file([collected(x) for x in letters], entity=ENTITY, created_on=date(2026, 4, 3))


def with_line(text: str, number: int, record: str) -> str:
    lines = text.splitlines()
    lines[number - 1] = record
    return "\n".join(lines) + "\n"


def at(record: str, start: int, value: str) -> str:
    """``record`` with ``value`` written from the 1-based position ``start``."""
    return record[: start - 1] + value + record[start - 1 + len(value) :]


# --- control digits (Anexo común I) -----------------------------------------------------------------------


def test_the_control_digits_of_a_worked_example() -> None:
    """GIVEN the inputs of the leading-zeros test of pymipago (a Python client of the Basque Government's
    format 521 gateway, tests/test_utils.py, after its 2018 fix "take the decimals from 99"): emisora 481166,
    referencia 0280724001, identificación 1002188265, importe 1 cent
    WHEN the control digits are computed
    THEN they are 07, as by hand:
        481166 x 76                    =     36 568 616
        0280724001 x 9                 =  2 526 516 009
        (1002188265 + 1 - 1) x 55      = 55 120 354 575
        sum                            = 57 683 439 200;  / 97 = 594 674 630.92...;  99 - 92 = 07
    """
    assert cuaderno60.control_digits("481166", "0280724001", "1002188265", 1) == "07"
    assert cuaderno60.check("481166", "028072400107", "1002188265", 1)


def test_the_control_digits_are_taken_from_99_not_100() -> None:
    """GIVEN emisora 481166, referencia 1234567890, identificación 1002188121 and 11,60 EUR (pymipago's gateway
    fixture; 66 268 090 026 / 97 = 683 176 185.83...)
    THEN the digits are 99 - 83 = 16 (the fixture's 17 was computed with the rule pymipago later corrected)."""
    assert cuaderno60.control_digits("481166", "1234567890", "1002188121", 1160) == "16"


def test_an_exact_quotient_gives_99() -> None:
    """GIVEN inputs whose weighted sum is a multiple of 97 (emisora 0, identificación 1 and 1 cent: the base b
    with 9b + 55 divisible by 97) THEN the decimals are 00 and the digits 99, never a three-digit 100."""
    base = next(b for b in range(97) if (b * 9 + 55) % 97 == 0)
    assert cuaderno60.control_digits("000000", f"{base:010d}", "0000000001", 1) == "99"


@given(
    emisora=st.from_regex(r"\A[0-9]{6}\Z"),
    base=st.from_regex(r"\A[0-9]{10}\Z"),
    ident=st.from_regex(r"\A1[0-9]{9}\Z"),
    amount=st.integers(1, cuaderno60.MAX_AMOUNT_CENTS),
    which=st.sampled_from(["emisora", "base", "ident"]),
    position=st.integers(0, 9),
    delta=st.integers(1, 9),
)
def test_any_one_digit_changed_is_caught(
    emisora: str, base: str, ident: str, amount: int, which: str, position: int, delta: int
) -> None:
    """GIVEN a referencia with its control digits WHEN one digit of the emisora, base or identificación is
    changed THEN the digits no longer fit (97 is prime and divides none of 76, 9, 55 or a power of ten)."""
    reference = base + cuaderno60.control_digits(emisora, base, ident, amount)
    fields = {"emisora": emisora, "base": base, "ident": ident}
    value = fields[which]
    i = position % len(value)
    fields[which] = value[:i] + str((int(value[i]) + delta) % 10) + value[i + 1 :]
    tampered = fields["base"] + reference[10:] if which == "base" else reference
    assert not cuaderno60.check(fields["emisora"], tampered, fields["ident"], amount)


def test_a_malformed_field_does_not_check() -> None:
    assert not cuaderno60.check("28079", "000000012310", "1521266120", 12345)
    assert not cuaderno60.check(MADRID, "00000001231", "1521266120", 12345)
    assert not cuaderno60.check(MADRID, "000000012310", "1521266120", 0)


# --- the letter -------------------------------------------------------------------------------------------


def test_the_identification_of_a_published_example() -> None:
    """GIVEN tributo 521 and 1 January 2018 as the last day (pymipago's example: "1521188001")
    THEN the identificación is period 1, tributo 521, ejercicio 18, year digit 8, day 001."""
    assert cuaderno60.identification("521", date(2018, 1, 1), 2018) == "1521188001"


def test_a_letter_is_built_with_fitting_control_digits() -> None:
    """GIVEN a debt's number, tributo, last day and amount WHEN the letter is built THEN its referencia is the
    zero-padded number and digits that check, and its identificación names the day (30 April 2026 = day 120)."""
    letter = cuaderno60.letter(MADRID, "123", "521", DUE, 12345, accrual_year=2025)
    assert letter.reference[:10] == "0000000123"
    assert cuaderno60.check(letter.emisora, letter.reference, letter.identification, letter.amount_cents)
    assert letter.identification == "1521256120"
    assert letter.due == DUE


def test_the_ejercicio_defaults_to_the_due_dates_year() -> None:
    assert cuaderno60.letter(MADRID, "1", "521", DUE, 100).identification[4:6] == "26"


def test_the_barcode_data_is_format_521() -> None:
    """GIVEN a letter THEN the barcode carries 42 digits: AI 90, format 521, emisora, referencia,
    identificación, the 8-digit amount and the closing 0."""
    letter = cuaderno60.letter(MADRID, "123", "521", DUE, 12345)
    data = letter.barcode_data()
    assert len(data) == cuaderno60.BARCODE_LENGTH
    assert data[:5] == "90521"
    assert data[5:11] == MADRID
    assert data[11:23] == letter.reference
    assert data[23:33] == letter.identification
    assert data[33:41] == "00012345"
    assert data[41] == "0"


def test_the_human_readable_line_shows_the_fields_apart() -> None:
    letter = cuaderno60.letter(MADRID, "123", "521", DUE, 12345)
    text = f"(90)521 {MADRID} {letter.reference} {letter.identification} 00012345 0"
    assert letter.human_readable() == text
    assert text.replace("(", "").replace(")", "").replace(" ", "") == letter.barcode_data()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ((MADRID, "1", "521", DUE, 100_000_000), "amount_cents"),
        ((MADRID, "1", "521", DUE, 0), "amount_cents"),
        ((MADRID, "1", "521", DUE, -5), "amount_cents"),
        (("28079A", "1", "521", DUE, 100), "emisora"),
        (("28079", "1", "521", DUE, 100), "emisora"),
        (("２８０７９６", "1", "521", DUE, 100), "emisora"),
        ((MADRID, "12345678901", "521", DUE, 100), "base_reference"),
        ((MADRID, "", "521", DUE, 100), "base_reference"),
        ((MADRID, "12-4", "521", DUE, 100), "base_reference"),
        ((MADRID, "1", "52", DUE, 100), "tributo"),
        ((MADRID, "1", "5X1", DUE, 100), "tributo"),
    ],
)
def test_out_of_range_input_is_refused_with_the_field_named(arguments: tuple[object, ...], message: str) -> None:
    """GIVEN a field that does not fit its width (an amount past 999.999,99 EUR, a letter in the emisora...)
    WHEN a letter is built THEN ValueError names the field."""
    with pytest.raises(ValueError, match=message):
        cuaderno60.letter(*arguments)  # type: ignore[arg-type]


def test_an_ejercicio_outside_the_century_is_refused() -> None:
    with pytest.raises(ValueError, match="accrual_year"):
        cuaderno60.letter(MADRID, "1", "521", DUE, 100, accrual_year=1999)


def test_a_letter_with_altered_data_cannot_exist() -> None:
    """GIVEN a valid letter WHEN its amount, referencia or due date is altered THEN it is refused."""
    letter = cuaderno60.letter(MADRID, "123", "521", DUE, 12345)
    with pytest.raises(ValueError, match="control digits"):
        replace(letter, amount_cents=12346)
    with pytest.raises(ValueError, match="control digits"):
        replace(letter, reference=letter.reference[:10] + "00")
    with pytest.raises(ValueError, match="due date"):
        replace(letter, due=date(2026, 5, 1))


# --- the barcode ------------------------------------------------------------------------------------------


def test_the_barcode_is_gs1_128_start_c_fnc1_then_the_digits_in_pairs() -> None:
    """GIVEN a letter's 42 digits WHEN drawn THEN the modules are Start C, FNC1 (what makes it GS1-128), 21
    pairs of digits, the modulo 103 check symbol and Stop: 11 + 11 + 21 x 11 + 11 + 13 = 277 modules."""
    data = cuaderno60.letter(MADRID, "123", "521", DUE, 12345).barcode_data()
    modules = cuaderno60.barcode_modules(data)
    assert set(modules) == {"0", "1"}
    assert len(modules) == 277
    assert modules.startswith(cuaderno60.START_C + cuaderno60.FNC1)
    assert modules.endswith("1100011101011")
    symbols = [code128.CODES.index(modules[i : i + 11]) for i in range(0, len(modules) - 13, 11)]
    start, fnc1, *pairs, checksum = symbols
    assert (start, fnc1) == (105, 102)
    assert "".join(f"{p:02d}" for p in pairs) == data
    assert checksum == (start + sum(i * s for i, s in enumerate([fnc1, *pairs], start=1))) % 103


@pytest.mark.parametrize("data", ["", "90521A", "9052 1", "٩٠٥٢١"])
def test_the_barcode_encodes_digits_only(data: str) -> None:
    with pytest.raises(ValueError, match="digits only"):
        cuaderno60.barcode_modules(data)


# --- the collection file ----------------------------------------------------------------------------------


def test_a_rendered_file_is_read_back_as_it_was() -> None:
    """GIVEN three collected letters WHEN the file is rendered and parsed THEN the same records come back,
    with the line each was read from, and every record is RECORD_LENGTH characters."""
    letters = [cuaderno60.letter(MADRID, str(n), "521", DUE, n * 1000) for n in (1, 2, 3)]
    records = tuple(collected(x) for x in letters)
    text = cuaderno60.render_return_file(records, entity=ENTITY, created_on=date(2026, 4, 3))
    parsed = cuaderno60.parse_return_file(text)
    assert parsed == cuaderno60.ReturnFile(ENTITY, date(2026, 4, 3), records)
    assert [r.line for r in parsed.records] == [2, 3, 4]
    assert parsed.total_cents == 6000
    assert {len(line) for line in text.splitlines()} == {cuaderno60.RECORD_LENGTH}


def test_a_file_with_no_collections_is_a_header_and_zero_totals() -> None:
    parsed = cuaderno60.parse_return_file(a_file())
    assert parsed.records == () and parsed.total_cents == 0


def test_windows_line_ends_are_read() -> None:
    text = a_file(500, 700).replace("\n", "\r\n")
    assert [r.amount_cents for r in cuaderno60.parse_return_file(text).records] == [500, 700]


def test_the_key_names_the_letter_not_the_collection() -> None:
    """GIVEN the same letter collected twice (two files, two days) THEN both have one key: PIC marks it once."""
    letter = cuaderno60.letter(MADRID, "7", "521", DUE, 900)
    first, again = collected(letter), collected(letter, on=date(2026, 4, 9))
    assert first.key == again.key == (MADRID, letter.reference, letter.identification)


dates = st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31))
letters = st.builds(
    cuaderno60.letter,
    emisora=st.from_regex(r"\A[0-9]{6}\Z"),
    base_reference=st.from_regex(r"\A[0-9]{1,10}\Z"),
    tributo=st.from_regex(r"\A[0-9]{3}\Z"),
    due=dates,
    amount_cents=st.integers(1, cuaderno60.MAX_AMOUNT_CENTS),
)


@given(st.lists(st.tuples(letters, dates), max_size=20), dates, st.from_regex(r"\A[0-9]{4}\Z"))
def test_any_file_round_trips(items: list[tuple[Letter, date]], created_on: date, entity: str) -> None:
    """GIVEN any letters collected on any days WHEN rendered and parsed THEN parse(render(x)) == x."""
    records = tuple(collected(x, on, entity) for x, on in items)
    text = cuaderno60.render_return_file(records, entity=entity, created_on=created_on)
    assert cuaderno60.parse_return_file(text) == cuaderno60.ReturnFile(entity, created_on, records)


def test_render_refuses_a_record_of_another_bank() -> None:
    letter = cuaderno60.letter(MADRID, "1", "521", DUE, 100)
    with pytest.raises(ValueError, match="0049"):
        cuaderno60.render_return_file([collected(letter, entity="0049")], entity=ENTITY, created_on=DUE)


def read_error(text: str) -> ReturnFileError:
    with pytest.raises(ReturnFileError) as raised:
        cuaderno60.parse_return_file(text)
    return raised.value


def test_tampered_control_digits_are_refused_at_their_line() -> None:
    """GIVEN a file whose second detail (line 3) has its amount raised by a cent WHEN parsed THEN the control
    digits no longer fit and the error says line 3."""
    text = a_file(500, 700)
    record = text.splitlines()[2]
    error = read_error(with_line(text, 3, at(record, 35, "00000701")))
    assert (error.line, "control digits" in error.reason) == (3, True)
    assert str(error).startswith("line 3: ")


def test_a_reference_with_other_control_digits_is_refused() -> None:
    text = a_file(500)
    record = text.splitlines()[1]
    digits = record[22:24]
    error = read_error(with_line(text, 2, at(record, 23, f"{(int(digits) + 1) % 100:02d}")))
    assert error.line == 2 and "control digits" in error.reason


@pytest.mark.parametrize(
    ("start", "value", "reason"),
    [(6, "00000003", "the totals count 3 records, the file has 2"), (14, "00000000001201", "sum 1201 cents")],
)
def test_totals_that_are_not_the_details_are_refused(start: int, value: str, reason: str) -> None:
    """GIVEN a file of two details (500 + 700) WHEN its totals say 3 records, or 1201 cents THEN the error is
    at the totals' line, 4."""
    text = a_file(500, 700)
    error = read_error(with_line(text, 4, at(text.splitlines()[3], start, value)))
    assert error.line == 4 and reason in error.reason


def test_a_short_line_is_refused_at_its_line() -> None:
    """GIVEN a detail whose trailing blanks were stripped in transit THEN its length is the error, not an
    IndexError."""
    text = a_file(500, 700)
    error = read_error(with_line(text, 3, text.splitlines()[2].rstrip()))
    assert error.line == 3 and "50 characters" in error.reason


def test_an_unknown_record_type_is_refused() -> None:
    text = a_file(500)
    error = read_error(with_line(text, 2, at(text.splitlines()[1], 1, "7")))
    assert error.line == 2 and "unknown record type '7'" in error.reason


@pytest.mark.parametrize(("start", "value", "field"), [(35, "0000O500", "importe"), (6, "28O796", "emisora")])
def test_a_field_that_is_not_digits_is_refused(start: int, value: str, field: str) -> None:
    """GIVEN a letter O where a digit belongs THEN the error names the field and its positions."""
    text = a_file(500)
    error = read_error(with_line(text, 2, at(text.splitlines()[1], start, value)))
    assert error.line == 2 and field in error.reason and "not digits" in error.reason


@pytest.mark.parametrize(
    ("mutate", "line", "reason"),
    [
        (lambda lines: [], 1, "empty"),
        (lambda lines: lines[1:], 1, "does not start with a header"),
        (lambda lines: lines[:-1], 3, "without a totals record"),
        (lambda lines: [*lines, lines[1]], 5, "follows the totals"),
        (lambda lines: [lines[0], lines[0], *lines[1:]], 2, "second header"),
        (lambda lines: [lines[0], at(lines[1], 2, "0049"), *lines[2:]], 2, "differs from the header's 2100"),
        (lambda lines: [lines[0], at(lines[1], 12, "1"), *lines[2:]], 2, "modalidad '1'"),
        (lambda lines: [lines[0], at(lines[1], 43, "20260231"), *lines[2:]], 2, "not a date"),
        (lambda lines: [at(lines[0], 14, "X"), *lines[1:]], 1, "must be blank"),
        (lambda lines: [at(lines[0], 6, "2026130"), *lines[1:]], 1, "not a date"),
    ],
)
def test_a_malformed_file_is_a_typed_error_at_its_line(
    mutate: Callable[[list[str]], list[str]], line: int, reason: str
) -> None:
    """GIVEN a file of two details made wrong in one way THEN the error names the line and what is wrong."""
    lines = a_file(500, 700).splitlines()
    error = read_error("".join(x + "\n" for x in mutate(lines)))
    assert error.line == line and reason in error.reason


def test_binary_garbage_is_a_typed_error() -> None:
    error = read_error("\x00\x1c\x85" * 40)
    assert error.line == 1
