"""IVR flows as data (``functions.routing.ivr``): validated whole with each error named; a call through a flow by
its keys or recognised intents, in office hours or out of them (Madrid's holidays), with retries on an unmatched
answer, ending in a queue, a callback or a hang-up; never spinning."""

from __future__ import annotations

from copy import deepcopy
from datetime import datetime
from typing import Any

import pytest

from functions.core.clock import MADRID
from functions.routing.ivr import Flow, errors_of, run

WEEKDAYS = {day: ["08:00-21:00"] for day in ("mon", "tue", "wed", "thu", "fri")}
LINEA_010: dict[str, Any] = {
    "flow": "linea-010", "version": 3, "start": "horario",
    "nodes": {
        "horario": {"kind": "hours", "hours": WEEKDAYS, "open": "menu", "closed": "cerrado"},
        "menu": {"kind": "menu", "prompt": {"es": "Tributos, pulse 1; padrón, 2; hablar con una persona, 0.",
                                              "en": "For taxes press 1, for the register 2, to talk to a person 0."},
                 "options": {"1": "tributos", "2": "padron", "0": "persona"},
                 "intents": {"pagar-multa": "tributos", "empadronarse": "padron"}, "retries": 1, "no_match": "persona"},
        "tributos": {"kind": "queue", "queue": "hacienda-l1", "skill": "tributos", "priority": 1},
        "padron": {"kind": "queue", "queue": "padron-l1"},
        "persona": {"kind": "queue", "queue": "general-l1"},
        "cerrado": {"kind": "message", "prompt": {"es": "Estamos cerrados. Le llamaremos.", "en": "We are closed."},
                    "next": "devolver"},
        "devolver": {"kind": "callback", "queue": "general-l1"},
    },
}  # fmt: skip
FLOW = Flow.model_validate(LINEA_010)
MONDAY = datetime(2026, 3, 9, 10, tzinfo=MADRID)


def test_a_key_or_an_intent_routes_to_its_queue() -> None:
    by_key = run(FLOW, ["1"], MONDAY)
    assert (by_key.kind, by_key.queue, by_key.skill, by_key.priority) == ("queue", "hacienda-l1", "tributos", 1)
    assert run(FLOW, ["empadronarse"], MONDAY).queue == "padron-l1"
    assert run(FLOW, [], MONDAY).kind == "waiting" and run(FLOW, [], MONDAY).node == "menu"


def test_an_unmatched_answer_is_asked_again_then_goes_to_a_person() -> None:
    again = run(FLOW, ["7", "2"], MONDAY)
    assert again.queue == "padron-l1" and len(again.said) == 2  # the menu heard twice
    assert run(FLOW, ["7", "9"], MONDAY).queue == "general-l1"


def test_out_of_hours_and_on_madrids_holidays_the_caller_is_offered_a_callback() -> None:
    for closed in (datetime(2026, 3, 9, 22, tzinfo=MADRID), datetime(2026, 5, 15, 10, tzinfo=MADRID)):  # San Isidro
        outcome = run(FLOW, ["1"], closed, "en")
        assert (outcome.kind, outcome.queue, outcome.said) == ("callback", "general-l1", ("We are closed.",))


def test_an_invalid_flow_is_refused_with_every_error_named() -> None:
    bad = deepcopy(LINEA_010)
    bad["nodes"]["menu"]["options"]["3"] = "licencias"
    bad["start"] = "inicio"
    bad["nodes"]["horario"]["hours"] = {"lun": ["08:00-21:00"]}
    messages = [e["message"] for e in errors_of(bad)]
    assert "start: no node 'inicio'" in messages and "nodes.menu.options.3: no node 'licencias'" in messages
    assert any(m.startswith("nodes.horario.hours: unknown days") for m in messages)
    assert errors_of(LINEA_010) == []


def test_a_loop_that_never_waits_for_the_caller_is_refused() -> None:
    spinning = deepcopy(LINEA_010)
    spinning["nodes"]["cerrado"]["next"] = "horario"
    spinning["nodes"]["horario"]["closed"] = "cerrado"
    spinning["nodes"]["horario"]["open"] = "cerrado"
    assert any("never waits" in e["message"] for e in errors_of(spinning))


@pytest.mark.parametrize("field", ["kind", "prompt"])
def test_a_node_without_what_it_needs_is_named(field: str) -> None:
    bad = deepcopy(LINEA_010)
    del bad["nodes"]["cerrado"][field]
    assert any(e["field"].startswith("nodes.cerrado") for e in errors_of(bad))
