"""The survey page's pure parts (``functions.web.surveys``): which questions the answers show (as the API decides:
conditions look back at shown questions only) and the form read as the API takes the answers."""

from __future__ import annotations

from typing import Any

from werkzeug.datastructures import MultiDict

from functions.web.api import ApiProblem
from functions.web.surveys import _designed_errors, designed_survey, parse_answers, shown, simple_survey

QUESTIONS: list[dict[str, Any]] = [
    {"id": "csat", "kind": "scale"},
    {"id": "why", "kind": "text", "show_if": {"question": "csat", "one_of": [1, 2]}},
    {"id": "detail", "kind": "text", "show_if": {"question": "why", "equals": "otra"}},
    {"id": "nps", "kind": "nps", "show_if": {"question": "csat", "at_least": 4}},
    {"id": "topics", "kind": "multiple"},
]


def test_a_condition_shows_a_question_only_behind_a_shown_question_that_meets_it() -> None:
    assert shown(QUESTIONS, {}) == ["csat", "topics"]
    assert shown(QUESTIONS, {"csat": 2}) == ["csat", "why", "topics"]
    assert shown(QUESTIONS, {"csat": 2, "why": "otra"}) == ["csat", "why", "detail", "topics"]
    # a hidden question's answer shows nothing behind it
    assert shown(QUESTIONS, {"csat": 5, "why": "otra"}) == ["csat", "nps", "topics"]


def test_the_form_is_read_as_the_api_takes_it() -> None:
    form = MultiDict([("q-csat", "2"), ("q-why", "  la espera "), ("q-topics", "tax"), ("q-topics", "fine"),
                      ("q-nps", ""), ("q-detail", "")])  # fmt: skip
    assert parse_answers(QUESTIONS, form) == {"csat": 2, "why": "la espera", "topics": ["tax", "fine"]}
    # a value that is not a number is passed on for the API to name
    assert parse_answers(QUESTIONS, MultiDict([("q-csat", "muy")])) == {"csat": "muy"}


def test_the_desk_s_simple_survey_is_a_csat_with_a_follow_up_for_low_scores() -> None:
    values = {"id": "csat-oac", "title_es": "Oficinas", "title_en": "Offices", "kind": "csat", "mode": "anonymous",
              "question_es": "¿Satisfecho?", "question_en": "Satisfied?", "why_es": "¿Qué falló?",
              "why_en": "What went wrong?", "trigger": "office.visit"}  # fmt: skip
    body = simple_survey(values)
    score, why = body["questions"]
    assert (score["kind"], score["min"], score["max"]) == ("scale", 1, 5)
    assert why["show_if"] == {"question": "score", "one_of": [1, 2]} and not why["required"]
    assert body["triggers"] == [{"on": "office.visit"}] and body["mode"] == "anonymous"
    nps = simple_survey({**values, "kind": "nps", "trigger": ""})
    assert nps["questions"][0]["kind"] == "nps" and nps["questions"][1]["show_if"]["one_of"] == list(range(7))
    assert "triggers" not in nps


DESIGN = {
    "id": "barrio-2026", "title_es": "Su barrio", "title_en": "Your neighbourhood", "mode": "anonymous",
    "q1_kind": "single", "q1_es": "¿Cómo viene?", "q1_en": "How do you come?",
    "q1_choices_es": "A pie\nEn metro\n\nEn coche", "q1_choices_en": "On foot\nBy underground\nBy car",
    "q2_kind": "", "q2_es": "ignored",
    "q3_kind": "text", "q3_es": "¿Por qué en coche?", "q3_en": "Why by car?", "q3_optional": "1",
    "q3_after": "1", "q3_when": "3",
    "q4_kind": "scale", "q4_es": "Limpieza", "q4_en": "Cleanliness", "q4_min": "1", "q4_max": "5",
    "q5_kind": "nps", "q5_es": "¿Lo recomendaría?", "q5_en": "Would you recommend it?", "q5_after": "4",
    "q5_when": "4, 5",
}  # fmt: skip


def test_the_designer_makes_the_apis_survey_from_its_slots_skipping_empty_ones() -> None:
    body, errors, slots = designed_survey(DESIGN)
    assert errors == {} and slots == [1, 3, 4, 5] and body["mode"] == "anonymous"
    first, why, clean, nps = body["questions"]
    assert [c["label"]["en"] for c in first["choices"]] == ["On foot", "By underground", "By car"]
    assert why == {"id": "q3", "kind": "text", "required": False, "text": {"es": "¿Por qué en coche?",
                   "en": "Why by car?"}, "show_if": {"question": "q1", "one_of": ["c3"]}}  # fmt: skip
    assert (clean["min"], clean["max"]) == (1, 5)
    assert nps["show_if"] == {"question": "q4", "one_of": [4, 5]}


def test_the_designer_names_what_only_the_form_can_tell() -> None:
    bad = {**DESIGN, "q1_choices_en": "On foot", "q4_max": "many", "q5_after": "3", "q3_when": "primero"}
    _, errors, _ = designed_survey(bad)
    assert errors == {"q1_choices_es": "choices", "q4_min": "bounds", "q5_after": "after", "q3_when": "when"}
    assert designed_survey({"id": "x"})[1] == {"q1_kind": "none"}


def test_the_apis_errors_land_on_the_slot_they_are_about() -> None:
    problem = ApiProblem(422, {"type": "/problems/validation", "errors": [
        {"field": "questions.1.text.en", "message": "too short"},
        {"field": "questions.2.max", "message": "below min"},
        {"field": "title.es", "message": "missing"},
    ]})  # fmt: skip
    found = _designed_errors(problem, [1, 3, 4, 5])
    assert found == {"q3_en": "too short", "q4_min": "below min", "title_es": "missing"}
