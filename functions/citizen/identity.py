"""Identity evidence for C360 matching, pure: no Flask, no boto3, no pynamodb, no I/O.

Matching is deterministic on a validated DNI/NIE/passport, then probabilistic over names, birth date,
e-mail, phone and address. This module only turns what source systems hold into comparable evidence:
documents checked with python-stdnum (a wrong check letter is a data-quality finding, never a match and
never an exception), Spanish names folded into match keys, e-mails and phones in canonical form, and the
blocking keys that decide which pairs of records are compared at all. It scores nothing.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from itertools import groupby
from typing import Literal

from stdnum.es import dni, nie
from stdnum.exceptions import InvalidChecksum, InvalidFormat, InvalidLength
from stdnum.exceptions import ValidationError as StdnumValidationError
from stdnum.util import isdigits

from functions.core import contact
from functions.core.errors import ValidationError

DocumentType = Literal["DNI", "NIE", "PASSPORT"]
DOCUMENT_TYPES: tuple[DocumentType, ...] = ("DNI", "NIE", "PASSPORT")
_DOCUMENT_ALIASES: dict[str, DocumentType] = {
    "DNI": "DNI",
    "NIE": "NIE",
    "PASSPORT": "PASSPORT",
    "PASAPORTE": "PASSPORT",
}


class IdentityError(ValidationError):
    """Identity input that cannot even be read as evidence. Wrong data is a finding, not this error.

    It keeps the ``validation`` problem type (documented in docs/problems.md): to the caller it is a field
    outside what the API accepts.
    """


class UnknownDocumentTypeError(IdentityError):
    """A document type other than DNI, NIE or passport: there is no rule to validate or compare it by."""


# ---- documents ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Document:
    """An identity document as evidence; only a ``valid`` one may decide a match on its own.

    ``number`` is the compact canonical form (upper case, no spaces, dots or dashes). ``finding`` says what
    is wrong with an invalid one, for the data-quality report; its record is still matched on the rest.
    """

    type: DocumentType
    number: str
    valid: bool
    finding: str | None = None


def normalise_document(type: str, number: str) -> Document:
    """Validate a DNI or NIE with python-stdnum (Real Decreto 1553/2005 art. 11 check letter), or tidy a passport.

    Raises ``UnknownDocumentTypeError`` only for a type we have no rule for; a bad number is a finding.
    """
    kind = _document_type(type)
    if kind == "PASSPORT":
        return _passport(number)
    compact = dni.compact(number.replace(".", ""))  # "12.345.678-Z" is how many people write it
    if not compact:
        return Document(kind, compact, False, f"empty {kind} number")
    rules = dni if kind == "DNI" else nie
    try:
        return Document(kind, rules.validate(compact), True)
    except InvalidChecksum:
        return Document(kind, compact, False, _checksum_finding(kind, compact))
    except InvalidLength:
        return Document(kind, compact, False, _length_finding(kind, compact))
    except InvalidFormat:
        return Document(kind, compact, False, _format_finding(kind, compact))
    except StdnumValidationError as exc:  # stdnum may add kinds of failure; each is still only a finding
        return Document(kind, compact, False, f"not a valid {kind}: {compact} ({exc})")


def _document_type(type: str) -> DocumentType:
    kind = _DOCUMENT_ALIASES.get(type.strip().upper())
    if kind is None:
        raise UnknownDocumentTypeError(
            f"unknown document type {type!r}",
            errors=[{"field": "document.type", "message": f"one of {', '.join(DOCUMENT_TYPES)}"}],
        )
    return kind


def _checksum_finding(kind: DocumentType, compact: str) -> str:
    body, last = compact[:-1], compact[-1]
    expected = (dni if kind == "DNI" else nie).calc_check_digit(body)
    if not last.isalpha():
        return f"no check letter: {compact} ends in {last!r}; {body} should be followed by {expected}"
    return f"wrong check letter: {compact} should end in {expected}"


def _length_finding(kind: DocumentType, compact: str) -> str:
    if kind == "DNI":
        if len(compact) == 8 and isdigits(compact):
            return f"missing check letter: {compact} should be followed by {dni.calc_check_digit(compact)}"
        padded = "0" + compact
        if len(compact) == 8 and dni.is_valid(padded):
            return f"wrong length: {compact} has 7 digits; {padded} would be valid (leading zero lost?)"
        return f"wrong length: {compact} has {len(compact)} characters; a DNI is 8 digits and a check letter"
    if len(compact) == 8 and compact[0] in "XYZ" and isdigits(compact[1:]):
        return f"missing check letter: {compact} should be followed by {nie.calc_check_digit(compact)}"
    return f"wrong length: {compact} has {len(compact)} characters; a NIE is X, Y or Z, 7 digits and a check letter"


def _format_finding(kind: DocumentType, compact: str) -> str:
    if kind == "DNI":
        if nie.is_valid(compact):
            return f"not a DNI: {compact} is a valid NIE"
        return f"not a DNI: {compact} is not 8 digits and a check letter"
    if dni.is_valid(compact):
        return f"not a NIE: {compact} is a valid DNI"
    return f"not a NIE: {compact} is not X, Y or Z, 7 digits and a check letter"


_PASSPORT = re.compile(r"[A-Z0-9]{3,20}")


def _passport(number: str) -> Document:
    """Passports carry no check character outside the MRZ, and numbering differs by country: only the
    characters can be checked. A passport number is unique per issuing country only."""
    compact = re.sub(r"[\s\-]", "", number).upper()
    if not _PASSPORT.fullmatch(compact):
        return Document("PASSPORT", compact, False, f"not a passport number: {compact!r} is not 3-20 letters/digits")
    return Document("PASSPORT", compact, True)


def document_digits(document: Document) -> str | None:
    """The number of a DNI/NIE without its check letter, when it has the right shape, valid or not.

    A blocking key on it lets a record with a mistyped letter meet its twin, to be scored, not matched.
    """
    body = document.number[:8]
    if len(document.number) not in (8, 9):
        return None
    if document.type == "DNI" and isdigits(body):
        return body
    if document.type == "NIE" and body[:1] in ("X", "Y", "Z") and isdigits(body[1:]):
        return body
    return None


# ---- names ----------------------------------------------------------------------------------------

_APOSTROPHES_AND_DOTS = re.compile(r"['’ʼ`´·]")  # D'Ors → DORS, O'Donnell → ODONNELL, Col·lell → COLLELL
_GIVEN_ABBREVIATIONS = (
    (re.compile(r"\bM\s*\.?\s*ª\.?"), "MARIA "),  # Mª, M.ª
    (re.compile(r"\bMA\."), "MARIA "),  # "Ma." only with the dot: a bare "Ma" is a name of its own
    (re.compile(r"\bM\.(?=\s*ANGEL\b)"), "MIGUEL "),  # "M. Ángel" is Miguel Ángel, not María
    (re.compile(r"\bM\."), "MARIA "),
    (re.compile(r"\bFCO\b\.?"), "FRANCISCO "),
)
# Abbreviated surnames that legacy forms with short fields are full of; never a surname of their own.
_SURNAME_ABBREVIATIONS = {
    "FDEZ": "FERNANDEZ",
    "GLEZ": "GONZALEZ",
    "GZLEZ": "GONZALEZ",
    "HDEZ": "HERNANDEZ",
    "RGUEZ": "RODRIGUEZ",
    "RDGUEZ": "RODRIGUEZ",
    "MTNEZ": "MARTINEZ",
    "MNEZ": "MARTINEZ",
    "SCHEZ": "SANCHEZ",
}
_ARTICLES_AFTER_DE = frozenset({"LA", "LAS", "LOS"})
_CONJUNCTIONS = frozenset({"Y", "I", "E"})  # Ortega y Gasset, Puig i Cadafalch


@dataclass(frozen=True)
class PersonName:
    """A name as written (for display) and folded into match keys (for comparison).

    Keys are upper case without accents, so Ñ becomes N *only in keys* (legacy systems without Ñ wrote
    IBANEZ); linking particles (de, del, de la/los/las; y/i/e between surnames) are dropped from keys only,
    while "San", "Santa", "La" without "de" are part of the surname (San Román, La Torre) and stay.
    """

    given: str
    first_surname: str
    second_surname: str | None
    given_key: str
    first_surname_key: str
    second_surname_key: str
    given_phonetic: str
    first_surname_phonetic: str
    second_surname_phonetic: str

    @property
    def surnames_key(self) -> str:
        return f"{self.first_surname_key}|{self.second_surname_key}"

    @property
    def surnames_key_sorted(self) -> str:
        """The same for "García López" and "López García": surnames swapped between systems still meet."""
        return "|".join(sorted((self.first_surname_key, self.second_surname_key)))

    @property
    def all_surnames_key(self) -> str:
        """Both surnames as one: for systems that keep "García López" in the first-surname field."""
        return " ".join(k for k in (self.first_surname_key, self.second_surname_key) if k)


def normalise_name(given: str, first_surname: str, second_surname: str | None = None) -> PersonName:
    """Fold a Spanish name for matching: case, accents, particles, abbreviations (Mª, Fco., Fdez.), hyphens."""
    given_key = " ".join(_name_tokens(given, surname=False))
    first_key = " ".join(_name_tokens(first_surname, surname=True))
    second_key = " ".join(_name_tokens(second_surname or "", surname=True))
    second_display = _display(second_surname or "")
    return PersonName(
        given=_display(given),
        first_surname=_display(first_surname),
        second_surname=second_display or None,
        given_key=given_key,
        first_surname_key=first_key,
        second_surname_key=second_key,
        given_phonetic=phonetic_key(given_key),
        first_surname_phonetic=phonetic_key(first_key),
        second_surname_phonetic=phonetic_key(second_key),
    )


def _display(text: str) -> str:
    return " ".join(text.split())


def _strip_marks(text: str, form: Literal["NFD", "NFKD"]) -> str:
    return "".join(c for c in unicodedata.normalize(form, text) if not unicodedata.combining(c))


@lru_cache(maxsize=131_072)
def _name_tokens(text: str, *, surname: bool) -> tuple[str, ...]:
    """Cached: a city's names come from a few thousand given names, surnames and streets."""
    return tuple(_fold_tokens(text, surname=surname))


