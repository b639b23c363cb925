"""C360 probabilistic matching: features, blocking, comparison levels (the same in Python and in Splink's
SQL on DuckDB), the trained model's weights, thresholds and the best-match decision."""

from __future__ import annotations

import json
import math
from typing import Any

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from functions.citizen import matching
from functions.citizen.matching import (
    COMPARISONS,
    Candidate,
    Features,
    Thresholds,
    best_match,
    blocking_keys,
    compare,
    features_from_dict,
    jaro_winkler,
    load_model,
    model_from_json,
)
from seed.train_c360 import comparison_sql

BASE: dict[str, Any] = {
    "local_id": "PAD1",
    "document": {"type": "DNI", "number": "48673243E"},
    "given_name": "María del Carmen",
    "first_surname": "Martínez",
    "second_surname": "de la Torre",
    "birth_date": "1951-03-31",
    "email": "Carmen.Martinez@Example.org",
    "phone": "647 20 65 46",
    "address": {"street": "Calle de Alcalá", "number": "7", "postal_code": "28024", "district": "10"},
}


def feats(key: str = "/legacy/padron#PAD1", **overrides: Any) -> Features:
    return features_from_dict(key, {**BASE, **overrides})


# ---- features and blocking ------------------------------------------------------------------------


def test_features_fold_names_contacts_and_street() -> None:
    f = feats()
    assert (f.given, f.surname1, f.surname2) == ("MARIA CARMEN", "MARTINEZ", "TORRE")
    assert f.email == "carmen.martinez@example.org" and f.phone == "+34647206546"
    assert f.postal_code == "28024" and f.street == "ALCALA|7" and f.doc_digits == "48673243"


def test_an_invalid_document_is_no_evidence_at_all() -> None:
    # GIVEN the same DNI digits with a wrong check letter: a data-quality finding
    f = feats(document={"type": "DNI", "number": "48673243A"})
    # THEN it compares as missing: it cannot make (or break) a match, and it blocks nothing
    assert f.doc_digits == ""
    assert not any(k.startswith("doc:") for k in blocking_keys(f))
    assert compare(f, feats())[6] == 0


def test_swapped_surnames_and_a_changed_email_still_share_a_block() -> None:
    a = feats()
    b = feats(
        "/legacy/multas#M1",
        first_surname="de la Torre",
        second_surname="Martinez",
        email="old@example.org",
        phone=None,
        birth_date="1951-03-31",
    )
    assert blocking_keys(a) & blocking_keys(b)


def test_a_record_without_birth_date_meets_its_twin_on_surnames_and_postal_code() -> None:
    a = feats()
    b = feats("/legacy/multas#M2", birth_date=None, email=None, phone=None, document=None)
    shared = blocking_keys(a) & blocking_keys(b)
    assert shared and all(k.startswith("names+pc:") for k in shared)


# ---- string similarity and comparison levels, Python == DuckDB (what Splink trained on) ------------

WORDS = ["MARTHA", "MARHTA", "DIXON", "DICKSONX", "DWAYNE", "DUANE", "GARCIA", "GARSIA", "", "A", "JOSE", "J"]


@pytest.mark.parametrize("a", WORDS)
@pytest.mark.parametrize("b", WORDS)
def test_jaro_winkler_equals_duckdbs(a: str, b: str) -> None:
    expected = duckdb.connect().execute("select jaro_winkler_similarity(?, ?)", [a, b]).fetchone()
    assert expected is not None
    assert jaro_winkler(a, b) == pytest.approx(expected[0], abs=1e-9)


