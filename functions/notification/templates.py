"""Notification templates, pure: declared fields, sandboxed rendering and the clear-language check.

A template is ``{purpose, subject: {es, en}, body: {es, en}}`` with ``{{ field }}`` placeholders. It is
rendered with Jinja2's ``SandboxedEnvironment`` (no attribute access to Python internals, no imports) and
``StrictUndefined`` (a missing field is an error, never an empty string in a citizen's letter). The fields
a template uses are found by parsing it (``jinja2.meta``), so they are declared by the template itself and
every request is validated against them before anything is stored or sent.

Clear language ("lenguaje claro", asked for by the seed): the Spanish text is scored with the
Fernández-Huerta readability index (J. Fernández Huerta, "Medidas sencillas de lecturabilidad",
Consigna 214, 1959; the adaptation of Flesch's Reading Ease to Spanish): L = 206.84 − 0.60·P − 1.02·F,
P = syllables per 100 words, F = words per sentence, as computed by ``textstat`` 0.7.13 with lang "es".
60 or more reads as "normal" or easier (legible.es scale); below it the preview warns.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import StrictUndefined, TemplateSyntaxError, UndefinedError, meta, nodes
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment

from functions.notification.service import FILLED_BY_PIC, PersonalisationError, TemplateError

PLATFORM_TEMPLATES = Path(__file__).with_name("platform_templates.json")
PLATFORM_PREFIX = "pic-"  # PIC's own messages (a payment's receipt...): shipped with the code that sends them
PLAIN_LANGUAGE_THRESHOLD = 60.0
MAX_TEMPLATE_CHARS = 10_000
SMS_SEGMENT = 160  # GSM-7; a longer SMS is sent as several concatenated segments

_SCALE = (
    (90.0, "muy fácil"),
    (80.0, "fácil"),
    (70.0, "algo fácil"),
    (60.0, "normal"),
    (50.0, "algo difícil"),
    (30.0, "difícil"),
    (float("-inf"), "muy difícil"),
)


@lru_cache(maxsize=1)
def environment() -> SandboxedEnvironment:
    """One sandbox for every template: no autoescape (plain text), every undefined name an error."""
    return SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)


@dataclass(frozen=True)
class TemplateContent:
    purpose: str
    subject: dict[str, str]
    body: dict[str, str]

    def texts(self) -> dict[str, str]:
        """Every text of the template by a dotted name (``subject.es``), for parsing and errors."""
        return {f"{part}.{lang}": text for part in ("subject", "body") for lang, text in getattr(self, part).items()}


@dataclass(frozen=True)
class Template:
    id: str
    version: int
    content: TemplateContent
    fields: tuple[str, ...]
    readability: dict[str, Any] = field(default_factory=dict)

    @property
    def purpose(self) -> str:
        return self.content.purpose


def declared_fields(content: TemplateContent) -> tuple[str, ...]:
    """The personalisation fields the template uses, sorted; only plain ``{{ name }}`` lookups are allowed."""
    found: set[str] = set()
    errors: list[dict[str, str]] = []
    for name, text in content.texts().items():
        if len(text) > MAX_TEMPLATE_CHARS:
            errors.append({"field": name, "message": f"at most {MAX_TEMPLATE_CHARS} characters"})
            continue
        try:
            tree = environment().parse(text)
        except TemplateSyntaxError as exc:
            errors.append({"field": name, "message": f"line {exc.lineno}: {exc.message}"})
            continue
        if any(True for _ in tree.find_all((nodes.Getattr, nodes.Getitem, nodes.Call))):
            errors.append(
                {"field": name, "message": "placeholders are plain names: {{ name }}, no attributes or calls"}
            )
        found |= meta.find_undeclared_variables(tree)
    if errors:
        raise TemplateError("the template cannot be stored", errors=errors)
    return tuple(sorted(found))


def check_languages(content: TemplateContent) -> None:
    """Spanish is required (the council's language); English is optional but then needed in both parts."""
    errors = [
        {"field": f"{part}.es", "message": "required"}
        for part in ("subject", "body")
        if not getattr(content, part).get("es")
    ]
    if bool(content.subject.get("en")) != bool(content.body.get("en")):
        errors.append(
            {"field": "subject.en" if not content.subject.get("en") else "body.en", "message": "give both or neither"}
        )
    if errors:
        raise TemplateError("the template needs its Spanish text (and English in both parts, if any)", errors=errors)


def check_personalisation(fields: tuple[str, ...], personalisation: dict[str, Any]) -> dict[str, str]:
    """The values to render with, as text; 422 naming every missing field and every field not declared.
    Fields PIC fills itself (``service.FILLED_BY_PIC``: the unsubscribe link) are never asked of the requester,
    and refused from them: a requester must not point the link elsewhere."""
    errors = [
        {"field": f"personalisation.{name}", "message": "filled by PIC, not by the requester", "code": "reserved"}
        for name in FILLED_BY_PIC
        if name in personalisation
    ]
    errors += [
        {"field": f"personalisation.{name}", "message": "required by the template", "code": "missing"}
        for name in fields
        if name not in FILLED_BY_PIC and personalisation.get(name) in (None, "")
    ]
    errors += [
        {"field": f"personalisation.{name}", "message": "not a field of the template", "code": "unknown"}
        for name in sorted(set(personalisation) - set(fields) - set(FILLED_BY_PIC))
    ]
    bad_types = [
        {"field": f"personalisation.{name}", "message": "a string, number or boolean", "code": "type"}
        for name, value in personalisation.items()
        if name in fields and value is not None and not isinstance(value, str | int | float | bool)
    ]
    errors += bad_types
    if errors:
        missing = [e["field"].removeprefix("personalisation.") for e in errors if e["code"] == "missing"]
        detail = f"missing {', '.join(missing)}" if missing else "fields that do not fit the template"
        raise PersonalisationError(f"the personalisation does not fit the template: {detail}", errors=errors)
    return {name: str(personalisation[name]) for name in fields if name not in FILLED_BY_PIC}


@dataclass(frozen=True)
class Rendered:
    language: str
    subject: str
    body: str


def render(
    template: Template, personalisation: dict[str, Any], language: str = "es", filled: dict[str, str] | None = None
) -> Rendered:
    """The message in ``language`` (Spanish when the template has no English), personalisation validated;
    ``filled``: the values PIC fills itself (``FILLED_BY_PIC``: the unsubscribe link)."""
    values = {**check_personalisation(template.fields, personalisation), **(filled or {})}
    lang = language if template.content.body.get(language) else "es"
    try:
        subject = _render_text(template.content.subject[lang], values)
        body = _render_text(template.content.body[lang], values)
    except (UndefinedError, SecurityError) as exc:  # pragma: no cover - fields were checked above
        raise PersonalisationError(f"the template could not be rendered: {exc}") from exc
    return Rendered(language=lang, subject=subject, body=body)


@lru_cache(maxsize=2048)
def _compiled(text: str) -> Any:
    return environment().from_string(text)


def _render_text(text: str, values: dict[str, str]) -> str:
    return str(_compiled(text).render(**values)).strip()


def readability(text: str) -> dict[str, Any]:
    """Fernández-Huerta of a Spanish text: the score, its band and whether it passes the clear-language bar."""
    import textstat  # pulls nltk (~0.6 s): only templates' writes and previews pay it, not every cold start

    plain = re.sub(r"\{\{.*?\}\}", "dato", text)  # a placeholder reads as one short word
    textstat.set_lang("es")
    score = float(textstat.fernandez_huerta(plain)) if plain.strip() else 0.0
    band = next(label for floor, label in _SCALE if score >= floor)
    return {
        "index": "fernandez-huerta",
        "score": round(score, 1),
        "band": band,
        "clear": score >= PLAIN_LANGUAGE_THRESHOLD,
        "threshold": PLAIN_LANGUAGE_THRESHOLD,
        "source": "Fernández Huerta (1959), Consigna 214; textstat 0.7.13, lang es",
    }


def sms_segments(text: str) -> int:
    return max(1, -(-len(text) // SMS_SEGMENT))


@lru_cache(maxsize=1)
def platform_templates() -> dict[str, Template]:
    """PIC's own templates (``platform_templates.json``), version 1 each: they change with the code that fills
    them in, in a release, so no deployment depends on someone having stored them through the API first."""
    raw: dict[str, dict[str, Any]] = json.loads(PLATFORM_TEMPLATES.read_text(encoding="utf-8"))
    found = {}
    for template_id, spec in raw.items():
        content = TemplateContent(purpose=spec["purpose"], subject=spec["subject"], body=spec["body"])
        check_languages(content)
        found[template_id] = Template(template_id, 1, content, declared_fields(content))
    return found


def is_platform(template_id: str) -> bool:
    """Ids under ``pic-`` are PIC's own: served from the code, never stored through the API."""
    return template_id.startswith(PLATFORM_PREFIX)