def _fold_tokens(text: str, *, surname: bool) -> list[str]:
    folded = _strip_marks(_APOSTROPHES_AND_DOTS.sub("", text), "NFD").upper()
    if not surname:
        for pattern, expansion in _GIVEN_ABBREVIATIONS:  # before NFKD, which turns ª into a plain A
            folded = pattern.sub(expansion, folded)
    folded = _strip_marks(folded, "NFKD").upper()
    tokens = re.findall(r"[^\W\d_]+", folded)  # letters only: hyphens, dots and digits separate words
    if surname:
        tokens = [_SURNAME_ABBREVIATIONS.get(t, t) for t in tokens]
    return _without_particles(tokens, surname=surname)


def _without_particles(words: list[str], *, surname: bool) -> list[str]:
    """Drop de/del/de la/de los/de las anywhere, and y/i/e between two surname words; keep all if nothing is left."""
    kept: list[str] = []
    i = 0
    while i < len(words):
        word = words[i]
        if word in ("DE", "DEL"):
            i += 1
            if word == "DE" and i < len(words) and words[i] in _ARTICLES_AFTER_DE:
                i += 1
            continue
        if surname and word in _CONJUNCTIONS and 0 < i < len(words) - 1:
            i += 1
            continue
        kept.append(word)
        i += 1
    return kept or words


