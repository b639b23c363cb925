"""A synthetic Madrid for the identity-resolution work: N people spread over the eight area systems
(Padrón, Tributos, SER, Multas, Deportes, Cultura, Servicios Sociales, Cita Previa), with planted noise
and the ground truth of who is who.

``python -m seed.city --people 1000 --seed 7 --out .pic-data/city [--format jsonl|csv]``
writes ``<system>.jsonl`` (or ``.csv``) per system, ``ground_truth.jsonl`` and ``summary.json``.
The same seed (and the pinned Faker) gives byte-identical files. People are generated and written one
at a time, so a million-person city runs in constant memory; each system's file passes through a
bounded shuffle buffer so that a person's records (and planted duplicates) are not neighbours.

Every figure below marked *approximate* is a plausible shape for a realistic test set, not a statistic.
"""

from __future__ import annotations

import argparse
import bisect
import csv
import io
import json
import math
import random
import sys
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from typing import IO, Any, Literal, TypedDict

from faker.providers.address.es_ES import Provider as FakerAddress
from faker.providers.person.es_ES import Provider as FakerPerson
from stdnum.es import dni as stdnum_dni
from stdnum.es import nie as stdnum_nie

Format = Literal["jsonl", "csv"]
DocumentType = Literal["DNI", "NIE", "PASSPORT"]

CHECK_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"  # facts.md §6, Real Decreto 1553/2005 art. 11
REFERENCE_DATE = date(2026, 1, 1)  # ages are computed against this day, never against today


class Document(TypedDict):
    type: DocumentType
    number: str


class Address(TypedDict):
    street: str
    number: str
    postal_code: str
    district: str | None  # two-digit district code; None for a non-resident's address outside Madrid


class Record(TypedDict):
    """What an area system holds about one person: the data of ``es.madrid.pic.citizen.record.upserted.v1``."""

    local_id: str
    document: Document | None
    given_name: str
    first_surname: str
    second_surname: str | None
    birth_date: str | None
    email: str | None
    phone: str | None
    address: Address | None


CSV_COLUMNS = (
    "local_id",
    "document_type",
    "document_number",
    "given_name",
    "first_surname",
    "second_surname",
    "birth_date",
    "email",
    "phone",
    "address_street",
    "address_number",
    "address_postal_code",
    "address_district",
)


# ---------------------------------------------------------------------------
# Noise
# ---------------------------------------------------------------------------

NOISE_KINDS = (
    "duplicate",
    "typo",
    "accents_dropped",
    "surnames_swapped",
    "given_name_abbreviated",
    "missing_document",
    "wrong_check_letter",
    "email_changed",
    "phone_changed",
    "nickname",
)


@dataclass(frozen=True)
class NoiseRates:
    """Probability per record of each planted defect (the names are the tags in ``ground_truth.jsonl``).

    ``surnames_swapped`` needs two surnames, ``given_name_abbreviated`` a name with a usual abbreviation
    or a compound name, ``wrong_check_letter`` a DNI/NIE, ``*_changed`` a value captured in that system:
    for those the rate applies to the records that qualify.
    """

    duplicate: float = 0.02  # the same person twice in one system, under two local_ids
    typo: float = 0.04  # one edit (substitution, deletion, insertion, transposition) in one name field
    accents_dropped: float = 0.08  # "José Martínez" -> "Jose Martinez"
    surnames_swapped: float = 0.02
    given_name_abbreviated: float = 0.10  # "María del Carmen" -> "Mª del Carmen", "Francisco" -> "Fco."
    missing_document: float = 0.05  # the person has a document, this record does not carry it
    wrong_check_letter: float = 0.01  # a data-quality finding: the DNI/NIE letter does not match
    email_changed: float = 0.05  # an older e-mail the person has since replaced
    phone_changed: float = 0.05  # an older mobile number
    # One more record, at a sports centre's counter, under the name the person goes by ("Lola" for Dolores),
    # with no document: a possible match for the clerical review queue (a given name that disagrees never
    # merges on its own). The rate applies to the people whose given name has a usual hypocorism. Off by
    # default, so that the cities the matcher is trained and measured on stay as they were; ``make run``'s
    # city plants them (``local_city``).
    nickname: float = 0.0

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"noise rate {f.name} must be within [0, 1], got {value}")

    @classmethod
    def none(cls) -> NoiseRates:
        return cls(**{f.name: 0.0 for f in fields(cls)})

    def with_overrides(self, overrides: dict[str, float]) -> NoiseRates:
        unknown = sorted(set(overrides) - set(NOISE_KINDS))
        if unknown:
            raise ValueError(f"unknown noise rate(s) {unknown}; known: {', '.join(NOISE_KINDS)}")
        return replace(self, **overrides)


# ---------------------------------------------------------------------------
# The area systems
# ---------------------------------------------------------------------------

AgeGroup = Literal["minor", "adult", "senior", "non_resident"]


@dataclass(frozen=True)
class AreaSystem:
    """One legacy system: who is in it (by age group) and what it captures (probability per field).

    Membership and capture probabilities are approximate, chosen so that the systems differ the way
    real ones do (Multas rarely knows a birth date, Cita Previa rarely an address).
    """

    name: str
    title: str
    id_prefix: str
    membership: dict[AgeGroup, float]
    birth_date: float
    email: float
    phone: float
    address: float

    @property
    def source(self) -> str:
        return f"/legacy/{self.name}"


