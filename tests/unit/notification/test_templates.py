"""Unit: templates — declared fields, sandboxed rendering, personalisation validation, readability."""

from __future__ import annotations

import pytest

from functions.notification import templates
from functions.notification.service import PersonalisationError, TemplateError
from functions.notification.templates import Template, TemplateContent

IBI = TemplateContent(
    purpose="service-notifications",
    subject={"es": "Su recibo del IBI de {{ year }}", "en": "Your {{ year }} tax bill"},
    body={
        "es": "Hola, {{ name }}. Puede pagar el recibo hasta el {{ due }}.",
        "en": "Hello {{ name }}. Pay by {{ due }}.",
    },
)


def template(content: TemplateContent = IBI) -> Template:
    return Template("ibi", 1, content, templates.declared_fields(content))


def test_fields_are_declared_by_the_placeholders_of_every_text() -> None:
    assert templates.declared_fields(IBI) == ("due", "name", "year")


def test_rendering_fills_the_placeholders_in_the_language_asked() -> None:
    values = {"name": "Inés", "year": "2026", "due": "30 de noviembre"}
    es = templates.render(template(), values, "es")
    en = templates.render(template(), values, "en")
    assert (es.subject, es.body) == (
        "Su recibo del IBI de 2026",
        "Hola, Inés. Puede pagar el recibo hasta el 30 de noviembre.",
    )
    assert en.subject == "Your 2026 tax bill" and en.language == "en"


def test_a_template_without_english_renders_spanish_for_an_english_reader() -> None:
    spanish_only = TemplateContent("campaigns", {"es": "Hola"}, {"es": "Hola, {{ name }}."})
    assert templates.render(template(spanish_only), {"name": "Ann"}, "en").language == "es"


def test_values_are_text_and_not_evaluated() -> None:
    rendered = templates.render(template(), {"name": "{{ 7*7 }}", "year": 2026, "due": True}, "es")
    assert "{{ 7*7 }}" in rendered.body and "2026" in rendered.subject


def test_missing_and_unknown_fields_are_each_named() -> None:
    with pytest.raises(PersonalisationError) as raised:
        templates.check_personalisation(("due", "name", "year"), {"name": "Inés", "iban": "ES00"})
    fields = {(e["field"], e["code"]) for e in raised.value.errors or []}
    assert fields == {
        ("personalisation.due", "missing"),
        ("personalisation.year", "missing"),
        ("personalisation.iban", "unknown"),
    }
    assert raised.value.status == 422


def test_a_value_that_is_not_text_is_refused() -> None:
    with pytest.raises(PersonalisationError) as raised:
        templates.check_personalisation(("name",), {"name": {"first": "Inés"}})
    assert raised.value.errors == [
        {"field": "personalisation.name", "message": "a string, number or boolean", "code": "type"}
    ]


@pytest.mark.parametrize(
    "body",
    ["{{ name.__class__ }}", "{{ name['x'] }}", "{{ cycler() }}", "{% for x in y %}", "{{ name "],
)
def test_unsafe_or_broken_templates_cannot_be_stored(body: str) -> None:
    with pytest.raises(TemplateError) as raised:
        templates.declared_fields(TemplateContent("campaigns", {"es": "Hola"}, {"es": body}))
    assert raised.value.errors and raised.value.errors[0]["field"] == "body.es"


def test_the_sandbox_refuses_internals_even_if_reached() -> None:
    sandboxed = templates.environment().from_string("{{ ''.__class__.__mro__ }}")
    with pytest.raises(Exception, match=r"unsafe|access"):
        sandboxed.render()


def test_spanish_is_required_and_english_goes_in_both_parts() -> None:
    with pytest.raises(TemplateError) as raised:
        templates.check_languages(TemplateContent("campaigns", {"es": "Hola", "en": "Hello"}, {"es": "Hola"}))
    assert raised.value.errors == [{"field": "body.en", "message": "give both or neither"}]


def test_plain_spanish_scores_higher_than_bureaucratic_spanish() -> None:
    plain = templates.readability("Su recibo ya está listo. Puede pagarlo en la web. Tiene un mes.")
    dense = templates.readability(
        "De conformidad con lo dispuesto en la normativa reguladora aplicable, se procede a la notificación "
        "administrativa de la correspondiente liquidación tributaria, cuya efectividad queda condicionada."
    )
    assert plain["index"] == "fernandez-huerta"
    assert plain["score"] > dense["score"]
    assert plain["clear"] is True and dense["clear"] is False
    assert dense["band"] in ("difícil", "muy difícil", "algo difícil")


def test_sms_segments() -> None:
    assert templates.sms_segments("x" * 160) == 1
    assert templates.sms_segments("x" * 161) == 2
