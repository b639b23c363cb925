"""The knowledge base's seed: about forty Madrid municipal topics in Spanish and English (``data/articles.json``),
each with its source, published as version 1 so that a fresh platform, the assistant's tests and its benchmark all
start from the same articles."""

from __future__ import annotations

import json
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from functions.kb.service import Article, create, publish

SEED = Path(__file__).parent / "data" / "articles.json"


@cache
def _raw() -> tuple[dict[str, Any], ...]:
    return tuple(json.loads(SEED.read_text(encoding="utf-8"))["articles"])


def seed_articles(now: datetime, *, author: str = "seed") -> list[Article]:
    """Every seed article, validated as an editor's proposal would be and published at ``now``."""
    published = []
    for raw in _raw():
        proposed = {key: value for key, value in raw.items() if key != "id"}
        draft = create(raw["id"], proposed, author=author, now=now)
        published.append(publish(draft, expected_revision=draft.revision, now=now))
    return published