SYSTEMS: tuple[AreaSystem, ...] = (
    AreaSystem(
        "padron", "Padrón municipal de habitantes", "PAD",
        {"minor": 0.99, "adult": 0.99, "senior": 0.99, "non_resident": 0.0},
        birth_date=1.0, email=0.35, phone=0.6, address=1.0,
    ),
    AreaSystem(
        "tributos", "Agencia Tributaria Madrid (IBI, IVTM)", "TRB",
        {"minor": 0.0, "adult": 0.40, "senior": 0.60, "non_resident": 0.15},
        birth_date=0.6, email=0.5, phone=0.55, address=0.97,
    ),
    AreaSystem(
        "ser", "Servicio de Estacionamiento Regulado (distintivo de residente)", "SER",
        {"minor": 0.0, "adult": 0.12, "senior": 0.08, "non_resident": 0.0},
        birth_date=0.5, email=0.8, phone=0.8, address=1.0,
    ),
    AreaSystem(
        "multas", "Multas de circulación", "MUL",
        {"minor": 0.0, "adult": 0.22, "senior": 0.08, "non_resident": 0.40},
        birth_date=0.3, email=0.15, phone=0.2, address=0.95,
    ),
    AreaSystem(
        "deportes", "Centros deportivos municipales", "DEP",
        {"minor": 0.35, "adult": 0.22, "senior": 0.12, "non_resident": 0.05},
        birth_date=0.95, email=0.85, phone=0.9, address=0.6,
    ),
    AreaSystem(
        "cultura", "Bibliotecas y centros culturales", "CUL",
        {"minor": 0.25, "adult": 0.20, "senior": 0.18, "non_resident": 0.05},
        birth_date=0.8, email=0.8, phone=0.6, address=0.5,
    ),
    AreaSystem(
        "servicios-sociales", "Servicios Sociales", "SSO",
        {"minor": 0.04, "adult": 0.04, "senior": 0.15, "non_resident": 0.0},
        birth_date=1.0, email=0.4, phone=0.95, address=1.0,
    ),
    AreaSystem(
        "cita-previa", "Cita Previa", "CIT",
        {"minor": 0.02, "adult": 0.35, "senior": 0.30, "non_resident": 0.10},
        birth_date=0.2, email=0.9, phone=0.95, address=0.1,
    ),
)  # fmt: skip
SYSTEMS_BY_NAME = {s.name: s for s in SYSTEMS}


# ---------------------------------------------------------------------------
# Madrid
# ---------------------------------------------------------------------------

# Padrón population by district at 1.1.2020 ("La ciudad de Madrid en cifras", shared/data/madrid/districts.json),
# used only as weights for where people live.
DISTRICT_POPULATION = {
    "01": 140473, "02": 155660, "03": 120406, "04": 147854, "05": 147551, "06": 161313, "07": 140866,
    "08": 249973, "09": 121683, "10": 242139, "11": 260196, "12": 142894, "13": 240867, "14": 95614,
    "15": 219867, "16": 193264, "17": 154318, "18": 114512, "19": 74048, "20": 161222, "21": 50010,
}  # fmt: skip

# Approximate: postal codes mostly found in each district. Postal zones and districts do not share
# borders (several codes straddle two districts), so this is "consistent-ish", not a lookup table.
DISTRICT_POSTAL_CODES = {
    "01": ("28004", "28005", "28012", "28013", "28014", "28015"),
    "02": ("28005", "28045", "28007"),
    "03": ("28007", "28009", "28014"),
    "04": ("28001", "28006", "28009", "28028"),
    "05": ("28002", "28016", "28036", "28046"),
    "06": ("28020", "28029", "28039"),
    "07": ("28003", "28010", "28015"),
    "08": ("28029", "28034", "28035", "28048", "28049", "28050"),
    "09": ("28008", "28023", "28040"),
    "10": ("28011", "28024", "28044", "28047"),
    "11": ("28019", "28025", "28044", "28047", "28054"),
    "12": ("28026", "28041"),
    "13": ("28018", "28038", "28053"),
    "14": ("28030",),
    "15": ("28017", "28027", "28043"),
    "16": ("28033", "28043", "28050", "28055"),
    "17": ("28021", "28041"),
    "18": ("28031", "28051"),
    "19": ("28032", "28052"),
    "20": ("28022", "28037"),
    "21": ("28042",),
}

# Non-residents who still appear (a fine, a property, a library card): towns around Madrid and beyond.
OUTSIDE_POSTAL_CODES = ("28100", "28220", "28400", "28901", "28921", "28931", "28941", "28801", "19001", "45001")

# Approximate shape of Madrid's population pyramid, in five-year bands from 0-4 to 95-99 (percent).
AGE_BAND_WEIGHTS = (4.3, 4.7, 4.9, 4.6, 5.1, 6.3, 6.9, 7.4, 8.1, 8.1, 7.4, 6.9, 6.0, 5.1, 4.7, 3.7, 3.0, 2.2, 1.0, 0.3)

