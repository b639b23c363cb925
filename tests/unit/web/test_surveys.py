"""The survey page's pure parts (``functions.web.surveys``): which questions the answers show (as the API decides:
conditions look back at shown questions only) and the form read as the API takes the answers."""

from __future__ import annotations

from typing import Any

from werkzeug.datastructures import MultiDict

from functions.web.surveys import parse_answers, shown, simple_survey

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