def _sql_levels(a: Features, b: Features) -> tuple[int, ...]:
    """Each comparison's level as Splink evaluates it: the first level whose SQL holds, on DuckDB."""
    columns = {}
    for name in matching.FEATURE_COLUMNS:
        columns[f"{name}_l"] = getattr(a, name) or None
        columns[f"{name}_r"] = getattr(b, name) or None
    cases = []
    for comparison in COMPARISONS:
        whens = " ".join(
            f"when {comparison_sql(level.sql)} then {i}"
            for i, level in enumerate(comparison.levels)
            if level.sql != "else"
        )
        cases.append(f"case {whens} else {len(comparison.levels) - 1} end")
    con = duckdb.connect()
    con.execute(
        "create table t as select " + ", ".join(f"?::varchar as {name}" for name in columns), list(columns.values())
    )
    row = con.execute(f"select {', '.join(cases)} from t").fetchone()
    assert row is not None
    return tuple(int(v) for v in row)


VARIANTS: list[dict[str, Any]] = [
    {},
    {"given_name": "Mª Carmen"},
    {"given_name": "Carmen"},
    {"given_name": "Maria del Carmne"},
    {"given_name": "Pedro"},
    {"first_surname": "de la Torre", "second_surname": "Martínez"},
    {"first_surname": "Martinex"},
    {"second_surname": None},
    {"first_surname": "Gómez", "second_surname": "Torre"},
    {"birth_date": "1951-03-13"},
    {"birth_date": "1951-03-30"},
    {"birth_date": None},
    {"email": "carmen.martinez@gmail.com"},
    {"email": None, "phone": None},
    {"phone": "600000001"},
    {"address": {"street": "Calle Mayor", "number": "1", "postal_code": "28024"}},
    {"address": {"street": "Calle Mayor", "number": "1", "postal_code": "28013"}},
    {"address": None},
    {"document": {"type": "DNI", "number": "00000000T"}},
    {"document": None},
]


@pytest.mark.parametrize("variant", VARIANTS, ids=[json.dumps(v, ensure_ascii=False)[:40] for v in VARIANTS])
def test_python_levels_equal_splinks_sql_levels(variant: dict[str, Any]) -> None:
    a, b = feats(), feats("/legacy/ser#S1", **variant)
    assert compare(a, b) == _sql_levels(a, b)


# ---- the model, scores and decisions --------------------------------------------------------------


def test_the_shipped_model_is_versioned_and_its_weights_are_log2_m_over_u() -> None:
    document = json.loads(matching.MODEL_PATH.read_text(encoding="utf-8"))
    model = load_model()
    assert model.version == document["version"] == "c360-model-v1"
    surnames = next(c for c in document["comparisons"] if c["name"] == "surnames")
    swapped = next(lv for lv in surnames["levels"] if lv["label"] == "swapped")
    assert model.weights[1][2] == pytest.approx(math.log2(swapped["m"] / swapped["u"]))
    assert model.thresholds.auto_merge > model.thresholds.review


def test_score_carries_per_comparison_level_and_weight() -> None:
    model = load_model()
    score = model.score(feats(), feats("/legacy/ser#S1", first_surname="de la Torre", second_surname="Martínez"))
    levels = {e.comparison: e.level for e in score.evidence}
    assert levels["surnames"] == "swapped" and levels["given"] == "exact"
    assert score.match_weight == pytest.approx(model.prior_weight + sum(e.weight for e in score.evidence))
    assert score.probability == pytest.approx(2**score.match_weight / (1 + 2**score.match_weight))
    assert any("surnames: swapped" in line for line in score.text())


def test_the_same_person_in_another_system_matches_and_a_namesake_does_not() -> None:
    model = load_model()
    twin = feats("/legacy/deportes#D1", document=None, email=None, given_name="Mª Carmen")
    namesake = feats(
        "/legacy/deportes#D2", document=None, email=None, phone=None, birth_date="1987-11-02", address=None
    )
    assert model.decide(model.score(feats(), twin)) == "match"
    assert model.decide(model.score(feats(), namesake)) == "no-match"


def test_two_different_valid_documents_never_merge_on_their_own() -> None:
    model = load_model()
    # GIVEN everything equal but a different VALID DNI
    other = feats("/legacy/tributos#T1", document={"type": "DNI", "number": "12345678Z"})
    score = model.score(feats(), other)
    # THEN the probability may be high, but an agent decides
    assert model.thresholds.decide(score.probability) == "match"
    assert model.decide(score) == "review"