SHARE_FEMALE = 1_872_162 / 3_527_924  # Padrón 1.1.2025 (facts.md §5.1)
SHARE_SPANISH = 0.80  # "80 % Spanish nationality", same source
SHARE_NON_RESIDENT = 0.03

# Approximate relative frequency of the commonest Spanish surnames (order of magnitude of INE's
# counts). Drawn for a quarter of surnames so that homonyms ("María García López") exist, as they do.
COMMON_SURNAMES = {
    "García": 29, "Rodríguez": 19, "González": 19, "Fernández": 19, "López": 18, "Martínez": 17,
    "Sánchez": 17, "Pérez": 16, "Gómez": 10, "Martín": 10, "Jiménez": 8, "Ruiz": 8, "Hernández": 8,
    "Díaz": 7, "Moreno": 7, "Muñoz": 6, "Álvarez": 6, "Romero": 5, "Alonso": 5, "Gutiérrez": 5,
}  # fmt: skip
SHARE_COMMON_SURNAME = 0.25

COMPOUND_PREFIXES = {"F": ("María", "Ana", "Rosa"), "M": ("José", "Juan", "Francisco", "Luis")}
SHARE_EXTRA_COMPOUND = 0.12  # on top of the compound names Faker's es_ES list already has

# Usual abbreviations of a first given name; any other compound name abbreviates to its initial.
ABBREVIATIONS = {
    "María": ("Mª", "M.", "Mª"),
    "Francisco": ("Fco.", "Fco"),
    "José": ("J.", "Jose"),
    "Jose": ("J.",),
    "Jesús": ("J.",),
    "Juan": ("J.",),
    "Manuel": ("M.",),
    "Antonio": ("A.", "Ant."),
}

EMAIL_DOMAINS = {
    "gmail.com": 45, "hotmail.com": 18, "yahoo.es": 7, "outlook.es": 5, "outlook.com": 4, "hotmail.es": 5,
    "icloud.com": 4, "telefonica.net": 3, "movistar.es": 2, "yahoo.com": 3, "protonmail.com": 1,
}  # fmt: skip

KEYBOARD_NEIGHBOURS = {
    "a": "qwsz", "b": "vghn", "c": "xdfv", "d": "serfcx", "e": "wsdr", "f": "drtgvc", "g": "ftyhbv",
    "h": "gyujnb", "i": "ujko", "j": "huikmn", "k": "jiolm", "l": "kopñ", "m": "njk", "n": "bhjm",
    "o": "iklp", "p": "olñ", "q": "wa", "r": "edft", "s": "awedxz", "t": "rfgy", "u": "yhji", "v": "cfgb",
    "w": "qase", "x": "zsdc", "y": "tghu", "z": "asx", "ñ": "lp",
}  # fmt: skip

_ACCENTS = str.maketrans("áéíóúüÁÉÍÓÚÜàèìòùÀÈÌÒÙ", "aeiouuAEIOUUaeiouAEIOU")


# ---------------------------------------------------------------------------
# People (the truth)
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    """One synthetic person as they really are; records are noisy views of this."""

    person_id: str
    sex: Literal["F", "M"]
    given_name: str
    first_surname: str
    second_surname: str | None
    birth_date: date
    document: Document | None
    email: str | None
    old_email: str | None
    mobile: str | None
    old_mobile: str | None
    landline: str | None
    address: Address
    resident: bool

    def age(self, on: date = REFERENCE_DATE) -> int:
        return age_on(self.birth_date, on)

    def age_group(self, on: date = REFERENCE_DATE) -> AgeGroup:
        if not self.resident:
            return "non_resident"
        age = self.age(on)
        return "minor" if age < 18 else "senior" if age >= 65 else "adult"


@dataclass(frozen=True)
class SystemRecord:
    system: str
    record: Record
    noise: tuple[str, ...]

    @property
    def source(self) -> str:
        return SYSTEMS_BY_NAME[self.system].source


@dataclass(frozen=True)
class CityConfig:
    people: int
    seed: int = 0
    rates: NoiseRates = field(default_factory=NoiseRates)
    reference_date: date = REFERENCE_DATE

    def __post_init__(self) -> None:
        if self.people < 0:
            raise ValueError("people must be >= 0")


LOCAL_PEOPLE = 200  # the city ``make run`` seeds on a new data directory (``PIC_SEED_PEOPLE``)


def local_city(people: int = LOCAL_PEOPLE) -> CityConfig:
    """The city ``make run`` seeds and ``seed.position`` gives a position to: the same config, the same people;
    with people known by a nickname at a sports centre, so that the clerical review queue has entries."""
    return CityConfig(people=people, seed=1, rates=NoiseRates(nickname=0.25))