@lru_cache(maxsize=131_072)
def phonetic_key(text: str) -> str:
    """A blocking key for names that sound alike in Spanish: b/v, c/z/s before e/i, ll/y, silent h, qu/k.

    Two names with the same key are worth comparing, nothing more: this is never evidence of a match
    (Bello and Vello share one). Words are joined, so "La Torre" and "Latorre" meet too.
    """
    words = re.findall(r"[^\W\d_]+", _strip_marks(text, "NFKD").upper())
    return "".join(_phonetic_word(w) for w in words)


def _phonetic_word(word: str) -> str:
    codes: list[str] = []
    i, n = 0, len(word)
    while i < n:
        c = word[i]
        nxt = word[i + 1] if i + 1 < n else ""
        code, step = c, 1
        if c == "C":
            if nxt == "H":
                code, step = "C", 2  # ch keeps its own sound: plain c always becomes K or S
            else:
                code = "S" if nxt in ("E", "I") else "K"
        elif c in ("Z", "S"):
            code = "S"
        elif c == "Q":
            code, step = "K", 2 if nxt == "U" else 1
        elif c == "G":
            if nxt in ("E", "I"):
                code = "J"
            elif nxt == "U" and i + 2 < n and word[i + 2] in ("E", "I"):
                code, step = "G", 2  # gue/gui: the u is silent
        elif c == "H":
            code = ""
        elif c in ("V", "W"):
            code = "B"
        elif c == "L" and nxt == "L":
            code, step = "Y", 2
        elif c == "Y":
            code = "Y" if nxt in ("A", "E", "I", "O", "U") else "I"  # a final "y" is the vowel: Rey, Rei
        elif c == "P" and nxt == "H":
            code, step = "F", 2
        codes.append(code)
        i += step
    return "".join(k for k, _ in groupby("".join(codes)))  # doubled letters (rr, ss, nn) count once


