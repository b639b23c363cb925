"""What the assistant knows: its projection of the knowledge base's ``kb.article.updated`` snapshots, and the
documents it answers from at an instant.

The knowledge base announces each article as a snapshot (the version in force, a scheduled one, the archive
instant) with a ``revision``: the highest revision wins, whatever the order of delivery, and a redelivered or older
snapshot changes nothing. Visibility is decided here at each instant, from ``publish_at`` and ``archive_at``, so a
scheduled publication or archive needs no second event: at ``now`` the version in force is the latest one published
by then, none once archived, and the assistant sees it only when its audiences include ``public`` or ``assistant``
(``internal`` articles are for agents). No store and no model here: they come in as ports.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

import numpy as np

from events.kb import ArticleUpdated, PublishedVersion
from functions.assistant.retrieval import (
    Embedder,
    HybridRetriever,
    VectorKey,
    cached_vector,
    embed_documents,
    preload_vectors,
    vector_key,
)
from functions.assistant.service import Retriever
from functions.core.textsearch import Document, Language, SearchIndex

if TYPE_CHECKING:  # the port names the kernel's unit of work; this module stays free of its adapters
    from functions.core.store import UnitOfWork

AUDIENCES = frozenset({"public", "assistant"})  # what the assistant may tell anyone who asks
LANGUAGES: tuple[Language, ...] = ("es", "en")


def newer(incoming: ArticleUpdated, current: ArticleUpdated | None) -> bool:
    """Whether ``incoming`` replaces what is projected: only a higher revision does."""
    return current is None or incoming.revision > current.revision


def in_force(article: ArticleUpdated, at: datetime) -> PublishedVersion | None:
    """The version in force at ``at``: the latest published by then, none once the article is archived."""
    if article.archive_at is not None and article.archive_at <= at:
        return None
    published = [v for v in article.versions if v.publish_at <= at]
    return max(published, key=lambda v: v.version) if published else None


def visible(article: ArticleUpdated, at: datetime) -> PublishedVersion | None:
    """What the assistant may answer from at ``at`` (audiences public or assistant), or ``None``."""
    version = in_force(article, at)
    if version is None or not AUDIENCES.intersection(version.audiences):
        return None
    return version


def next_change(articles: Iterable[ArticleUpdated], at: datetime) -> datetime | None:
    """The next instant after ``at`` at which what is visible changes by itself (a scheduled publication or
    archive): an index built at ``at`` is good until then."""
    instants = [
        instant
        for article in articles
        for instant in (article.archive_at, *(v.publish_at for v in article.versions))
        if instant is not None and instant > at
    ]
    return min(instants, default=None)


def documents(articles: Iterable[ArticleUpdated], language: Language, at: datetime) -> list[Document]:
    """The visible versions in ``language`` (or in the other language where an article lacks it), as the
    kernel's search indexes them."""
    found = []
    for article in sorted(articles, key=lambda a: a.article_id):
        version = visible(article, at)
        if version is None:
            continue
        shown: Language = language if language in version.texts else ("en" if language == "es" else "es")
        text = version.texts[shown]
        found.append(Document(article.article_id, version.version, shown, text.title, text.body, tuple(text.keywords)))
    return found


@dataclass(frozen=True)
class Cited:
    """An article as a reply cites it: its words in the reply's language and where to read more."""

    article_id: str
    version: int
    language: Language
    title: str
    body: str
    source: str | None  # the official page the article rests on

    @property
    def link(self) -> str:
        """The knowledge base's public address of the article (``GET /v1/kb/public/articles/{id}``: no token)."""
        return f"/v1/kb/public/articles/{self.article_id}"

    def as_json(self) -> dict[str, object]:
        return {
            "article_id": self.article_id,
            "version": self.version,
            "language": self.language,
            "title": self.title,
            "body": self.body,
            "source": self.source,
            "link": self.link,
        }


def cite(article: ArticleUpdated, language: Language, at: datetime) -> Cited | None:
    """The article as a reply shows it at ``at``, or ``None`` when it is no longer visible."""
    version = visible(article, at)
    if version is None:
        return None
    shown: Language = language if language in version.texts else ("en" if language == "es" else "es")
    text = version.texts[shown]
    return Cited(article.article_id, version.version, shown, text.title, text.body, version.source)


# ---- the projection's port, and the retriever built from it -------------------------------------------------------

Vectors = dict[VectorKey, np.ndarray]


class KnowledgeStore(Protocol):
    """The assistant's projection of the knowledge base, in its own table."""

    def fetch_article(self, article_id: str) -> tuple[ArticleUpdated, Vectors] | None: ...
    def fetch_articles(self) -> list[tuple[ArticleUpdated, Vectors]]: ...
    def fetch_catalog_revision(self) -> int:
        """A counter every projected change moves: the retriever is rebuilt when it has moved."""
        ...

    def stage_article(
        self, uow: UnitOfWork, article: ArticleUpdated, vectors: Vectors, expected: int | None
    ) -> None: ...


def passages(article: ArticleUpdated) -> list[Document]:
    """Every text of every version the snapshot holds (in force or scheduled), as they will be indexed."""
    return [
        Document(article.article_id, v.version, language, text.title, text.body, tuple(text.keywords))
        for v in article.versions
        for language, text in sorted(v.texts.items())
    ]


def vectors_for(article: ArticleUpdated, kept: Vectors, embedder: Embedder | None) -> Vectors:
    """The snapshot's vectors: those already embedded for the same texts are kept, the others embedded now (on
    projection, once, so that no answer and no cold start pays for them)."""
    docs = passages(article)
    if embedder is None or not docs:
        return {}
    preload_vectors({key: vector for key, vector in kept.items() if key in {vector_key(d) for d in docs}})
    embed_documents(docs, embedder)
    return {vector_key(doc): vector for doc in docs for vector in [cached_vector(doc)] if vector is not None}


@dataclass(frozen=True)
class KnowledgeView:
    """What the assistant answers from at an instant: the retriever and the articles it ranks."""

    retriever: Retriever
    articles: dict[str, ArticleUpdated]


class ProjectedKnowledge:
    """The retriever over the projection, rebuilt only when the projection moved (one read of a counter per
    message) or a scheduled publication or archive fell due; the vectors come from the store, so a cold start
    embeds nothing. Thread-safe: a gateway worker serves many requests at once."""

    def __init__(self, store: KnowledgeStore, embedder: Callable[[], Embedder] | None) -> None:
        self._store = store
        self._embedder = embedder
        self._lock = threading.Lock()
        self._built: tuple[int, datetime | None, KnowledgeView] | None = None

    def at(self, now: datetime) -> KnowledgeView:
        revision = self._store.fetch_catalog_revision()
        with self._lock:
            built = self._built
            if built is not None and built[0] == revision and (built[1] is None or now < built[1]):
                return built[2]
            stored = self._store.fetch_articles()
            articles = {article.article_id: article for article, _ in stored}
            for _, vectors in stored:
                preload_vectors(vectors)
            lexical = {lang: SearchIndex(documents(articles.values(), lang, now), lang) for lang in LANGUAGES}
            embedder = self._embedder() if self._embedder is not None else None
            view = KnowledgeView(HybridRetriever.build(lexical, embedder=embedder), articles)
            self._built = (revision, next_change(articles.values(), now), view)
            return view
