"""The documentation pages' views and rendering, on the real published specifications: every operation and every
event type is shown with what the code says (the catalog's producer, consumers and senders), in both languages."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from events.catalog import CATALOG
from events.generate import OPENAPI_FILE
from functions.apidocs import pages, service
from functions.core.errors import NotFoundError

ROOT = Path(__file__).resolve().parents[3]
TEMPLATES = ROOT / "functions" / "apidocs" / "templates"


def test_every_operation_is_shown_once_in_its_domain() -> None:
    # GIVEN the published OpenAPI
    doc = json.loads((ROOT / "schemas" / OPENAPI_FILE).read_text(encoding="utf-8"))
    declared = {(m.upper(), p) for p, item in doc["paths"].items() for m in item if m in service.METHODS}

    # WHEN it is turned into domains
    shown = [(op.method, op.path) for d in pages.api_view().domains for op in d.operations]

    # THEN each operation is there once, and each model an operation names has its table in the domain
    assert sorted(shown) == sorted(declared)
    for domain in pages.api_view().domains:
        anchors = {m.anchor for m in domain.models}
        named = {a for op in domain.operations for a in [op.request.anchor if op.request else ""] if a}
        named |= {r.anchor for op in domain.operations for r in op.responses if r.anchor}
        named |= {f.anchor for m in domain.models for f in m.fields if f.anchor}
        assert named <= anchors, (domain.name, named - anchors)


def test_an_operation_says_its_access_action_parameters_body_and_problems() -> None:
    consent = service.domain(pages.api_view(), "consent")
    op = next(o for o in consent.operations if o.method == "PUT" and o.path.endswith("/consents/{purpose}"))
    assert (op.action, op.signed_in, op.reads) == ("consent.write", True, "consents")
    assert [(p.name, p.where, p.required) for p in op.parameters][:2] == [("citizen_id", "path", True),
                                                                          ("purpose", "path", True)]  # fmt: skip
    assert {"Idempotency-Key", "Access-Purpose"} <= {p.name for p in op.parameters}
    assert op.request is not None and (op.request.type, op.request.media) == ("ConsentPut", "application/json")
    by_status = {r.status: r for r in op.responses}
    assert by_status["200"].type == "ConsentsView" and not by_status["200"].problem
    assert by_status["422"].problem and by_status["422"].description == "Unprocessable"


def test_an_unknown_domain_is_a_not_found() -> None:
    for name in ("nope", "../consent", "CONSENT"):
        with pytest.raises(NotFoundError):
            service.domain(pages.api_view(), name)


@pytest.mark.parametrize(
    ("schema", "text"),
    [
        ({"$ref": "#/$defs/Actor"}, "Actor"),
        ({"anyOf": [{"type": "string"}, {"type": "null"}]}, "string | null"),
        ({"type": "array", "items": {"$ref": "#/$defs/Actor"}}, "array of Actor"),
        ({"type": "object", "additionalProperties": {"type": "integer"}}, "map of integer"),
        ({"const": "call"}, '"call"'),
        ({}, "any"),
    ],
)
def test_a_schema_reads_as_a_type(schema: dict[str, object], text: str) -> None:
    assert service.Describer({}, "#/$defs/", "x-").type_of(schema)[0] == text


def test_every_catalog_type_is_shown_with_the_catalogs_producer_consumers_and_senders() -> None:
    # GIVEN the events view read from asyncapi.yaml and the schemas
    shown = {e.type: e for e in pages.events_view().types}

    # THEN it has every catalog type, as the catalog says, with its fixture as a valid example
    assert set(shown) == set(CATALOG)
    for event_type, spec in CATALOG.items():
        event = shown[event_type]
        assert event.producer == spec.producer
        assert list(event.consumers) == sorted(spec.consumers)
        assert [s.account for s in event.senders] == [s.account for s in spec.senders]
        example = json.loads(event.example)
        assert example["type"] == event_type
        spec.model.model_validate(example["data"])
        assert event.models[0].fields, f"{event_type}: its data's fields"


def test_an_unknown_event_type_is_a_not_found() -> None:
    with pytest.raises(NotFoundError):
        pages.events_view().find("es.madrid.pic.nothing.v1")
    assert not service.valid_event_type("../../etc/passwd")


def test_both_languages_have_every_message_the_templates_use() -> None:
    catalogs = pages.messages()
    used = {key for path in TEMPLATES.glob("*.html") for key in re.findall(r't\(["\']([a-z_]+)["\']', path.read_text())}
    assert set(catalogs["es"]) == set(catalogs["en"])
    assert used <= set(catalogs["es"]), used - set(catalogs["es"])


@pytest.mark.parametrize("lang", ["es", "en"])
def test_every_page_renders_in_both_languages_with_the_other_one_offered(lang: str) -> None:
    consent = service.domain(pages.api_view(), "consent")
    event = pages.events_view().find("es.madrid.pic.consent.changed.v1")
    for template, values in (("index.html", {"events": pages.events_view()}), ("api.html", {}),
                             ("domain.html", {"domain": consent}), ("events.html", {"events": pages.events_view()}),
                             ("event.html", {"event": event})):  # fmt: skip
        html = pages.render(template, lang, "/docs/x", **values).decode()
        assert f'<html lang="{lang}">' in html
        other = "en" if lang == "es" else "es"
        assert f'href="/docs/x?lang={other}" lang="{other}" hreflang="{other}"' in html
        assert "<script" not in html


def test_the_language_is_the_query_then_the_browser_then_spanish() -> None:
    assert pages.language("en", "es-ES") == "en"
    assert pages.language(None, "en-GB,en;q=0.9") == "en"
    assert pages.language("fr", "fr-FR, de") == "es"


def test_the_style_is_allowed_by_its_hash_and_nothing_else_is() -> None:
    css, source = pages.style()
    csp = pages.headers()["Content-Security-Policy"]
    assert f"style-src {source}" in csp and "default-src 'none'" in csp and "script-src" not in csp
    assert "<" not in css  # inline as it is: its hash is of these bytes


def test_a_published_file_is_served_as_written_and_nothing_else_is() -> None:
    body, kind = pages.raw("openapi.json")
    assert body == (ROOT / "schemas" / "openapi.json").read_bytes() and kind == "application/json"
    assert pages.raw("es.madrid.pic.consent.changed.v1.json")[1] == "application/schema+json"
    assert pages.raw("asyncapi.yaml")[1].startswith("application/yaml")
    for name in ("../pyproject.toml", "README.md", ""):
        with pytest.raises(NotFoundError):
            pages.raw(name)


def test_the_last_release_and_the_checker_are_served_as_kept() -> None:
    from events import compat

    name, files = pages.released_files()
    release = compat.latest_release()
    assert name == release.name and {"RELEASE.json", "openapi.json", "asyncapi.yaml"} <= set(files)
    assert pages.released("openapi.json")[0] == (release / "openapi.json").read_bytes()
    with pytest.raises(NotFoundError):
        pages.released("../RELEASE.json")
    assert pages.checker() == Path(compat.__file__).read_bytes()
