"""The assistant's decision (``functions.assistant.service``): a person whenever asked (many wordings, typos, both
languages; not "persona jurídica"), what only a person can do, the platform's own procedures behind sign-in, an
answer only when confident, and out of hours the next opening and a callback."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import pytest

from functions.assistant import service
from functions.assistant.service import (
    Answer,
    Candidate,
    Handover,
    ProcedureReply,
    asks_for_person,
    decide,
    detect_language,
    procedure_of,
)
from functions.core.calendar import ALWAYS_OPEN, BusinessCalendar
from functions.core.clock import MADRID

OFFICE = BusinessCalendar.from_hours({day: ["08:30-19:00"] for day in ("mon", "tue", "wed", "thu", "fri")})
MONDAY_NOON = datetime(2026, 5, 4, 12, tzinfo=MADRID)


@dataclass
class FakeRetriever:
    """Proposes one article with a fixed confidence, and records what it was asked."""

    confidence: float = 0.9
    asked: list[tuple[str, str]] = field(default_factory=list)

    def rank(self, text: str, language: service.Language, k: int = 3) -> Sequence[Candidate]:
        self.asked.append((text, language))
        return [Candidate("padron-alta", 1, language, self.confidence), Candidate("cita-previa", 1, language, 0.0)]


def reply(
    message: str, *, confidence: float = 0.9, at: datetime = MONDAY_NOON, signed_in: bool = True
) -> service.Reply:
    return decide(message, retriever=FakeRetriever(confidence), calendar=OFFICE, now=at, authenticated=signed_in)


@pytest.mark.parametrize(
    "message",
    [
        "quiero hablar con una persona",
        "Quiero hablar con una PERSONA!!",
        "pásame con un agente",
        "pasame con un agente porfa",
        "operador",
        "OPERADORA por favor",
        "un humano",
        "quiero un humano",
        "kiero ablar con un humano",
        "me pones con un operadorr?",
        "quiero hablar con alguien de verdad",
        "ponme con alguien",
        "no quiero hablar con una maquina",
        "eres un robot?",
        "necesito que me atienda una persona",
        "hablar con un funcionario",
        "atención personalizada",
        "talk to a person",
        "agent please",
        "can I speak to someone?",
        "I want to talk to a human",
        "get me a real person",
        "transfer me to an operator",
        "representative",
        "I need to speak with a human being",
        "persnoa",
    ],
)
def test_a_request_for_a_person_is_recognised_however_it_is_written(message: str) -> None:
    assert asks_for_person(message), message


@pytest.mark.parametrize(
    "message",
    [
        "soy persona jurídica, tengo que usar el registro electrónico?",
        "ayudas para personas mayores",
        "tarjeta de aparcamiento para persona con discapacidad",
        "necesito empadronar a una persona en mi casa",
        "me multó un agente de movilidad",
        "cuántas personas pueden empadronarse en un piso",
        "legal person registration",
        "parking for people with disability",
        "how do I pay my property tax",
        "quiero pedir cita con la trabajadora social",
    ],
)
def test_naming_a_person_is_not_asking_for_one(message: str) -> None:
    assert not asks_for_person(message), message


def test_asking_for_a_person_hands_over_at_once_even_with_a_confident_answer() -> None:
    found = reply("quiero hablar con una persona sobre el padrón", confidence=0.99)
    assert isinstance(found, Handover)
    assert (found.reason, found.open_now, found.next_opening) == ("asked-for-person", True, None)
    assert found.options == (service.TALK_TO_PERSON,)


def test_every_reply_offers_a_person() -> None:
    for message in ("como me empadrono", "qué debo", "operador", "me han cobrado dos veces el ibi"):
        assert service.TALK_TO_PERSON in reply(message).options


def test_a_confident_answer_names_the_article_and_its_alternatives() -> None:
    found = reply("como me empadrono", confidence=0.8)
    assert isinstance(found, Answer)
    assert (found.article_id, found.language, found.confidence, found.alternatives) == (
        "padron-alta", "es", 0.8, ("cita-previa",),
    )  # fmt: skip


def test_low_confidence_hands_over_with_the_confidence() -> None:
    found = reply("mi vecino me debe dinero", confidence=0.1)
    assert isinstance(found, Handover)
    assert (found.reason, found.confidence) == ("low-confidence", 0.1)


def test_what_only_a_person_can_do_is_handed_over() -> None:
    for message in ("me han cobrado dos veces el recibo", "quiero que me devuelvan el dinero", "I was charged twice"):
        found = reply(message)
        assert isinstance(found, Handover) and found.reason == "needs-procedure", message


@pytest.mark.parametrize(
    ("message", "procedure"),
    [
        ("¿qué debo?", "debts"),
        ("que debo al ayuntamiento", "debts"),
        ("cuanto debo", "debts"),
        ("tengo multas pendientes?", "debts"),
        ("what do I owe", "debts"),
        ("any unpaid fines?", "debts"),
        ("¿cómo va mi caso?", "cases"),
        ("en que estado esta mi solicitud", "cases"),
        ("estado de mi expediente", "cases"),
        ("my case status", "cases"),
        ("how is my complaint going", "cases"),
        ("como me empadrono", None),
    ],
)
def test_the_platforms_own_procedures_are_recognised(message: str, procedure: str | None) -> None:
    assert procedure_of(message) == procedure


def test_a_procedure_needs_the_citizen_signed_in() -> None:
    anonymous = reply("¿qué debo?", signed_in=False)
    signed = reply("¿qué debo?", signed_in=True)
    assert isinstance(anonymous, ProcedureReply) and anonymous.requires_authentication
    assert isinstance(signed, ProcedureReply) and not signed.requires_authentication
    assert "identifiques" in service.message_of(anonymous)


def test_out_of_hours_the_hand_over_says_the_next_opening_and_offers_a_callback() -> None:
    # GIVEN Friday 20:00 in Madrid, offices open Monday to Friday 08:30-19:00
    friday_night = datetime(2026, 5, 8, 20, tzinfo=MADRID)
    found = reply("quiero hablar con una persona", at=friday_night)
    assert isinstance(found, Handover)
    # THEN the next opening is Monday 08:30 Madrid time, and a callback is offered
    assert found.next_opening == datetime(2026, 5, 11, 8, 30, tzinfo=MADRID)
    assert not found.open_now
    assert found.options == (service.TALK_TO_PERSON, service.CALLBACK)
    assert "11/05/2026 08:30" in service.message_of(found)
    assert [o["label"] for o in service.option_labels(found)] == ["Hablar con una persona", "Que me llamen"]


def test_the_next_opening_skips_madrid_holidays() -> None:
    # GIVEN the evening before San Isidro (15 May 2026, a Friday, Madrid's local holiday)
    found = reply("operador", at=datetime(2026, 5, 14, 21, tzinfo=MADRID))
    assert isinstance(found, Handover)
    assert found.next_opening == datetime(2026, 5, 18, 8, 30, tzinfo=MADRID)


def test_a_line_open_all_day_never_says_closed() -> None:
    found = decide("operador", retriever=FakeRetriever(), calendar=ALWAYS_OPEN, now=MONDAY_NOON, authenticated=False)
    assert isinstance(found, Handover) and found.open_now and found.next_opening is None


@pytest.mark.parametrize(
    ("message", "language"),
    [
        ("¿cómo me empadrono?", "es"),
        ("q tengo q hacer pa pagar la multa", "es"),
        ("how do I pay a fine", "en"),
        ("where is my car", "en"),
        ("IBI", "es"),
        ("agent please", "en"),
    ],
)
def test_language_is_detected_simply_and_defaults_to_spanish(message: str, language: str) -> None:
    assert detect_language(message) == language


def test_the_retrieval_is_asked_in_the_conversations_language() -> None:
    fake = FakeRetriever()
    decide("IBI?", retriever=fake, calendar=OFFICE, now=MONDAY_NOON, authenticated=True, language="en")
    assert fake.asked == [("IBI?", "en")]
