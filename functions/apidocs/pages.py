"""The documentation pages rendered on the server, in Spanish or English, from the files ``make schemas`` writes.

The published specifications are read once per process from ``schemas/`` (in the image beside the code): the
pages and the raw files are the same documents the contract tests and the compatibility check read. No script,
no CDN: the pages are HTML and one inline style sheet allowed by its hash in the Content-Security-Policy.
"""

from __future__ import annotations

import base64
import hashlib
import json
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
import yaml

from events import compat
from functions.apidocs import service
from functions.core.errors import NotFoundError
from functions.core.language import DEFAULT, negotiate

SCHEMAS_DIR = Path(__file__).resolve().parents[2] / "schemas"
RELEASED_DIR = compat.RELEASED_DIR  # contracts/released/: the baselines make test compares schemas/ with
CHECKER = Path(compat.__file__)  # events/compat.py: standard library only, runnable on its own
TEMPLATES = Path(__file__).parent / "templates"
MESSAGES = Path(__file__).parent / "messages.json"
CONTENT_LANGUAGE = "en"  # the specifications' own texts (summaries, descriptions) are written in English
OPENAPI_FILE, ASYNCAPI_FILE = "openapi.json", "asyncapi.yaml"
RAW_TYPES = {".json": "application/json", ".yaml": "application/yaml; charset=utf-8"}
EVENT_SCHEMA_TYPE = "application/schema+json"
HTML = "text/html; charset=utf-8"


def language(chosen: str | None, accept_language: str | None) -> str:
    """``?lang=`` if it is one of ours, else the browser's first known language, else Spanish."""
    return negotiate(chosen, accept_language)


@cache
def messages() -> dict[str, dict[str, str]]:
    data: dict[str, dict[str, str]] = json.loads(MESSAGES.read_text(encoding="utf-8"))
    return data


def translator(lang: str) -> Any:
    catalog, fallback = messages()[lang], messages()[DEFAULT]

    def t(key: str, **values: Any) -> str:
        text = catalog.get(key) or fallback.get(key)
        if text is None:
            raise KeyError(f"no message {key!r} in functions/apidocs/messages.json")
        return text.format(**values) if values else text

    return t


# ---- the documents ---------------------------------------------------------------------------------------------


@cache
def raw_files() -> dict[str, tuple[bytes, str]]:
    """Every published file by name, with its media type: the OpenAPI, the AsyncAPI and each type's schema."""
    found: dict[str, tuple[bytes, str]] = {}
    for path in sorted(SCHEMAS_DIR.iterdir()):
        if path.is_file() and path.suffix in RAW_TYPES:
            kind = EVENT_SCHEMA_TYPE if path.name.startswith(service.TYPE_PREFIX) else RAW_TYPES[path.suffix]
            found[path.name] = (path.read_bytes(), kind)
    return found


def raw(name: str) -> tuple[bytes, str]:
    found = raw_files().get(name)
    if found is None:
        raise NotFoundError(f"no published specification {name[:120]!r}: /docs lists them")
    return found


@cache
def released_files() -> tuple[str, dict[str, tuple[bytes, str]]]:
    """The last release's name and its files (with its manifest: release, date, commit, each file's SHA-256)."""
    release = compat.latest_release(RELEASED_DIR)
    found = {}
    for path in sorted(release.iterdir()):
        if path.is_file() and path.suffix in RAW_TYPES:
            kind = EVENT_SCHEMA_TYPE if path.name.startswith(service.TYPE_PREFIX) else RAW_TYPES[path.suffix]
            found[path.name] = (path.read_bytes(), kind)
    return release.name, found


def released(name: str) -> tuple[bytes, str]:
    found = released_files()[1].get(name)
    if found is None:
        raise NotFoundError(f"no file {name[:120]!r} in release {released_files()[0]}: /docs lists them")
    return found


def checker() -> bytes:
    """The compatibility check itself, for a producer's own CI: ``python3 compat.py check --released <dir>
    --current <dir>`` (the rules: docs/contracts.md)."""
    return CHECKER.read_bytes()


@cache
def api_view() -> service.Api:
    return service.api(json.loads(raw(OPENAPI_FILE)[0]))


@cache
def events_view() -> service.Events:
    schemas = {
        name.removesuffix(".json"): json.loads(body)
        for name, (body, _) in raw_files().items()
        if name.startswith(service.TYPE_PREFIX)
    }
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's: a third of a second, not two
    return service.events(yaml.load(raw(ASYNCAPI_FILE)[0], Loader=loader), schemas)  # noqa: S506 - a safe loader


# ---- rendering -------------------------------------------------------------------------------------------------

_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


@cache
def style() -> tuple[str, str]:
    """The style sheet and its CSP source (``'sha256-…'``): inline, so a page is one answer and one file."""
    css = (TEMPLATES / "docs.css").read_text(encoding="utf-8")
    return css, "'sha256-" + base64.b64encode(hashlib.sha256(css.encode()).digest()).decode() + "'"


def headers() -> dict[str, str]:
    """Security headers of every page: nothing but this page's own style, no script, no frame."""
    return {
        "Content-Type": HTML,
        "Content-Security-Policy": (
            f"default-src 'none'; style-src {style()[1]}; img-src 'self' data:; form-action 'self'; "
            "frame-ancestors 'none'; base-uri 'none'"
        ),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
        "Cache-Control": "public, max-age=300",
        "Vary": "Accept-Language",
    }


def render(template: str, lang: str, path: str, **values: Any) -> bytes:
    """A page in ``lang``: the chrome translated, the specifications' texts marked as English."""
    html = _env.get_template(template).render(
        t=translator(lang),
        lang=lang,
        other="en" if lang == "es" else "es",
        content_lang=CONTENT_LANGUAGE,
        path=path,
        css=style()[0],
        api=api_view(),
        release=released_files()[0],
        **values,
    )
    return html.encode("utf-8")