class _Permutation:
    """A seeded bijection on ``range(size)`` (an affine map mod size): unique numbers without a set."""

    def __init__(self, size: int, rng: random.Random) -> None:
        self.size = size
        self.offset = rng.randrange(size)
        multiplier = rng.randrange(size // 3, size)
        while math.gcd(multiplier, size) != 1:
            multiplier += 1
        self.multiplier = multiplier

    def __call__(self, index: int) -> int:
        if not 0 <= index < self.size:
            raise ValueError(f"index {index} outside the permutation's range {self.size}")
        return (index * self.multiplier + self.offset) % self.size


def age_on(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def fold_accents(text: str) -> str:
    """Drop acute accents and diaereses as legacy systems do; keep ñ (it is a letter, not an accent)."""
    return text.translate(_ACCENTS)


@lru_cache(maxsize=8192)
def _ascii_slug(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if c.isascii() and c.isalnum())


def dni_check_letter(number: str) -> str:
    return str(stdnum_dni.calc_check_digit(number))


def nie_check_letter(number: str) -> str:
    return str(stdnum_nie.calc_check_digit(number))


class _Weighted:
    """A weighted choice with the cumulative weights computed once (``random.choices`` redoes it per call)."""

    def __init__(self, weights: Mapping[str, float]) -> None:
        self.population = list(weights)
        self.cumulative: list[float] = []
        total = 0.0
        for weight in weights.values():
            total += weight
            self.cumulative.append(total)
        self.total = total

    def pick(self, rng: random.Random) -> str:
        return self.population[bisect.bisect(self.cumulative, rng.random() * self.total)]


AGE_BANDS = _Weighted({str(band): weight for band, weight in enumerate(AGE_BAND_WEIGHTS)})
DISTRICTS = _Weighted(DISTRICT_POPULATION)
SURNAMES = _Weighted(COMMON_SURNAMES)
DOMAINS = _Weighted(EMAIL_DOMAINS)
EMAIL_SHAPES = _Weighted({"g.s1": 2, "gs1yy": 3, "is1s2": 2, "g.s1.s2": 2, "g_s1nn": 2, "s1.gyyyy": 1})


class PeopleFactory:
    """Draws people one at a time from one seeded ``random.Random``.

    Names and street names come from Faker's ``es_ES`` word lists (the pinned version), drawn with our own
    generator: the same seed gives the same city, at a fraction of the cost of a Faker call per field.
    """

    def __init__(self, config: CityConfig) -> None:
        self.config = config
        self.rng = random.Random(config.seed)  # noqa: S311 (reproducible test data, not secrets)
        self.width = max(7, len(str(config.people)))
        self.dni_numbers = _Permutation(10**8, self.rng)
        self.nie_numbers = _Permutation(3 * 10**7, self.rng)
        self.passport_numbers = _Permutation(10**7, self.rng)
        self.issued: Counter[str] = Counter()

    def person(self, index: int) -> Person:
        rng = self.rng
        sex: Literal["F", "M"] = "F" if rng.random() < SHARE_FEMALE else "M"
        birth_date = self._birth_date()
        age = age_on(birth_date, self.config.reference_date)
        resident = rng.random() >= SHARE_NON_RESIDENT or age < 18
        spanish = rng.random() < SHARE_SPANISH
        given_name = self._given_name(sex)
        first_surname = self._surname()
        second_surname: str | None = self._surname()
        if not spanish and rng.random() < 0.3:
            second_surname = None
        document = self._document(spanish, age)
        email, old_email = self._emails(given_name, first_surname, second_surname, birth_date, age)
        mobile, old_mobile, landline = self._phones(age)
        return Person(
            person_id=f"person-{index:0{self.width}d}",
            sex=sex,
            given_name=given_name,
            first_surname=first_surname,
            second_surname=second_surname,
            birth_date=birth_date,
            document=document,
            email=email,
            old_email=old_email,
            mobile=mobile,
            old_mobile=old_mobile,
            landline=landline,
            address=self._address(resident),
            resident=resident,
        )

    def _birth_date(self) -> date:
        band = int(AGE_BANDS.pick(self.rng))
        age_in_days = int((band * 5 + self.rng.random() * 5) * 365.2425)
        return self.config.reference_date - timedelta(days=max(age_in_days, 1))

    def _given_name(self, sex: Literal["F", "M"]) -> str:
        name = self.rng.choice(FakerPerson.first_names_female if sex == "F" else FakerPerson.first_names_male)
        name = name.replace(" Del ", " del ")
        if " " not in name and self.rng.random() < SHARE_EXTRA_COMPOUND:
            prefix = self.rng.choice(COMPOUND_PREFIXES[sex])
            if prefix != name:
                name = f"{prefix} {name}"
        return name

    def _surname(self) -> str:
        if self.rng.random() < SHARE_COMMON_SURNAME:
            return SURNAMES.pick(self.rng)
        return self.rng.choice(FakerPerson.last_names)

    def _document(self, spanish: bool, age: int) -> Document | None:
        rng = self.rng
        if spanish:
            if age < 14 and rng.random() < 0.5:  # the DNI is compulsory from 14
                return None
            digits = f"{self.dni_numbers(self.issued['DNI']):08d}"
            self.issued["DNI"] += 1
            return {"type": "DNI", "number": digits + dni_check_letter(digits)}
        if age < 14 and rng.random() < 0.4:
            return None
        if age >= 14 and rng.random() < 0.15:  # recently arrived, or an EU citizen not yet registered
            serial = self.passport_numbers(self.issued["PASSPORT"])
            self.issued["PASSPORT"] += 1
            letters = "".join(rng.choices("ABCDEFGHJKLMNPRSTUVWXYZ", k=2))
            return {"type": "PASSPORT", "number": f"{letters}{serial:07d}"}
        value = self.nie_numbers(self.issued["NIE"])
        self.issued["NIE"] += 1
        body = "XYZ"[value // 10**7] + f"{value % 10**7:07d}"
        return {"type": "NIE", "number": body + nie_check_letter(body)}

    def _emails(
        self, given: str, first: str, second: str | None, born: date, age: int
    ) -> tuple[str | None, str | None]:
        share = 0.05 if age < 14 else 0.6 if age < 18 else 0.9 if age < 65 else 0.55 if age < 80 else 0.2
        if self.rng.random() >= share:
            return None, None
        email = self._email(given, first, second, born)
        old = self._email(given, first, second, born)
        while old == email:
            local, _, domain = self._email(given, first, second, born).partition("@")
            old = f"{local}{self.rng.randrange(10)}@{domain}"
        return email, old

    def _email(self, given: str, first: str, second: str | None, born: date) -> str:
        g = _ascii_slug(given.split()[0])
        s1 = _ascii_slug(first)
        s2 = _ascii_slug(second or "")
        shape = EMAIL_SHAPES.pick(self.rng)
        if shape == "g.s1":
            local = f"{g}.{s1}"
        elif shape == "gs1yy":
            local = f"{g}{s1}{born.year % 100:02d}"
        elif shape == "is1s2":
            local = f"{g[:1]}{s1}{s2}"
        elif shape == "g.s1.s2":
            local = f"{g}.{s1}.{s2}" if s2 else f"{g}.{s1}"
        elif shape == "g_s1nn":
            local = f"{g}_{s1}{self.rng.randrange(100):02d}"
        else:
            local = f"{s1}.{g}{born.year}"
        return f"{local}@{DOMAINS.pick(self.rng)}"

    def _phones(self, age: int) -> tuple[str | None, str | None, str | None]:
        rng = self.rng
        has_mobile = rng.random() < (0.05 if age < 14 else 0.8 if age < 18 else 0.97 if age < 65 else 0.8)
        mobile = self._mobile() if has_mobile else None
        old_mobile = self._mobile() if has_mobile else None
        landline = f"91{rng.randrange(10**7):07d}" if rng.random() < (0.25 if age < 65 else 0.7) else None
        return mobile, old_mobile, landline

    def _mobile(self) -> str:
        rng = self.rng
        head = "6" if rng.random() < 0.85 else "7" + str(rng.randint(1, 4))
        return head + f"{rng.randrange(10 ** (9 - len(head))):0{9 - len(head)}d}"

    def _address(self, resident: bool) -> Address:
        # Faker es_ES's street_name_formats: "{{street_prefix}} [de ]{{first_name}} {{last_name}}"
        of = " de " if self.rng.random() < 0.5 else " "
        street = (
            self.rng.choice(FakerAddress.street_prefixes)
            + of
            + self.rng.choice(FakerPerson.first_names)
            + " "
            + self.rng.choice(FakerPerson.last_names)
        )
        number = str(min(int(self.rng.expovariate(1 / 40)) + 1, 350))
        if not resident:
            return {"street": street, "number": number, "postal_code": self.rng.choice(OUTSIDE_POSTAL_CODES),
                    "district": None}  # fmt: skip
        district = DISTRICTS.pick(self.rng)
        postal_code = self.rng.choice(DISTRICT_POSTAL_CODES[district])
        return {"street": street, "number": number, "postal_code": postal_code, "district": district}


# ---------------------------------------------------------------------------
# Records (noisy views of a person)
# ---------------------------------------------------------------------------


def _format_phone(digits: str, rng: random.Random) -> str:
    """The same number as people and clerks type it: with or without +34/0034 and spaces."""
    forms: tuple[str, ...]
    if digits.startswith("91"):
        forms = (
            f"{digits[:2]} {digits[2:5]} {digits[5:7]} {digits[7:]}",
            f"+34 {digits[:2]} {digits[2:5]} {digits[5:7]} {digits[7:]}",
            digits,
            f"0034{digits}",
        )
    else:
        forms = (
            f"+34 {digits[:3]} {digits[3:5]} {digits[5:7]} {digits[7:]}",
            digits,
            f"0034{digits}",
            f"+34{digits}",
            f"{digits[:3]} {digits[3:6]} {digits[6:]}",
            f"{digits[:3]} {digits[3:5]} {digits[5:7]} {digits[7:]}",
            f"0034 {digits}",
        )
    return rng.choice(forms)


def _format_document(document: Document, rng: random.Random) -> Document:
    """Separators and case vary by system; all of these still validate once compacted."""
    number = document["number"]
    if document["type"] == "PASSPORT":
        return {"type": "PASSPORT", "number": number}
    roll = rng.random()
    if roll < 0.75:
        shown = number
    elif roll < 0.88:
        dni = document["type"] == "DNI"
        shown = f"{number[:-1]}-{number[-1]}" if dni else f"{number[0]}-{number[1:-1]}-{number[-1]}"
    elif roll < 0.93:
        shown = f"{number[:-1]} {number[-1]}"
    else:
        shown = number.lower()
    return {"type": document["type"], "number": shown}


def _wrong_letter(number: str, rng: random.Random) -> str:
    right = number[-1]
    return number[:-1] + rng.choice([c for c in CHECK_LETTERS if c != right])


def _abbreviate(given_name: str, rng: random.Random) -> str | None:
    first, _, rest = given_name.partition(" ")
    if first in ABBREVIATIONS:
        short = rng.choice(ABBREVIATIONS[first])
    elif rest:
        short = first[0] + "."
    else:
        return None
    return f"{short} {rest}" if rest else short


# Usual Spanish hypocorisms that share no root with the name (the matcher sees a different given name).
NICKNAMES = {
    "José": "Pepe", "Francisco": "Paco", "Manuel": "Manolo", "Antonio": "Toño", "Jesús": "Chus",
    "Ignacio": "Nacho", "Enrique": "Quique", "Gregorio": "Goyo", "Joaquín": "Quino", "Dolores": "Lola",
    "Concepción": "Concha", "Rosario": "Charo", "Mercedes": "Merche", "Guadalupe": "Lupe", "Consuelo": "Chelo",
    "Josefa": "Pepa", "Asunción": "Choni", "Purificación": "Puri", "Francisca": "Paquita",
}  # fmt: skip


def nickname_of(given_name: str) -> str | None:
    """The name a person goes by, for a single given name or "María <name>" ("María Dolores" is Lola)."""
    words = given_name.split(" ")
    if len(words) == 1 or (len(words) == 2 and words[0] == "María"):
        return NICKNAMES.get(words[-1])
    return None


def nickname_record(person: Person, system: AreaSystem, local_id: str, rng: random.Random) -> SystemRecord | None:
    """The record a counter takes down by ear: the nickname, no document, the birth date and address the person
    gives; contact data as the system captures it. ``None`` when the person's name has no usual nickname."""
    nickname = nickname_of(person.given_name)
    if nickname is None:
        return None
    record, _ = make_record(person, system, local_id, NoiseRates.none(), rng)
    record = {
        **record,
        "document": None,
        "given_name": nickname,
        "birth_date": person.birth_date.isoformat(),
        "address": person.address.copy(),
    }
    return SystemRecord(system.name, record, ("nickname",))


def apply_typo(text: str, rng: random.Random) -> str:
    """One edit: substitute a letter by a keyboard neighbour, drop one, double one, or swap two."""
    for _ in range(10):
        i = rng.randrange(len(text))
        kind = rng.randrange(4)
        if kind == 0 and text[i].lower() in KEYBOARD_NEIGHBOURS:
            new = rng.choice(KEYBOARD_NEIGHBOURS[text[i].lower()])
            candidate = text[:i] + (new.upper() if text[i].isupper() else new) + text[i + 1 :]
        elif kind == 1 and text[i].isalpha():
            candidate = text[:i] + text[i + 1 :]
        elif kind == 2 and i > 0 and text[i].isalpha():
            candidate = text[:i] + text[i] + text[i:]
        elif kind == 3 and i + 1 < len(text) and text[i].isalpha() and text[i + 1].isalpha():
            candidate = text[:i] + text[i + 1] + text[i] + text[i + 2 :]
        else:
            continue
        if candidate != text and candidate.strip():
            return candidate
    return text


def make_record(
    person: Person, system: AreaSystem, local_id: str, rates: NoiseRates, rng: random.Random
) -> tuple[Record, list[str]]:
    """What ``system`` holds about ``person`` under ``local_id``, and which defects were planted in it."""
    noise: list[str] = []
    document = person.document
    if document is not None and rng.random() < rates.missing_document:
        document = None
        noise.append("missing_document")
    if document is not None:
        if document["type"] != "PASSPORT" and rng.random() < rates.wrong_check_letter:
            document = {"type": document["type"], "number": _wrong_letter(document["number"], rng)}
            noise.append("wrong_check_letter")
        document = _format_document(document, rng)

    given, first, second = person.given_name, person.first_surname, person.second_surname
    if second is not None and rng.random() < rates.surnames_swapped:
        first, second = second, first
        noise.append("surnames_swapped")
    short = _abbreviate(given, rng) if rng.random() < rates.given_name_abbreviated else None
    if short is not None:
        given = short
        noise.append("given_name_abbreviated")
    slots = [i for i, n in enumerate((given, first, second)) if n is not None and len(n) >= 3]
    if slots and rng.random() < rates.typo:
        slot = rng.choice(slots)
        parts = [given, first, second]
        typed = apply_typo(str(parts[slot]), rng)
        if typed != parts[slot]:
            parts[slot] = typed
            given, first, second = str(parts[0]), str(parts[1]), parts[2]
            noise.append("typo")
    if rng.random() < rates.accents_dropped:
        folded = (fold_accents(given), fold_accents(first), fold_accents(second) if second else None)
        if folded != (given, first, second):
            given, first, second = folded
            noise.append("accents_dropped")

    email = None
    if person.email is not None and rng.random() < system.email:
        email = person.email
        if person.old_email is not None and rng.random() < rates.email_changed:
            email = person.old_email
            noise.append("email_changed")
    phone = None
    if rng.random() < system.phone:
        digits = person.mobile or person.landline
        if person.mobile and person.landline and rng.random() < 0.3:
            digits = person.landline
        if digits is not None and digits == person.mobile and person.old_mobile and rng.random() < rates.phone_changed:
            digits = person.old_mobile
            noise.append("phone_changed")
        phone = _format_phone(digits, rng) if digits is not None else None

    record: Record = {
        "local_id": local_id,
        "document": document,
        "given_name": given,
        "first_surname": first,
        "second_surname": second,
        "birth_date": person.birth_date.isoformat() if rng.random() < system.birth_date else None,
        "email": email,
        "phone": phone,
        "address": person.address.copy() if rng.random() < system.address else None,
    }
    return record, noise


class _LocalIds:
    """Per-system local ids that look like each system's own (prefix + digits) and reveal no order."""

    def __init__(self, people: int, rng: random.Random) -> None:
        self.width = max(7, len(str(2 * people)))
        self.numbers = {s.name: _Permutation(10**self.width, rng) for s in SYSTEMS}
        self.issued: Counter[str] = Counter()

    def next(self, system: AreaSystem) -> str:
        number = self.numbers[system.name](self.issued[system.name])
        self.issued[system.name] += 1
        return f"{system.id_prefix}{number:0{self.width}d}"


def generate(config: CityConfig) -> Iterator[tuple[Person, list[SystemRecord]]]:
    """Yield each person with their records in every system, one person at a time (constant memory)."""
    factory = PeopleFactory(config)
    rng = factory.rng
    local_ids = _LocalIds(config.people, rng)
    # Nicknames draw from a generator of their own: the rest of the city is the same with or without them.
    nicknames = random.Random(f"{config.seed}:nicknames")  # noqa: S311 (reproducible test data)
    counter = SYSTEMS_BY_NAME["deportes"]
    for index in range(1, config.people + 1):
        person = factory.person(index)
        group = person.age_group(config.reference_date)
        chosen = [s for s in SYSTEMS if rng.random() < s.membership[group]]
        if not chosen:  # everyone is known somewhere: residents to the Padrón, visitors to Multas
            chosen = [SYSTEMS_BY_NAME["padron" if person.resident else "multas"]]
        records: list[SystemRecord] = []
        for system in chosen:
            copies = 2 if rng.random() < config.rates.duplicate else 1
            for copy in range(copies):
                record, noise = make_record(person, system, local_ids.next(system), config.rates, rng)
                if copy:
                    noise.insert(0, "duplicate")
                records.append(SystemRecord(system.name, record, tuple(noise)))
        if nickname_of(person.given_name) and nicknames.random() < config.rates.nickname:
            extra = nickname_record(person, counter, local_ids.next(counter), nicknames)
            records += [extra] if extra else []
        yield person, records


# ---------------------------------------------------------------------------
# Writing files
# ---------------------------------------------------------------------------


def flatten(record: Record) -> dict[str, str]:
    """One CSV row: nested objects become prefixed columns, a missing value an empty cell."""
    document = record["document"]
    address = record["address"]
    return {
        "local_id": record["local_id"],
        "document_type": document["type"] if document else "",
        "document_number": document["number"] if document else "",
        "given_name": record["given_name"],
        "first_surname": record["first_surname"],
        "second_surname": record["second_surname"] or "",
        "birth_date": record["birth_date"] or "",
        "email": record["email"] or "",
        "phone": record["phone"] or "",
        "address_street": address["street"] if address else "",
        "address_number": address["number"] if address else "",
        "address_postal_code": address["postal_code"] if address else "",
        "address_district": (address["district"] or "") if address else "",
    }


def unflatten(row: dict[str, str]) -> Record:
    """The inverse of :func:`flatten`, for readers of the CSV files."""
    document: Document | None = None
    if row["document_type"] in ("DNI", "NIE", "PASSPORT"):
        kind: DocumentType = row["document_type"]  # type: ignore[assignment]
        document = {"type": kind, "number": row["document_number"]}
    address: Address | None = None
    if row["address_street"]:
        address = {
            "street": row["address_street"],
            "number": row["address_number"],
            "postal_code": row["address_postal_code"],
            "district": row["address_district"] or None,
        }
    return {
        "local_id": row["local_id"],
        "document": document,
        "given_name": row["given_name"],
        "first_surname": row["first_surname"],
        "second_surname": row["second_surname"] or None,
        "birth_date": row["birth_date"] or None,
        "email": row["email"] or None,
        "phone": row["phone"] or None,
        "address": address,
    }


_JSON = json.JSONEncoder(ensure_ascii=False)  # one encoder: json.dumps(..., ensure_ascii=False) builds one per call


class _ShuffledWriter:
    """Writes serialised lines through a bounded shuffle buffer: at most ``size`` lines are held, so
    memory does not grow with the city, yet neighbouring records rarely stay neighbours."""

    def __init__(self, handle: IO[str], size: int, rng: random.Random) -> None:
        self.handle = handle
        self.size = size
        self.rng = rng
        self.buffer: list[str] = []

    def write(self, line: str) -> None:
        if len(self.buffer) < self.size:
            self.buffer.append(line)
            return
        i = self.rng.randrange(self.size)
        self.handle.write(self.buffer[i])
        self.buffer[i] = line

    def close(self) -> None:
        self.rng.shuffle(self.buffer)
        self.handle.writelines(self.buffer)
        self.buffer.clear()


class _CsvLine:
    """Serialises one row to a CSV line (quoting as the csv module does) without a file per row."""

    def __init__(self) -> None:
        self.sink = io.StringIO()
        self.writer = csv.writer(self.sink, lineterminator="\n")

    def __call__(self, record: Record) -> str:
        self.sink.seek(0)
        self.sink.truncate()
        self.writer.writerow(flatten(record).values())
        return self.sink.getvalue()


def write_city(
    config: CityConfig,
    out: Path,
    fmt: Format = "jsonl",
    *,
    shuffle_buffer: int = 1024,
    on_person: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Write one file per area system, ``ground_truth.jsonl`` and ``summary.json`` into ``out``; return
    the summary. ``on_person(n)`` is called every so often with the number of people written so far."""
    out.mkdir(parents=True, exist_ok=True)
    shuffle_rng = random.Random(f"{config.seed}:shuffle")  # noqa: S311 (reproducible test data)
    handles = {s.name: (out / f"{s.name}.{fmt}").open("w", encoding="utf-8", newline="") for s in SYSTEMS}
    writers = {name: _ShuffledWriter(h, shuffle_buffer, shuffle_rng) for name, h in handles.items()}
    csv_line = _CsvLine()
    if fmt == "csv":
        for h in handles.values():
            h.write(",".join(CSV_COLUMNS) + "\n")
    per_system: Counter[str] = Counter()
    planted: Counter[str] = Counter()
    documents: Counter[str] = Counter()
    without_document = 0
    non_residents = 0
    try:
        with (out / "ground_truth.jsonl").open("w", encoding="utf-8") as truth:
            for n, (person, records) in enumerate(generate(config), start=1):
                documents[person.document["type"] if person.document else "none"] += 1
                non_residents += not person.resident
                for item in records:
                    record = item.record
                    line = _JSON.encode(record) + "\n" if fmt == "jsonl" else csv_line(record)
                    writers[item.system].write(line)
                    truth.write(
                        _JSON.encode(
                            {
                                "person_id": person.person_id,
                                "source": item.source,
                                "local_id": record["local_id"],
                                "noise": list(item.noise),
                            }
                        )
                        + "\n"
                    )
                    per_system[item.system] += 1
                    planted.update(item.noise)
                    without_document += record["document"] is None
                if on_person is not None and (n % 1000 == 0 or n == config.people):
                    on_person(n)
    finally:
        for name, writer in writers.items():
            writer.close()
            handles[name].close()

    summary: dict[str, Any] = {
        "seed": config.seed,
        "people": config.people,
        "format": fmt,
        "reference_date": config.reference_date.isoformat(),
        "records": sum(per_system.values()),
        "systems": {
            s.name: {"source": s.source, "title": s.title, "file": f"{s.name}.{fmt}", "records": per_system[s.name]}
            for s in SYSTEMS
        },
        "planted": {kind: planted[kind] for kind in NOISE_KINDS},
        "invalid_documents": planted["wrong_check_letter"],
        "records_without_document": without_document,
        "people_by_document": {kind: documents[kind] for kind in ("DNI", "NIE", "PASSPORT", "none")},
        "non_residents": non_residents,
        "rates": asdict(config.rates),
        "notes": "postal codes by district and all rates/probabilities are approximate; see seed/city.py",
    }
    (out / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return summary


# ---------------------------------------------------------------------------
# CLI
# ---------------------------------------------------------------------------


def _rate(text: str) -> tuple[str, float]:
    name, sep, value = text.partition("=")
    if not sep or name not in NOISE_KINDS:
        raise argparse.ArgumentTypeError(f"expected NAME=RATE with NAME one of {', '.join(NOISE_KINDS)}")
    try:
        rate = float(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number") from exc
    if not 0.0 <= rate <= 1.0:
        raise argparse.ArgumentTypeError(f"rate {name}={value} must be within [0, 1]")
    return name, rate


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m seed.city",
        description="Write a synthetic Madrid: one file per area system, ground_truth.jsonl and summary.json.",
    )
    parser.add_argument("--people", type=int, required=True, help="how many people live in the city")
    parser.add_argument("--seed", type=int, default=0, help="same seed, same files")
    parser.add_argument("--out", type=Path, required=True, help="directory to write into (created if missing)")
    parser.add_argument("--format", choices=("jsonl", "csv"), default="jsonl", help="area system files' format")
    parser.add_argument(
        "--rate",
        type=_rate,
        action="append",
        default=[],
        metavar="NAME=RATE",
        help=f"override a noise rate (repeatable); defaults: {asdict(NoiseRates())}",
    )
    parser.add_argument("--reference-date", type=date.fromisoformat, default=REFERENCE_DATE, help="'today' for ages")
    parser.add_argument("--progress", action="store_true", help="show a progress bar on stderr")
    args = parser.parse_args(argv)
    if args.people < 0:
        parser.error("--people must be >= 0")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    config = CityConfig(
        people=args.people,
        seed=args.seed,
        rates=NoiseRates().with_overrides(dict(args.rate)),
        reference_date=args.reference_date,
    )
    if args.progress:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        columns = (TextColumn("people"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
        with Progress(*columns, console=Console(stderr=True)) as progress:
            task = progress.add_task("people", total=config.people)
            summary = write_city(config, args.out, args.format, on_person=lambda n: progress.update(task, completed=n))
    else:
        summary = write_city(config, args.out, args.format)
    print(
        f"{summary['people']} people, {summary['records']} records in {len(SYSTEMS)} systems -> {args.out}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
