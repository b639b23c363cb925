"""Paying a debt at a bank counter: the AEB's "Cuaderno 60" (Recaudación de tributos y otros ingresos
municipales, Noviembre 2015), modality 2, and the file in which the bank tells PIC what it collected.

A citizen takes a printed carta de pago to any collaborating bank (entidad colaboradora). The letter carries
the modality 2 data, printed and as a GS1-128 barcode, so the bank collects without asking PIC anything:

- emisora (6 digits): the issuing body's code, the Ayuntamiento's;
- referencia (12 digits): 10 digits chosen by the emisora (here: which debt) and 2 control digits that bind
  it to the emisora, the identificación and the amount (Anexo común I), so a mistyped or altered letter is
  refused at the counter;
- identificación (10 digits): discriminante de período "1", tributo (3), ejercicio (2), last digit of the
  year of the last day of payment and that day's ordinal in its year (3): the bank refuses the letter after
  that day, which is why an amount can be printed at all;
- importe (8 digits): cents.

Cuaderno 60 defines them in Anexo 1 "Modalidades 1 y 2", Anexo común I "Módulos de cálculo dígitos de
control" and Anexo común IV "Formatos de códigos de barras". The fields, the algorithm and the barcode here
are those of three independent open-source implementations of format 521, which agree (a Python client of
the Basque Government's payment gateway after its 2018 correction of the control digits, and two PHP ones);
the annexes' own text could not be read when this was written: compare before the first real letter.

The bank's collection file (``parse_return_file``) is PIC's fixed-width layout for that communication (see
``RECORD_LENGTH``): header, one detail per letter collected, totals. Pure: no I/O, nothing from PIC.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

MODALITY = "2"
APPLICATION_IDENTIFIER = "90"  # GS1: information agreed between trading partners (Anexo común IV)
FORMAT = "521"  # Cuaderno 60, modality 2, 8-digit amount
PERIOD = "1"  # discriminante de período of a modality 2 identificación
PARITY = "0"  # the barcode's closing digit, always 0 in format 521
MAX_AMOUNT_CENTS = 99_999_999  # the 8 digits of the importe: 999.999,99 EUR
BARCODE_LENGTH = 42  # 90 + 521 + emisora 6 + referencia 12 + identificación 10 + importe 8 + 1
START_C = "11010011100"  # Code 128 Start C
FNC1 = "11110101110"  # Code 128 FNC1: what makes Code 128 a GS1-128


def _digits(name: str, value: str, length: int) -> str:
    if len(value) != length or not value.isascii() or not value.isdigit():
        raise ValueError(f"{name} must be {length} digits, got {value!r}")
    return value


def _amount(amount_cents: int) -> int:
    if not 1 <= amount_cents <= MAX_AMOUNT_CENTS:
        raise ValueError(f"amount_cents must be 1 to {MAX_AMOUNT_CENTS} (8 digits of cents), got {amount_cents}")
    return amount_cents


def control_digits(emisora: str, reference: str, identification: str, amount_cents: int) -> str:
    """The referencia's 2 control digits (Anexo común I, modality 2): emisora x 76 + referencia x 9 +
    (identificación + importe - 1) x 55, divided by 97; the first two decimals of the quotient taken from 99.

    ``reference`` is the 10-digit base. The two decimals are computed on integers (the remainder x 100 // 97),
    never on a float's text, so the result is exact for any input; they are 00 to 98, the digits 01 to 99.
    """
    total = (
        int(_digits("emisora", emisora, 6)) * 76
        + int(_digits("reference", reference, 10)) * 9
        + (int(_digits("identification", identification, 10)) + _amount(amount_cents) - 1) * 55
    )
    decimals = total % 97 * 100 // 97
    return f"{99 - decimals:02d}"


def check(emisora: str, reference: str, identification: str, amount_cents: int) -> bool:
    """Whether a 12-digit referencia's control digits fit the emisora, identificación and amount it came with."""
    try:
        _digits("reference", reference, 12)
        return reference[10:] == control_digits(emisora, reference[:10], identification, amount_cents)
    except ValueError:
        return False


def identification(tributo: str, due: date, accrual_year: int) -> str:
    """The modality 2 identificación: period "1", tributo, ejercicio (YY), and the last day of payment as the
    last digit of its year and its day of the year (three digits)."""
    if not 2000 <= accrual_year <= 2099:
        raise ValueError(f"accrual_year must be 2000 to 2099, got {accrual_year}")
    day = due.timetuple().tm_yday
    return f"{PERIOD}{_digits('tributo', tributo, 3)}{accrual_year % 100:02d}{due.year % 10}{day:03d}"


@dataclass(frozen=True)
class Letter:
    """A carta de pago's modality 2 data. Valid by construction: the fields have their widths, the control
    digits fit, and the identificación names ``due``, the last day the bank may collect ``amount_cents``."""

    emisora: str
    reference: str  # 12 digits: the base and its control digits
    identification: str
    amount_cents: int
    due: date

    def __post_init__(self) -> None:
        _digits("emisora", self.emisora, 6)
        _digits("reference", self.reference, 12)
        _digits("identification", self.identification, 10)
        if not check(self.emisora, self.reference, self.identification, _amount(self.amount_cents)):
            raise ValueError(f"the control digits of reference {self.reference!r} do not fit the letter")
        if self.identification[0] != PERIOD or self.identification[6:] != f"{self.due.year % 10}{self.due:%j}":
            raise ValueError(f"identification {self.identification!r} does not name the due date {self.due}")

    def barcode_data(self) -> str:
        """The 42 digits the GS1-128 barcode encodes after its FNC1 (Anexo común IV, format 521)."""
        return (
            f"{APPLICATION_IDENTIFIER}{FORMAT}{self.emisora}{self.reference}{self.identification}"
            f"{self.amount_cents:08d}{PARITY}"
        )

    def human_readable(self) -> str:
        """The line printed under the bars: the application identifier in brackets, then the fields apart, so
        a clerk can key in a letter whose bars do not scan."""
        return (
            f"({APPLICATION_IDENTIFIER}){FORMAT} {self.emisora} {self.reference} {self.identification} "
            f"{self.amount_cents:08d} {PARITY}"
        )


def letter(
    emisora: str, base_reference: str, tributo: str, due: date, amount_cents: int, *, accrual_year: int | None = None
) -> Letter:
    """A carta de pago for ``amount_cents`` payable until ``due``. ``base_reference`` (up to 10 digits, zero
    padded) names the debt; ``accrual_year`` (the ejercicio) defaults to the due date's year."""
    if not 1 <= len(base_reference) <= 10 or not base_reference.isascii() or not base_reference.isdigit():
        raise ValueError(f"base_reference must be 1 to 10 digits, got {base_reference!r}")
    base = base_reference.zfill(10)
    ident = identification(tributo, due, due.year if accrual_year is None else accrual_year)
    reference = base + control_digits(emisora, base, ident, amount_cents)
    return Letter(emisora, reference, ident, amount_cents, due)


def barcode_modules(data: str) -> str:
    """The GS1-128 symbol of ``data`` as modules, "1" a bar and "0" a space of one module's width: Start C,
    FNC1, the digits in pairs, the check symbol and Stop. No quiet zone: leave 10 modules blank each side."""
    from barcode.codex import Gs1_128  # type: ignore[import-untyped]  # python-barcode ships no type hints

    if not data or not data.isascii() or not data.isdigit():
        raise ValueError(f"a Cuaderno 60 barcode encodes digits only, got {data!r}")
    modules = str(Gs1_128(data).build()[0])
    if not modules.startswith(START_C + FNC1):
        raise RuntimeError("python-barcode did not start the symbol with Start C and FNC1")
    return modules


# --- The collection file ----------------------------------------------------------------------------------
# PIC's fixed-width layout for the bank's communication of what it collected (Cuaderno 60, II.9 "Comunicación
# quincenal de la recaudación"): every record RECORD_LENGTH characters, ASCII, one a line; positions 1-based.
#
#   header   1 "0" | 2-5 entidad | 6-13 file date AAAAMMDD | 14-80 blanks
#   detail   1 "2" | 2-5 entidad | 6-11 emisora | 12 modalidad "2" | 13-24 referencia | 25-34 identificación
#            | 35-42 importe (cents) | 43-50 collection date AAAAMMDD | 51-80 blanks
#   totals   1 "9" | 2-5 entidad | 6-13 number of details | 14-27 sum of their importes (cents) | 28-80 blanks
#
# The bank simulator writes it and the parser reads it. A real entidad colaboradora's file must be checked
# against this table (and the table corrected) before it is read with this module.

RECORD_LENGTH = 80
HEADER, DETAIL, TOTALS = "0", "2", "9"


class ReturnFileError(ValueError):
    """A collection file PIC will not read: nothing in it is marked paid. ``line`` is 1-based."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(f"line {line}: {reason}")
        self.line = line
        self.reason = reason


@dataclass(frozen=True)
class Collected:
    """One letter the bank collected. ``line`` says where it was read and takes no part in equality."""

    emisora: str
    reference: str
    identification: str
    amount_cents: int
    collected_on: date
    entity: str  # the entidad colaboradora's 4-digit bank code
    line: int = field(default=0, compare=False)

    @property
    def key(self) -> tuple[str, str, str]:
        """What names the letter paid: PIC marks its debt paid once, however often this key arrives."""
        return (self.emisora, self.reference, self.identification)


@dataclass(frozen=True)
class ReturnFile:
    entity: str
    created_on: date
    records: tuple[Collected, ...]

    @property
    def total_cents(self) -> int:
        return sum(r.amount_cents for r in self.records)


def render_return_file(records: Iterable[Collected], *, entity: str, created_on: date) -> str:
    """The collection file of ``records``, as the bank simulator sends it. The fields must fit their widths;
    the control digits are the letters' own (checking them is the reader's job, so a test can send bad ones)."""
    _digits("entity", entity, 4)
    lines = [f"{HEADER}{entity}{created_on:%Y%m%d}"]
    count = total = 0
    for r in records:
        if r.entity != entity:
            raise ValueError(f"record of {r.entity} in the file of {entity}")
        _amount(r.amount_cents)
        fields = (
            _digits("emisora", r.emisora, 6),
            MODALITY,
            _digits("reference", r.reference, 12),
            _digits("identification", r.identification, 10),
        )
        lines.append(f"{DETAIL}{entity}{''.join(fields)}{r.amount_cents:08d}{r.collected_on:%Y%m%d}")
        count, total = count + 1, total + r.amount_cents
    lines.append(f"{TOTALS}{entity}{count:08d}{total:014d}")
    return "".join(line.ljust(RECORD_LENGTH) + "\n" for line in lines)


def _number(line: int, record: str, start: int, end: int, name: str) -> int:
    value = record[start - 1 : end]
    if not value.isascii() or not value.isdigit():
        raise ReturnFileError(line, f"{name} (positions {start}-{end}) is not digits: {value!r}")
    return int(value)


def _date(line: int, record: str, start: int, name: str) -> date:
    value = record[start - 1 : start + 7]
    _number(line, record, start, start + 7, name)
    try:
        return date(int(value[:4]), int(value[4:6]), int(value[6:]))
    except ValueError:
        raise ReturnFileError(line, f"{name} {value} is not a date (AAAAMMDD)") from None


def _blank(line: int, record: str, start: int) -> None:
    if record[start - 1 :].strip(" "):
        raise ReturnFileError(line, f"positions {start}-{RECORD_LENGTH} must be blank")


def _entity(line: int, record: str, expected: str) -> str:
    _number(line, record, 2, 5, "entidad")
    if record[1:5] != expected:
        raise ReturnFileError(line, f"entidad {record[1:5]} differs from the header's {expected}")
    return expected


def _detail(line: int, record: str, entity: str) -> Collected:
    _entity(line, record, entity)
    for start, end, name in ((6, 11, "emisora"), (13, 24, "referencia"), (25, 34, "identificación")):
        _number(line, record, start, end, name)
    if record[11] != MODALITY:
        raise ReturnFileError(line, f"modalidad {record[11]!r} is not {MODALITY}")
    amount = _number(line, record, 35, 42, "importe")
    collected_on = _date(line, record, 43, "collection date")
    _blank(line, record, 51)
    emisora, reference, ident = record[5:11], record[12:24], record[24:34]
    if not check(emisora, reference, ident, amount):
        raise ReturnFileError(line, f"the control digits of referencia {reference} do not fit the record")
    return Collected(emisora, reference, ident, amount, collected_on, entity, line)


def _lines(text: str) -> list[str]:
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line.removesuffix("\r") for line in lines]


def parse_return_file(text: str) -> ReturnFile:
    """The letters a collection file says were collected, or the first thing wrong with it: a record of the
    wrong length or type, out of place, with a field that is not what its positions hold, control digits that
    do not fit, or totals that are not the count and sum of the details."""
    records = _lines(text)
    if not records:
        raise ReturnFileError(1, "the file is empty")
    for number, record in enumerate(records, start=1):
        if len(record) != RECORD_LENGTH:
            raise ReturnFileError(number, f"the record has {len(record)} characters, not {RECORD_LENGTH}")
        if record[0] not in (HEADER, DETAIL, TOTALS):
            raise ReturnFileError(number, f"unknown record type {record[0]!r}")
    header = records[0]
    if header[0] != HEADER:
        raise ReturnFileError(1, "the file does not start with a header record")
    _number(1, header, 2, 5, "entidad")
    entity = header[1:5]
    created_on = _date(1, header, 6, "file date")
    _blank(1, header, 14)
    collected: list[Collected] = []
    for number, record in enumerate(records[1:], start=2):
        if record[0] == TOTALS:
            if number != len(records):
                raise ReturnFileError(number + 1, "a record follows the totals")
            _totals(number, record, entity, collected)
            return ReturnFile(entity, created_on, tuple(collected))
        if record[0] != DETAIL:
            raise ReturnFileError(number, "a second header record")
        collected.append(_detail(number, record, entity))
    raise ReturnFileError(len(records), "the file ends without a totals record")


def _totals(line: int, record: str, entity: str, collected: list[Collected]) -> None:
    _entity(line, record, entity)
    count = _number(line, record, 6, 13, "number of records")
    total = _number(line, record, 14, 27, "total importe")
    _blank(line, record, 28)
    if count != len(collected):
        raise ReturnFileError(line, f"the totals count {count} records, the file has {len(collected)}")
    summed = sum(r.amount_cents for r in collected)
    if total != summed:
        raise ReturnFileError(line, f"the totals sum {total} cents, the records {summed}")
