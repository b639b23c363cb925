"""Knowledge-base search in Spanish and English: BM25 over the articles an audience sees at an instant, one index per
language and audience, rebuilt from the catalogue in milliseconds. The words (folding, stop words, stems, typo
correction) and the index are the kernel's (``functions/core/textsearch.py``); which version of which article an
audience sees is the knowledge base's.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from functions.core.textsearch import Document, Hit, SearchIndex, fold, stems, words
from functions.kb.service import Article, Audience, Language, other, visible

__all__ = ["Document", "Hit", "SearchIndex", "build_index", "documents", "fold", "stems", "words"]


def documents(articles: Iterable[Article], *, language: Language, audience: Audience, at: datetime) -> list[Document]:
    """The versions ``audience`` sees at ``at``, in ``language`` (or in the other language if an article lacks it)."""
    found = []
    for article in articles:
        version = visible(article, audience, at)
        if version is None:
            continue
        shown: Language = language if version.text(language) else other(language)
        text = version.texts[shown]
        found.append(Document(article.id, version.number, shown, text.title, text.body, text.keywords))
    return found


def build_index(articles: Iterable[Article], *, language: Language, audience: Audience, at: datetime) -> SearchIndex:
    """The index of what ``audience`` sees at ``at`` in ``language``: rebuild it when the catalogue changes."""
    return SearchIndex(documents(articles, language=language, audience=audience, at=at), language)
