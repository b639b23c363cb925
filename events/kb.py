"""Knowledge-base (KB) events: what the knowledge base has published, for every domain that serves its articles.

``pic-kb`` announces every change of an article that an audience can see as ``es.madrid.pic.kb.article.updated.v1``:
a snapshot of the article's published versions (the one in force and any scheduled one) and its archive instant,
never a draft. A consumer (the virtual assistant) keeps the highest ``revision`` it has seen and decides what is
visible at each instant itself (``publish_at``, ``archive_at``), so a scheduled publication or archive needs no
second event and any order of delivery ends in the same state.
"""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, Field

from events.base import EventData

ARTICLE_ID_PATTERN = r"^[a-z][a-z0-9-]{1,63}$"
SLUG_PATTERN = r"^[a-z][a-z0-9-]{1,63}$"
Audience = Literal["internal", "public", "assistant"]


class ArticleText(EventData):
    """One language's text of a published version."""

    title: str = Field(min_length=1, max_length=160)
    body: str = Field(min_length=1, max_length=20_000)
    keywords: list[str] = Field(default_factory=list, max_length=60)
    stale: bool = Field(False, description="older than a change of the other language's text (being translated)")


class PublishedVersion(EventData):
    """A version that is in force or scheduled (``publish_at`` in the future)."""

    version: int = Field(ge=1)
    publish_at: AwareDatetime
    audiences: list[Audience] = Field(min_length=1)
    areas: list[str] = Field(min_length=1, max_length=20, description="the area portals that show it")
    categories: list[str] = Field(default_factory=list, max_length=20)
    source: str | None = Field(None, max_length=500, description="the official page the article rests on")
    texts: dict[Literal["es", "en"], ArticleText] = Field(min_length=1)


class ArticleUpdated(EventData):
    """An article's published state changed: a version published or scheduled, an archive done, scheduled or undone.

    ``versions`` holds the version in force at ``updated_at`` (if any) and a later scheduled one (if any); the
    article is visible to nobody from ``archive_at`` on. The highest ``revision`` wins wherever it is projected.
    """

    article_id: str = Field(pattern=ARTICLE_ID_PATTERN, examples=["padron-alta"])
    revision: int = Field(ge=1, description="the article's revision: the latest wins")
    updated_at: AwareDatetime
    archive_at: AwareDatetime | None = None
    versions: list[PublishedVersion] = Field(default_factory=list, max_length=2)
