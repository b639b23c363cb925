"""Message catalogs as data (``i18n/es.json``, ``i18n/en.json``): Spanish by default, English on request.
A key missing from English falls back to Spanish; a key missing from both is a bug a unit test catches."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from functions.core.language import DEFAULT, LANGUAGES, negotiate

_DIR = Path(__file__).parent / "i18n"


@lru_cache(maxsize=len(LANGUAGES))
def catalog(lang: str) -> dict[str, str]:
    data: dict[str, str] = json.loads((_DIR / f"{lang}.json").read_text(encoding="utf-8"))
    return data


def pick(accept_language: str | None, chosen: str | None) -> str:
    """The language: the one chosen (cookie or session), else the browser's first known one, else Spanish."""
    return negotiate(chosen, accept_language)


def translate(lang: str, key: str, **values: Any) -> str:
    """The message ``key`` in ``lang`` (Spanish if English lacks it), with ``{name}`` values filled in."""
    text = catalog(lang).get(key) or catalog(DEFAULT).get(key)
    if text is None:
        raise KeyError(f"no message {key!r} in functions/web/i18n")
    return text.format(**values) if values else text


def translate_or(lang: str, key: str, fallback: str) -> str:
    """A label that may have no message (a section, purpose or topic named by data): the data's own name."""
    return catalog(lang).get(key) or catalog(DEFAULT).get(key) or fallback
