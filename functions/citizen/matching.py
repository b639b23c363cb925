"""Probabilistic matching for C360, pure: Fellegi-Sunter scoring with explainable match weights.

Why this shape: the deterministic rules (same source record, same VALID document) leave the records without
a valid document (about one in seven in the synthetic city) as new golden records. Those are compared on
what the systems do hold, field by field, and each comparison lands on one *level* (exact, swapped
surnames, Jaro-Winkler band, different...). A level has an m probability (how often true matches land on
it) and a u probability (how often non-matches do); its match weight is ``log2(m/u)``. The record pair's
match weight is the prior ``log2(λ/(1-λ))`` plus the sum of the levels' weights, and its match probability
``2^w / (1 + 2^w)``. m, u and λ are estimated with Splink (expectation maximisation on the synthetic city,
``seed.train_c360``) and read from the versioned JSON ``functions/citizen/model/c360-model-v1.json``,
which also holds the decision thresholds (auto-merge, clerical review, no match) as data.

A DNI/NIE with a wrong check letter is never evidence: an invalid document compares as "missing", so it can
neither make nor break a match (a finding for data quality, RGPD art. 5.1.d accuracy), and the
comparison levels below are the SAME for Splink (SQL) and for the incremental scorer (Python).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from functions.citizen.identity import (
    document_digits,
    normalise_document,
    normalise_email,
    normalise_name,
    normalise_phone,
    normalise_postal_code,
)

MODEL_PATH = Path(__file__).parent / "model" / "c360-model-v1.json"
Decision = Literal["match", "review", "no-match"]


# ---- features -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Features:
    """One source record reduced to comparable, normalised values ('' when the system does not hold it)."""

    key: str  # "<source>#<local_id>"
    given: str
    surname1: str
    surname2: str
    surname1_ph: str
    surname2_ph: str
    birth_date: str
    email: str
    phone: str
    postal_code: str
    street: str
    doc_digits: str

    def as_row(self) -> dict[str, str | None]:
        """The record as one Splink input row (None where the value is missing)."""
        return {
            "unique_id": self.key,
            **{name: (getattr(self, name) or None) for name in FEATURE_COLUMNS},
            "birth_year": self.birth_date[:4] or None,
        }


FEATURE_COLUMNS = (
    "given",
    "surname1",
    "surname2",
    "surname1_ph",
    "surname2_ph",
    "birth_date",
    "email",
    "phone",
    "postal_code",
    "street",
    "doc_digits",
)

_STREET_TYPES = frozenset({"CALLE", "C", "CL", "AVENIDA", "AV", "AVDA", "PASEO", "PS", "PLAZA", "PZ", "PZA", "VIA"})


def street_key(street: str | None, number: str | None) -> str:
    """Street name folded like surnames (accents, particles) without its type word, and the door number."""
    if not street:
        return ""
    return f"{_street_name(street)}|{(number or '').strip().upper()}"


@lru_cache(maxsize=65_536)
def _street_name(street: str) -> str:
    folded = normalise_name("", street).first_surname_key.split(" ")
    return " ".join(w for w in folded if w not in _STREET_TYPES) or " ".join(folded)


def features_from_dict(key: str, record: Mapping[str, Any]) -> Features:
    """Normalise a record given as the JSON of ``citizen.record.upserted`` (or a synthetic-city record)."""
    document = record.get("document") or None
    digits = ""
    if document:
        doc = normalise_document(document["type"], document["number"])
        if doc.valid:  # an invalid document is a finding, never evidence (see module docstring)
            digits = document_digits(doc) or f"{doc.type}:{doc.number}"
    first = record.get("first_surname") or ""
    second = record.get("second_surname") or ""
    name = normalise_name(record.get("given_name") or "", first, second)
    address = record.get("address") or {}
    postal = normalise_postal_code(address.get("postal_code"))
    email = normalise_email(record.get("email"))
    birth = record.get("birth_date") or ""
    return Features(
        key=key,
        given=name.given_key,
        surname1=name.first_surname_key,
        surname2=name.second_surname_key,
        surname1_ph=name.first_surname_phonetic,
        surname2_ph=name.second_surname_phonetic,
        birth_date=str(birth),
        email=email.casefold() if email else "",
        phone=normalise_phone(record.get("phone")) or "",
        postal_code=postal.code if postal is not None and postal.valid else "",
        street=street_key(address.get("street"), address.get("number")),
        doc_digits=digits,
    )


def search_features(**values: str) -> Features:
    """Features holding only what a search gives (``surname1_ph`` and ``birth_date``, ``email``, ``phone``):
    their ``blocking_keys`` are the blocks the records holding those values joined."""
    return Features(key="(search)", **{**dict.fromkeys(FEATURE_COLUMNS, ""), **values})


def blocking_keys(f: Features) -> set[str]:
    """Which blocks a record joins: only records sharing a key are compared (never a match on its own).

    The same rules as ``BLOCKING_RULES_SQL`` for Splink: each surname's phonetic key with the birth date
    (swapped surnames or one mistyped surname still meet; the birth year alone makes blocks of thousands
    for García or López in a city of millions), e-mail, phone, birth date with postal code, both surnames'
    phonetic keys with the postal code (for systems without a birth date) and the document number.
    """
    keys: set[str] = set()
    if f.birth_date:
        for ph in {f.surname1_ph, f.surname2_ph} - {""}:
            keys.add(f"name:{ph}|{f.birth_date}")
        if f.postal_code:
            keys.add(f"dob+pc:{f.birth_date}|{f.postal_code}")
    if f.email:
        keys.add(f"email:{f.email}")
    if f.phone:
        keys.add(f"phone:{f.phone}")
    if f.surname1_ph and f.postal_code:
        keys.add(f"names+pc:{'|'.join(sorted((f.surname1_ph, f.surname2_ph)))}|{f.postal_code}")
    if f.doc_digits:
        keys.add(f"doc:{f.doc_digits}")
    return keys


# The same blocking in Splink's SQL (l and r are the two records of a pair).
BLOCKING_RULES_SQL = (
    "l.surname1_ph = r.surname1_ph and l.birth_date = r.birth_date",
    "l.surname2_ph = r.surname2_ph and l.birth_date = r.birth_date",
    "l.surname1_ph = r.surname2_ph and l.birth_date = r.birth_date",
    "l.surname2_ph = r.surname1_ph and l.birth_date = r.birth_date",
    "l.birth_date = r.birth_date and l.postal_code = r.postal_code",
    "l.email = r.email",
    "l.phone = r.phone",
    "least(l.surname1_ph, coalesce(l.surname2_ph, '')) = least(r.surname1_ph, coalesce(r.surname2_ph, ''))"
    " and greatest(l.surname1_ph, coalesce(l.surname2_ph, '')) = greatest(r.surname1_ph, coalesce(r.surname2_ph, ''))"
    " and l.postal_code = r.postal_code",
    "l.doc_digits = r.doc_digits",
)


# ---- string similarity ----------------------------------------------------------------------------


def jaro_winkler(a: str, b: str) -> float:
    """Jaro-Winkler similarity (prefix scale 0.1 over at most 4 characters, applied above 0.7), as DuckDB's
    ``jaro_winkler_similarity``, so the levels Splink trained on are the levels scored here."""
    la, lb = len(a), len(b)
    if not la or not lb:
        return 0.0  # DuckDB's answer for an empty string, even against another empty one
    if a == b:
        return 1.0
    window = max(max(la, lb) // 2 - 1, 0)
    matched_b = [False] * lb
    matches_a: list[str] = []
    for i, ch in enumerate(a):
        for j in range(max(0, i - window), min(lb, i + window + 1)):
            if not matched_b[j] and b[j] == ch:
                matched_b[j] = True
                matches_a.append(ch)
                break
    m = len(matches_a)
    if not m:
        return 0.0
    matches_b = [b[j] for j in range(lb) if matched_b[j]]
    transpositions = sum(x != y for x, y in zip(matches_a, matches_b, strict=True)) / 2
    jaro = (m / la + m / lb + (m - transpositions) / m) / 3
    if jaro <= 0.7:
        return jaro
    prefix = 0
    for x, y in zip(a[:4], b[:4], strict=False):
        if x != y:
            break
        prefix += 1
    return jaro + prefix * 0.1 * (1 - jaro)


# ---- comparisons ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Level:
    """One comparison level: its label, the SQL Splink evaluates and how the scorer finds it (``compare_*``)."""

    label: str
    sql: str


@dataclass(frozen=True)
class Comparison:
    name: str
    description: str
    levels: tuple[Level, ...]  # the first is the null level, the last "else"


def _null(*cols: str) -> Level:
    return Level("null", " or ".join(f"l.{c} is null or r.{c} is null" for c in cols))


COMPARISONS: tuple[Comparison, ...] = (
    Comparison(
        "given",
        "given name key (accents, particles and Mª/Fco. abbreviations folded)",
        (
            _null("given"),
            Level("exact", "l.given = r.given"),
            Level("jw>=0.92", "jaro_winkler_similarity(l.given, r.given) >= 0.92"),
            Level(
                "shared word or initial",
                "list_has_any(str_split(l.given, ' '), str_split(r.given, ' '))"
                " or ((length(l.given) = 1 or length(r.given) = 1 or l.given like '_ %' or r.given like '_ %')"
                " and left(l.given, 1) = left(r.given, 1))",
            ),
            Level("jw>=0.80", "jaro_winkler_similarity(l.given, r.given) >= 0.80"),
            Level("different", "else"),
        ),
    ),
    Comparison(
        "surnames",
        "both surnames' keys, in order or swapped, exact or Jaro-Winkler",
        (
            _null("surname1"),
            Level("exact", "l.surname1 = r.surname1 and coalesce(l.surname2, '') = coalesce(r.surname2, '')"),
            Level("swapped", "l.surname1 = r.surname2 and l.surname2 = r.surname1"),
            Level(
                "jw>=0.9 both",
                "jaro_winkler_similarity(l.surname1, r.surname1) >= 0.9"
                " and (coalesce(l.surname2, '') = coalesce(r.surname2, '')"
                " or jaro_winkler_similarity(l.surname2, r.surname2) >= 0.9)",
            ),
            Level(
                "one surname shared",
                "l.surname1 = r.surname1 or l.surname1 = r.surname2 or l.surname2 = r.surname1"
                " or l.surname2 = r.surname2",
            ),
            Level("different", "else"),
        ),
    ),
    Comparison(
        "birth_date",
        "birth date",
        (
            _null("birth_date"),
            Level("exact", "l.birth_date = r.birth_date"),
            Level("one character", "damerau_levenshtein(l.birth_date, r.birth_date) <= 1"),
            Level("different", "else"),
        ),
    ),
    Comparison(
        "email",
        "e-mail, validated and case-folded",
        (
            _null("email"),
            Level("exact", "l.email = r.email"),
            Level("same local part", "split_part(l.email, '@', 1) = split_part(r.email, '@', 1)"),
            Level("different", "else"),
        ),
    ),
    Comparison(
        "phone",
        "phone in E.164 (phonenumbers)",
        (_null("phone"), Level("exact", "l.phone = r.phone"), Level("different", "else")),
    ),
    Comparison(
        "address",
        "street and door number; else postal code",
        (
            _null("postal_code"),
            Level("same street and number", "l.street = r.street and l.postal_code = r.postal_code"),
            Level("same postal code", "l.postal_code = r.postal_code"),
            Level("different", "else"),
        ),
    ),
    Comparison(
        "document",
        "VALID DNI/NIE digits or passport number (an invalid one counts as missing)",
        (_null("doc_digits"), Level("exact", "l.doc_digits = r.doc_digits"), Level("different", "else")),
    ),
)


def _given(a: str, b: str) -> int:
    if not a or not b:
        return 0
    if a == b:
        return 1
    jw = jaro_winkler(a, b)
    if jw >= 0.92:
        return 2
    wa, wb = a.split(" "), b.split(" ")
    if set(wa) & set(wb):
        return 3
    initial = len(a) == 1 or len(b) == 1 or len(wa[0]) == 1 or len(wb[0]) == 1
    if initial and a[0] == b[0]:
        return 3
    return 4 if jw >= 0.80 else 5


def _surnames(a1: str, a2: str, b1: str, b2: str) -> int:
    if not a1 or not b1:
        return 0
    if a1 == b1 and a2 == b2:
        return 1
    if a2 and b2 and a1 == b2 and a2 == b1:
        return 2
    if jaro_winkler(a1, b1) >= 0.9 and (a2 == b2 or jaro_winkler(a2, b2) >= 0.9):
        return 3
    if a1 in (b1, b2) or (a2 and a2 in (b1, b2)):
        return 4
    return 5


def _damerau_at_most_one(a: str, b: str) -> bool:
    if len(a) == len(b):
        diffs = [i for i in range(len(a)) if a[i] != b[i]]
        if len(diffs) <= 1:
            return True
        i, j = diffs[0], diffs[-1]
        return len(diffs) == 2 and j == i + 1 and a[i] == b[j] and a[j] == b[i]
    if abs(len(a) - len(b)) != 1:
        return False
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    return any(long_[:i] + long_[i + 1 :] == short for i in range(len(long_)))


def _birth(a: str, b: str) -> int:
    if not a or not b:
        return 0
    if a == b:
        return 1
    return 2 if _damerau_at_most_one(a, b) else 3


def _email(a: str, b: str) -> int:
    if not a or not b:
        return 0
    if a == b:
        return 1
    return 2 if a.partition("@")[0] == b.partition("@")[0] else 3


def _equal(a: str, b: str) -> int:
    if not a or not b:
        return 0
    return 1 if a == b else 2


def _address(a: Features, b: Features) -> int:
    if not a.postal_code or not b.postal_code:
        return 0
    if a.postal_code != b.postal_code:
        return 3
    return 1 if a.street and a.street == b.street else 2


def compare(a: Features, b: Features) -> tuple[int, ...]:
    """The comparison vector: one level index per comparison, in ``COMPARISONS`` order (0 = null)."""
    return (
        _given(a.given, b.given),
        _surnames(a.surname1, a.surname2, b.surname1, b.surname2),
        _birth(a.birth_date, b.birth_date),
        _email(a.email, b.email),
        _equal(a.phone, b.phone),
        _address(a, b),
        _equal(a.doc_digits, b.doc_digits),
    )


# ---- the model: m/u, prior, thresholds ------------------------------------------------------------


@dataclass(frozen=True)
class Thresholds:
    """Match probability bands, as data (the model JSON): at or above ``auto_merge`` the record joins the
    golden record; at or above ``review`` an agent decides (clerical review queue); below, no match."""

    auto_merge: float
    review: float

    def decide(self, probability: float) -> Decision:
        if probability >= self.auto_merge:
            return "match"
        if probability >= self.review:
            return "review"
        return "no-match"


@dataclass(frozen=True)
class Evidence:
    """Why a pair scored what it did: per comparison, the level reached and its match weight."""

    comparison: str
    level: str
    weight: float

    def as_dict(self) -> dict[str, Any]:
        return {"comparison": self.comparison, "level": self.level, "weight": round(self.weight, 3)}


@dataclass(frozen=True)
class Score:
    match_weight: float
    probability: float
    evidence: tuple[Evidence, ...]

    def text(self) -> list[str]:
        return [f"{e.comparison}: {e.level} ({e.weight:+.2f})" for e in self.evidence]


VETOES = frozenset(
    {("document", "different"), ("given", "different"), ("surnames", "different"), ("birth_date", "different")}
)
VETO_LEVELS = frozenset(
    (ci, li)
    for ci, comparison in enumerate(COMPARISONS)
    for li, level in enumerate(comparison.levels)
    if (comparison.name, level.label) in VETOES
)


@dataclass(frozen=True)
class Model:
    """The trained Fellegi-Sunter parameters (``weights[c][level]`` = log2(m/u); 0 for null levels)."""

    version: str
    prior_weight: float
    weights: tuple[tuple[float, ...], ...]
    thresholds: Thresholds
    max_block_size: int

    def score(self, a: Features, b: Features) -> Score:
        vector = compare(a, b)
        total = self.prior_weight
        evidence = []
        for comparison, level, weights in zip(COMPARISONS, vector, self.weights, strict=True):
            weight = weights[level]
            total += weight
            evidence.append(Evidence(comparison.name, comparison.levels[level].label, weight))
        return Score(total, probability(total), tuple(evidence))

    def auto_merges(self, a: Features, b: Features) -> bool:
        """``decide(score(a, b)) == "match"`` without building the evidence (the batch path, millions of pairs)."""
        vector = compare(a, b)
        weight = self.prior_weight + sum(w[lv] for w, lv in zip(self.weights, vector, strict=True))
        if probability(weight) < self.thresholds.auto_merge:
            return False
        return not any((ci, lv) in VETO_LEVELS for ci, lv in enumerate(vector))

    def decide(self, score: Score) -> Decision:
        """The band of the probability, with two vetoes that turn an automatic merge into a review:

        - two different VALID documents (a DNI/NIE is unique per person, RD 1553/2005 art. 1);
        - a given name, the surnames or a birth date that disagrees: e-mail, phone, address and surnames are
          shared by a household (siblings carry the same two surnames), so contact data alone never merges
          people, and neither do a name and a birth date shared by two people at one address.
        """
        decision = self.thresholds.decide(score.probability)
        if decision == "match" and any((e.comparison, e.level) in VETOES for e in score.evidence):
            return "review"
        return decision


def probability(match_weight: float) -> float:
    if match_weight > 60:
        return 1.0
    odds: float = 2.0**match_weight
    return odds / (1.0 + odds)


def model_from_json(document: Mapping[str, Any]) -> Model:
    """Read the versioned model: per comparison and level, m and u; the prior λ; the thresholds."""
    comparisons = {c["name"]: c for c in document["comparisons"]}
    weights: list[tuple[float, ...]] = []
    for comparison in COMPARISONS:
        stored = comparisons.get(comparison.name)
        if stored is None:
            raise ValueError(f"model {document.get('version')} has no comparison {comparison.name}")
        levels = {lv["label"]: lv for lv in stored["levels"]}
        row = []
        for level in comparison.levels:
            if level.label == "null":
                row.append(0.0)
                continue
            found = levels.get(level.label)
            if found is None:
                raise ValueError(f"model has no level {comparison.name}/{level.label}")
            row.append(math.log2(found["m"] / found["u"]))
        weights.append(tuple(row))
    prior = float(document["probability_two_random_records_match"])
    thresholds = document["thresholds"]
    return Model(
        version=str(document["version"]),
        prior_weight=math.log2(prior / (1 - prior)),
        weights=tuple(weights),
        thresholds=Thresholds(float(thresholds["auto_merge"]), float(thresholds["review"])),
        max_block_size=int(document.get("max_block_size", 500)),
    )


@lru_cache(maxsize=1)
def load_model(path: Path = MODEL_PATH) -> Model:
    return model_from_json(json.loads(path.read_text(encoding="utf-8")))


@dataclass(frozen=True)
class Candidate:
    """A record of the base that shares a block with the new one, and the golden record it belongs to."""

    citizen_id: str
    features: Features


@dataclass(frozen=True)
class Verdict:
    """The best golden record for a new record, its score and the decision; ``others`` are the other golden
    records at or above the auto-merge threshold (the same person twice in the base: a merge)."""

    decision: Decision
    citizen_id: str | None
    score: Score | None
    others: tuple[tuple[str, Score], ...] = ()


def best_match(model: Model, new: Features, candidates: Iterable[Candidate]) -> Verdict:
    """Score the new record against every candidate; a golden record's score is its best record's."""
    best: dict[str, Score] = {}
    for candidate in candidates:
        if candidate.features.key == new.key:
            continue
        score = model.score(new, candidate.features)
        held = best.get(candidate.citizen_id)
        if held is None or score.match_weight > held.match_weight:
            best[candidate.citizen_id] = score
    if not best:
        return Verdict("no-match", None, None)
    ranked = sorted(best.items(), key=lambda item: (-item[1].match_weight, item[0]))
    citizen_id, score = ranked[0]
    decision = model.decide(score)
    others: Sequence[tuple[str, Score]] = ()
    if decision == "match":
        others = [(cid, s) for cid, s in ranked[1:] if model.decide(s) == "match"]
    return Verdict(decision, citizen_id, score, tuple(others))