@pytest.mark.parametrize(
    ("p", "decision"), [(0.999, "match"), (0.99, "match"), (0.9, "review"), (0.8, "review"), (0.5, "no-match")]
)
def test_thresholds_are_bands_of_probability(p: float, decision: str) -> None:
    assert Thresholds(auto_merge=0.99, review=0.8).decide(p) == decision


def test_model_from_json_refuses_a_model_missing_a_level() -> None:
    document = json.loads(matching.MODEL_PATH.read_text(encoding="utf-8"))
    document["comparisons"][0]["levels"] = document["comparisons"][0]["levels"][1:]
    with pytest.raises(ValueError, match="no level given/exact"):
        model_from_json(document)


def test_best_match_takes_the_best_record_per_golden_record_and_lists_other_matches() -> None:
    model = load_model()
    new = feats("/legacy/cultura#C1", document=None)
    candidates = [
        Candidate("cit-a", feats("/legacy/padron#P1")),
        Candidate("cit-a", feats("/legacy/multas#M1", given_name="Pedro", birth_date="1990-01-01")),
        Candidate("cit-b", feats("/legacy/ser#S1", document=None, given_name="Carmen")),
        Candidate("cit-c", feats("/legacy/ser#S2", document=None, given_name="Pedro", birth_date="1990-01-01")),
    ]
    verdict = best_match(model, new, candidates)
    assert verdict.decision == "match" and verdict.citizen_id == "cit-a"
    # cit-c shares surnames, e-mail, phone and address but not the given name nor the birth date: a sibling
    assert [cid for cid, _ in verdict.others] == ["cit-b"]
    assert best_match(model, new, []).decision == "no-match"


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet="ABCDEFGHIJ ", max_size=12), st.text(alphabet="ABCDEFGHIJ ", max_size=12))
def test_jaro_winkler_is_symmetric_and_bounded(a: str, b: str) -> None:
    value = jaro_winkler(a, b)
    assert 0.0 <= value <= 1.0 + 1e-12
    assert value == pytest.approx(jaro_winkler(b, a))


@pytest.mark.parametrize("variant", VARIANTS, ids=[json.dumps(v, ensure_ascii=False)[:40] for v in VARIANTS])
def test_the_batch_shortcut_decides_as_the_scorer(variant: dict[str, Any]) -> None:
    model = load_model()
    a, b = feats(), feats("/legacy/ser#S1", **variant)
    assert model.auto_merges(a, b) == (model.decide(model.score(a, b)) == "match")


def test_splinks_model_file_has_the_same_levels_blocking_and_parameters_as_the_scorers() -> None:
    """The batch path (Splink) and the incremental path (the scorer) must not drift: retrain to change either."""
    splink = json.loads(matching.MODEL_PATH.with_suffix(".splink.json").read_text(encoding="utf-8"))
    ours = json.loads(matching.MODEL_PATH.read_text(encoding="utf-8"))
    assert [r["blocking_rule"] for r in splink["blocking_rules_to_generate_predictions"]] == list(
        matching.BLOCKING_RULES_SQL
    )
    assert splink["probability_two_random_records_match"] == ours["probability_two_random_records_match"]
    for comparison, stored, mine in zip(COMPARISONS, splink["comparisons"], ours["comparisons"], strict=True):
        assert stored["output_column_name"] == comparison.name == mine["name"]
        conditions = [lv["sql_condition"] for lv in stored["comparison_levels"]]
        expected = ["ELSE" if lv.sql == "else" else comparison_sql(lv.sql) for lv in comparison.levels]
        assert conditions == expected
        trained = [(lv["m_probability"], lv["u_probability"]) for lv in stored["comparison_levels"][1:]]
        assert trained == [(lv["m"], lv["u"]) for lv in mine["levels"]]
