"""Knowledge-base use cases: one function per command or question, over the domain's ports.

Every command reads the article, decides with ``service`` and stages the article one revision up (under the
revision read) in a unit of work it returns; a command that changes what an audience can see (publish, schedule,
unschedule, archive, restore) stages ``kb.article.updated`` with it, the snapshot the assistant projects. Drafts
never leave the domain. Searches are answered from an index cached per process while the catalogue's counter
stands still and no scheduled publication or archive has come due. Nothing here knows HTTP or DynamoDB.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from events.kb import ArticleText, ArticleUpdated, PublishedVersion
from functions.core.clock import Clock
from functions.core.errors import ConflictError
from functions.core.outbox import stage_event
from functions.core.store import Staged, UnitOfWork
from functions.kb import articles as seed_data
from functions.kb import service
from functions.kb.search import SearchIndex, build_index
from functions.kb.service import Article, Audience, KbStore, Language, Version

SEARCH_LIMIT = 20


class KbExistsError(ConflictError):
    slug, title = "kb-article-exists", "An article with this id exists"


@dataclass
class SearchCache:
    """Built indexes by (language, audience), valid while the catalogue's counter is ``stamp`` and until the
    first scheduled change (``until``); one per process, shared by its threads."""

    stamp: int = -1
    until: datetime | None = None
    indexes: dict[tuple[str, str], SearchIndex] = field(default_factory=dict)
    articles: dict[str, Article] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass(frozen=True)
class KbPorts:
    """Everything the use cases need from outside: built once per process by ``bootstrap``."""

    store: KbStore
    clock: Clock
    cache: SearchCache = field(default_factory=SearchCache)


# ---- the fact other domains project -------------------------------------------------------------------------------


def _text(text: service.Text, stale: bool) -> ArticleText:
    return ArticleText(title=text.title, body=text.body, keywords=list(text.keywords), stale=stale)


def _published(version: Version) -> PublishedVersion:
    assert version.publish_at is not None
    stale = version.stale()
    return PublishedVersion(
        version=version.number,
        publish_at=version.publish_at,
        audiences=sorted(version.audiences),  # type: ignore[arg-type]
        areas=list(version.areas),
        categories=list(version.categories),
        source=version.source,
        texts={lang: _text(text, lang in stale) for lang, text in version.texts.items()},
    )


def snapshot(article: Article, now: datetime) -> ArticleUpdated:
    """What the audiences may see of the article from ``now`` on: the version in force and a scheduled one."""
    in_force = service.current(article, now)
    scheduled = [v for v in article.versions if v.publish_at is not None and v.publish_at > now]
    versions = [v for v in (in_force, *scheduled[-1:]) if v is not None]
    return ArticleUpdated(
        article_id=article.id,
        revision=article.revision,
        updated_at=now,
        archive_at=article.archive_at,
        versions=[_published(v) for v in versions],
    )


def _stage(
    uow: UnitOfWork, article: Article, read: int | None, ports: KbPorts, traceparent: str | None, *, announce: bool
) -> None:
    """The article written over the revision read (``None``: a new one), with its snapshot if ``announce``."""
    ports.store.stage_article(uow, article, read)
    if announce:
        now = ports.clock.now()
        stage_event(uow, snapshot(article, now), subject=article.id, traceparent=traceparent, now=now)


# ---- editing --------------------------------------------------------------------------------------------------


def find(article_id: str, ports: KbPorts) -> Article:
    found = ports.store.fetch_article(article_id)
    if found is None:
        raise service.KbNotFoundError(f"no article {article_id!r}")
    return found


def create(article_id: str, proposed: Mapping[str, Any], author: str, ports: KbPorts) -> Staged[Article]:
    """A new article whose first version is a draft for its editors."""
    if ports.store.fetch_article(article_id) is not None:
        raise KbExistsError(f"article {article_id!r} exists: edit its draft instead")
    article = service.create(article_id, proposed, author=author, now=ports.clock.now())
    uow = UnitOfWork()
    _stage(uow, article, None, ports, None, announce=False)
    return Staged(uow, article)


Change = Callable[[Article, datetime], Article]


def change(article_id: str, act: Change, ports: KbPorts, traceparent: str | None, *, announce: bool) -> Staged[Article]:
    """Read the article, apply ``act`` (which checks the editor's revision), stage it one revision up."""
    read = find(article_id, ports)
    article = act(read, ports.clock.now())
    uow = UnitOfWork()
    _stage(uow, article, read.revision, ports, traceparent, announce=announce)
    return Staged(uow, article)


def edit(article_id: str, proposed: Mapping[str, Any], revision: int, author: str, ports: KbPorts) -> Staged[Article]:
    def act(article: Article, now: datetime) -> Article:
        return service.edit(article, proposed, expected_revision=revision, author=author, now=now)

    return change(article_id, act, ports, None, announce=False)


def publish(article_id: str, revision: int, at: datetime | None, ports: KbPorts, tp: str | None) -> Staged[Article]:
    def act(article: Article, now: datetime) -> Article:
        return service.publish(article, expected_revision=revision, now=now, at=at)

    return change(article_id, act, ports, tp, announce=True)


def unschedule(article_id: str, revision: int, ports: KbPorts, tp: str | None) -> Staged[Article]:
    def act(article: Article, now: datetime) -> Article:
        return service.unschedule(article, expected_revision=revision, now=now)

    return change(article_id, act, ports, tp, announce=True)


def archive(article_id: str, revision: int, at: datetime | None, ports: KbPorts, tp: str | None) -> Staged[Article]:
    def act(article: Article, now: datetime) -> Article:
        return service.archive(article, expected_revision=revision, now=now, at=at)

    return change(article_id, act, ports, tp, announce=True)


def restore(article_id: str, revision: int, ports: KbPorts, tp: str | None) -> Staged[Article]:
    def act(article: Article, now: datetime) -> Article:
        return service.restore(article, expected_revision=revision)

    return change(article_id, act, ports, tp, announce=True)


@dataclass(frozen=True)
class ProposeFromCase:
    case_id: str
    area: str
    category: str
    subject: str
    resolution: str
    language: Language
    author: str


def propose_from_case(cmd: ProposeFromCase, ports: KbPorts) -> Staged[tuple[Article, bool]]:
    """A draft for the editors from a solved case's resolution (redacted, internal, never published by this); the
    same case proposed again answers the draft it made."""
    draft = service.draft_from_case(
        case_id=cmd.case_id, area=cmd.area, category=cmd.category, subject=cmd.subject,
        resolution=cmd.resolution, language=cmd.language, author=cmd.author, now=ports.clock.now(),
    )  # fmt: skip
    existing = ports.store.fetch_article(draft.id)
    if existing is not None:
        if existing.versions[0].from_case != cmd.case_id:
            raise KbExistsError(f"article {draft.id!r} exists and was not proposed from case {cmd.case_id}")
        return Staged(UnitOfWork(), (existing, False))
    uow = UnitOfWork()
    _stage(uow, draft, None, ports, None, announce=False)
    return Staged(uow, (draft, True))


def seed_one(article: Article, ports: KbPorts, traceparent: str | None = None) -> Staged[bool]:
    """A shipped article (``data/articles.json``, published) if the store lacks it; nothing if it has it (an
    editor's changes stand). Run at every start: a lost race with another starter is run again and finds it."""
    uow = UnitOfWork()
    if ports.store.fetch_article(article.id) is not None:
        return Staged(uow, False)
    _stage(uow, article, None, ports, traceparent, announce=True)
    return Staged(uow, True)


def shipped(ports: KbPorts) -> list[Article]:
    """The shipped articles, published now."""
    return seed_data.seed_articles(ports.clock.now())


# ---- "was this useful" ----------------------------------------------------------------------------------------


def vote_key(voter: str, article_id: str, version: int, language: Language) -> str:
    return hashlib.sha256(f"{voter}\x00{article_id}\x00{version}\x00{language}".encode()).hexdigest()


@dataclass(frozen=True)
class Counted:
    tally: service.FeedbackTally
    counted: bool  # False: this person had already answered for this version and language


def give_feedback(
    article_id: str, version: int, language: Language, useful: bool, voter: str, ports: KbPorts
) -> Staged[Counted]:
    """One more answer to "was this useful", once per person, version and language."""
    article = find(article_id, ports)
    tally = ports.store.fetch_feedback(article_id, version, language) or service.feedback_for(
        article, version, language, ports.clock.now()
    )
    vote = vote_key(voter, article_id, version, language)
    if ports.store.fetch_vote(vote):
        return Staged(UnitOfWork(), Counted(tally, counted=False))
    counted = service.count_feedback(tally, useful)
    uow = UnitOfWork()
    ports.store.stage_vote(uow, vote)
    ports.store.stage_feedback(uow, counted)
    return Staged(uow, Counted(counted, counted=True))


def feedback_of(article: Article, ports: KbPorts) -> list[dict[str, Any]]:
    """The tallies of every published version in each of its languages (for the editor)."""
    found = []
    now = ports.clock.now()
    for version in article.versions:
        if version.publish_at is None or version.publish_at > now:
            continue
        for lang in sorted(version.texts):
            tally = ports.store.fetch_feedback(article.id, version.number, lang)
            if tally is not None:
                found.append({"version": version.number, "language": lang, "useful": tally.useful,
                              "not_useful": tally.not_useful, "share_useful": tally.share_useful})  # fmt: skip
    return found


# ---- searching ------------------------------------------------------------------------------------------------


def _next_change(articles: Mapping[str, Article], now: datetime) -> datetime | None:
    """The first instant after ``now`` at which a scheduled publication or archive changes what is visible."""
    instants = [v.publish_at for a in articles.values() for v in a.versions if v.publish_at and v.publish_at > now]
    instants += [a.archive_at for a in articles.values() if a.archive_at and a.archive_at > now]
    return min(instants, default=None)


def _index(language: Language, audience: Audience, ports: KbPorts) -> tuple[SearchIndex, dict[str, Article]]:
    """The cached index, rebuilt when the catalogue moved (one GetItem tells) or a scheduled change came due."""
    cache, now = ports.cache, ports.clock.now()
    stamp = ports.store.fetch_stamp()
    with cache.lock:
        if stamp != cache.stamp or (cache.until is not None and now >= cache.until):
            articles = {a.id: a for a in ports.store.fetch_catalogue().articles}
            cache.stamp, cache.articles, cache.indexes = stamp, articles, {}
            cache.until = _next_change(articles, now)
        key = (language, audience)
        if key not in cache.indexes:
            cache.indexes[key] = build_index(cache.articles.values(), language=language, audience=audience, at=now)
        return cache.indexes[key], cache.articles


def search(
    query: str, language: Language, audience: Audience, ports: KbPorts, *, area: str | None = None,
    limit: int = SEARCH_LIMIT,
) -> list[dict[str, Any]]:  # fmt: skip
    """The articles ``audience`` sees now that best answer ``query`` (in ``area``'s portal if named), best first."""
    index, articles = _index(language, audience, ports)
    now = ports.clock.now()
    found = []
    for hit in index.search(query, k=limit * 3 if area else limit):
        article = articles[hit.article_id]
        version = service.visible(article, audience, now, area=area)
        if version is None:
            continue
        view = service.view(article, version, language, now)
        shown = {k: view[k] for k in ("id", "version", "language", "title", "areas", "categories", "stale")}
        found.append({**shown, "excerpt": _excerpt(view["body"]), "score": round(hit.score, 4)})
        if len(found) == limit:
            break
    return found


def _excerpt(body: str, length: int = 240) -> str:
    return body if len(body) <= length else body[: body.rfind(" ", 0, length)] + " …"


# ---- reading --------------------------------------------------------------------------------------------------


def public_view(article_id: str, language: Language, area: str | None, ports: KbPorts) -> dict[str, Any]:
    """The version the public sees now (``KbNotFoundError`` for a draft, an internal or an archived article)."""
    article = find(article_id, ports)
    now = ports.clock.now()
    version = service.visible(article, "public", now, area=area)
    if version is None:
        raise service.KbNotFoundError(f"no public article {article_id!r}")
    return service.view(article, version, language, now)


def editor_view(article: Article, ports: KbPorts) -> dict[str, Any]:
    """Everything an editor needs: the versions and their states, the latest side by side, the feedback."""
    now = ports.clock.now()
    latest = article.latest
    return {
        "id": article.id,
        "revision": article.revision,
        "archive_at": article.archive_at.isoformat() if article.archive_at else None,
        "state": service.state_of(article, latest.number, now),
        "areas": list(latest.areas),
        "audiences": sorted(latest.audiences),
        "categories": list(latest.categories),
        "source": latest.source,
        "from_case": article.versions[0].from_case,
        "versions": [_version_row(article, v, now) for v in article.versions],
        "latest": service.side_by_side(latest),
        "feedback": feedback_of(article, ports),
    }


def _version_row(article: Article, version: Version, now: datetime) -> dict[str, Any]:
    return {
        "version": version.number,
        "state": service.state_of(article, version.number, now),
        "author": version.author,
        "created_at": version.created_at.isoformat(),
        "published_at": version.publish_at.isoformat() if version.publish_at else None,
        "from_case": version.from_case,
    }


def version_view(article_id: str, number: int, language: Language, ports: KbPorts) -> dict[str, Any]:
    """Any version ever published (agents read the history), in a language."""
    article = find(article_id, ports)
    now = ports.clock.now()
    version = service.readable_by_agent(article, number, now)
    return {**service.view(article, version, language, now), "side_by_side": service.side_by_side(version)}


def listing(ports: KbPorts, *, state: str | None = None, stale: bool | None = None) -> list[dict[str, Any]]:
    """Every article for the editors' list: its latest version's state, title and stale languages."""
    now = ports.clock.now()
    rows = []
    for article in ports.store.fetch_catalogue().articles:
        latest = article.latest
        row = {
            "id": article.id,
            "revision": article.revision,
            "version": latest.number,
            "state": service.state_of(article, latest.number, now),
            "title": latest.texts["es"].title if "es" in latest.texts else next(iter(latest.texts.values())).title,
            "areas": list(latest.areas),
            "audiences": sorted(latest.audiences),
            "stale": sorted(latest.stale()),
            "from_case": article.versions[0].from_case,
        }
        if state is not None and row["state"] != state:
            continue
        if stale is not None and bool(row["stale"]) != stale:
            continue
        rows.append(row)
    return rows