# ---- e-mail, phone, postal code -------------------------------------------------------------------


def normalise_email(s: str | None) -> str | None:
    """The address C360 matches on (``functions.core.contact``: the platform's one rule); ``None`` if invalid."""
    return contact.usable_email(s)


def normalise_phone(s: str | None, region: str = "ES") -> str | None:
    """The number C360 matches on, in E.164 (``functions.core.contact``); ``None`` if it cannot be real."""
    return contact.usable_phone(s, region)


@dataclass(frozen=True)
class PostalCode:
    """A Spanish postal code; ``in_madrid_city`` for 280xx (other municipalities of the province are 281xx-289xx)."""

    code: str
    valid: bool
    in_madrid_city: bool
    finding: str | None = None


def normalise_postal_code(s: str | None) -> PostalCode | None:
    """Five digits whose first two are a province (01-52); ``None`` when there is nothing to read.

    A code elsewhere in Spain is valid (citizens move, non-residents get fines) and only flagged as not
    Madrid city. Four digits are read with the leading zero spreadsheets drop, and that is a finding.
    """
    if s is None or not s.strip():
        return None
    code = re.sub(r"[\s.\-]", "", s)
    finding = None
    if re.fullmatch(r"[0-9]{4}", code):
        code = "0" + code
        finding = f"leading zero restored: {s.strip()} read as {code}"
    if not re.fullmatch(r"[0-9]{5}", code):
        return PostalCode(code, False, False, f"not a Spanish postal code: {s.strip()!r} is not 5 digits")
    if not 1 <= int(code[:2]) <= 52:
        return PostalCode(code, False, False, f"not a Spanish postal code: {code} has no province {code[:2]} (01-52)")
    return PostalCode(code, True, code.startswith("280"), finding)


# ---- records and blocking -------------------------------------------------------------------------


@dataclass(frozen=True)
class Address:
    street: str | None = None
    number: str | None = None
    postal_code: str | None = None
    district: str | None = None  # official district code ("01" Centro), see functions.core.madrid


@dataclass(frozen=True)
class SourceRecord:
    """One person as one source system holds them (Padrón, IBI, multas...), raw except the document,
    which is normalised on the way in so its finding is recorded once."""

    local_id: str
    document: Document | None = None
    given_name: str | None = None
    first_surname: str | None = None
    second_surname: str | None = None
    birth_date: date | None = None
    email: str | None = None
    phone: str | None = None
    address: Address = field(default_factory=Address)


def blocking_keys(record: SourceRecord) -> set[str]:
    """The keys that put a record in the same block as its candidates; only records sharing a key are compared.

    Each key's prefix names its evidence: ``doc:`` a validated document; ``doc-digits:`` a DNI/NIE number
    without its letter (valid or not); ``name:`` a surname's phonetic key and birth year (one per surname,
    so swapped surnames meet); ``email:`` the normalised address, case-folded; ``phone:`` E.164;
    ``dob+pc:`` birth date and postal code. Sharing a key is a reason to compare, never a match: households
    share phones, e-mails and addresses.
    """
    keys: set[str] = set()
    document = record.document
    if document is not None:
        if document.valid:
            keys.add(f"doc:{document.type}:{document.number}")
        digits = document_digits(document)
        if digits:
            keys.add(f"doc-digits:{document.type}:{digits}")
    if record.birth_date is not None and (record.first_surname or record.second_surname):
        name = normalise_name(record.given_name or "", record.first_surname or "", record.second_surname)
        for phonetic in {name.first_surname_phonetic, name.second_surname_phonetic} - {""}:
            keys.add(f"name:{phonetic}|{record.birth_date.year}")
    email = normalise_email(record.email)
    if email:
        keys.add(f"email:{email.casefold()}")  # case-folded for blocking only: the evidence keeps the case
    phone = normalise_phone(record.phone)
    if phone:
        keys.add(f"phone:{phone}")
    postal_code = normalise_postal_code(record.address.postal_code)
    if record.birth_date is not None and postal_code is not None and postal_code.valid:
        keys.add(f"dob+pc:{record.birth_date.isoformat()}|{postal_code.code}")
    return keys
