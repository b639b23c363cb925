"""Knowledge base (KB), pure logic: articles with immutable versions, their two languages side by side with a
warning when one changed after the other, who sees what at an instant, drafts proposed from solved cases and the
"was this useful" tally.

An article (``Article``) is a list of versions. Editing writes a draft (the next number; a draft is edited in
place until it is published); publishing stamps it with the instant it becomes visible (now: published; later:
scheduled). A published version never changes again: the next edit is a new draft, and agents can still read every
version that was ever published. The article as a whole may be archived at an instant (now or scheduled). Every
command names the ``revision`` it read (optimistic versioning): an edit over a stale read is refused, never merged.

Each language's text records the version in which it last changed (``text_version``) and the version of the other
language's text it was last aligned with (``aligned_with``): a translation is stale when the other language changed
after that (Spanish after English, or English after Spanish). An editor who translates or checks a text says so
(``translated_from``), which aligns the pair again.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal, Protocol, Self, get_args

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic import ValidationError as PydanticValidationError

from functions.core.errors import ConflictError, NotFoundError, ValidationError, each_error

if TYPE_CHECKING:  # the port names the kernel's unit of work; this module stays free of its adapters
    from functions.core.store import UnitOfWork

Language = Literal["es", "en"]
Audience = Literal["internal", "public", "assistant"]
State = Literal["draft", "scheduled", "published", "superseded", "archived"]
LANGUAGES: tuple[Language, ...] = get_args(Language)
AUDIENCES: frozenset[str] = frozenset(get_args(Audience))
SLUG = r"^[a-z][a-z0-9-]{1,63}$"
Slug = Annotated[str, Field(pattern=SLUG)]
Keyword = Annotated[str, Field(min_length=2, max_length=60)]


class KbNotFoundError(NotFoundError):
    slug, title = "not-found", "No such knowledge-base article or version"


class KbConflictError(ConflictError):
    """An edit based on a revision that is no longer the article's: the editor must reload and redo it (never a
    silent merge, and not a lost race the kernel retries)."""

    slug, title = "kb-stale-edit", "The article changed since it was read"


class KbStateError(ConflictError):
    """A command the article's state does not allow (publishing without a draft, unscheduling a published one)."""

    slug, title = "kb-wrong-state", "The article is not in a state that allows this"


class KbInvalidError(ValidationError):
    """A proposed article with every error named (``errors``: field, message, code)."""


def other(language: Language) -> Language:
    return "en" if language == "es" else "es"


# ---- what an editor proposes: validated whole, every error named --------------------------------------------------


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TranslationInput(_Data):
    title: str = Field(min_length=3, max_length=160)
    body: str = Field(min_length=20, max_length=20_000)
    keywords: tuple[Keyword, ...] = Field(default=(), max_length=60)
    translated_from: int | None = Field(
        None, ge=1, description="the version of the other language's text this one was translated from or checked"
    )


class ArticleInput(_Data):
    """An article's content as an editor proposes it (the same for a new article and for an edit)."""

    areas: tuple[Slug, ...] = Field(min_length=1, max_length=20, description="the area portals that show it")
    audiences: frozenset[Audience] = Field(min_length=1)
    categories: tuple[Slug, ...] = Field(default=(), max_length=20)
    translations: dict[Language, TranslationInput] = Field(min_length=1)
    source: str | None = Field(None, pattern=r"^https://[^\s]+$", max_length=500)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        problems = []
        if "es" not in self.translations:
            problems.append("translations.es: Spanish is the official text and is required")
        problems += [
            f"translations.{lang}.translated_from: there is no {other(lang)} text to translate from"
            for lang, text in sorted(self.translations.items())
            if text.translated_from is not None and other(lang) not in self.translations
        ]
        if len(set(self.areas)) != len(self.areas):
            problems.append("areas: an area is named twice")
        if problems:
            raise ValueError("; ".join(problems))
        return self


def validated(proposed: Mapping[str, Any]) -> ArticleInput:
    """The proposal as an ``ArticleInput``, or ``KbInvalidError`` naming every error and where it is."""
    try:
        return ArticleInput.model_validate(proposed)
    except PydanticValidationError as exc:
        raise KbInvalidError("the article is not valid", errors=each_error(exc)) from exc


# ---- what is stored ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Text:
    """One language's text in a version."""

    title: str
    body: str
    keywords: tuple[str, ...]
    text_version: int  # the article version in which this text last changed
    aligned_with: int | None  # the other language's text_version it was last translated from or checked against

    def same_words(self, proposed: TranslationInput) -> bool:
        return (self.title, self.body, self.keywords) == (proposed.title, proposed.body, proposed.keywords)


@dataclass(frozen=True)
class Version:
    """One version of an article; once published (``publish_at`` set and passed) it never changes."""

    number: int
    areas: tuple[str, ...]
    audiences: frozenset[str]
    categories: tuple[str, ...]
    texts: Mapping[Language, Text]
    source: str | None
    author: str
    created_at: datetime
    publish_at: datetime | None = None  # None: a draft
    from_case: str | None = None  # the solved case it was proposed from

    def text(self, language: Language) -> Text | None:
        return self.texts.get(language)

    def stale(self) -> frozenset[Language]:
        """The languages whose text is older than a change of the other language's text."""
        return frozenset(lang for lang in self.texts if _stale(self.texts[lang], self.texts.get(other(lang))))


def _stale(text: Text, counterpart: Text | None) -> bool:
    if counterpart is None:
        return False
    return counterpart.text_version > (text.aligned_with or 0)


@dataclass(frozen=True)
class Article:
    id: str
    revision: int  # bumped by every change: the token an editor's command names (optimistic versioning)
    versions: tuple[Version, ...]  # ascending; only the last may be a draft or scheduled
    archive_at: datetime | None = None

    def version(self, number: int) -> Version:
        for found in self.versions:
            if found.number == number:
                return found
        raise KbNotFoundError(f"article {self.id!r} has no version {number}")

    @property
    def latest(self) -> Version:
        return self.versions[-1]

    def draft(self) -> Version | None:
        return self.latest if self.latest.publish_at is None else None


# ---- commands: each returns the article as it is to be stored ------------------------------------------------------


def create(
    article_id: str, proposed: Mapping[str, Any], *, author: str, now: datetime, from_case: str | None = None
) -> Article:
    """A new article whose first version is a draft (nothing is published by creating)."""
    if not re.fullmatch(SLUG, article_id):
        raise KbInvalidError(
            "the article is not valid",
            errors=[{"field": "id", "message": "a slug: a-z, 0-9 and -, 2 to 64 characters", "code": "pattern"}],
        )
    content = validated(proposed)
    texts = _texts(content, base=None, number=1)
    first = _version(content, texts, number=1, author=author, now=now, from_case=from_case)
    return Article(id=article_id, revision=1, versions=(first,))


def edit(
    article: Article, proposed: Mapping[str, Any], *, expected_revision: int, author: str, now: datetime
) -> Article:
    """The article with its draft replaced by (or, after a published version, a new draft made of) the proposal."""
    _check_revision(article, expected_revision)
    content = validated(proposed)
    draft = article.draft()
    number = draft.number if draft else article.latest.number + 1
    texts = _texts(content, base=article.latest, number=number)
    from_case = draft.from_case if draft else None
    new = _version(content, texts, number=number, author=author, now=now, from_case=from_case)
    kept = article.versions[:-1] if draft else article.versions
    return replace(article, revision=article.revision + 1, versions=(*kept, new))


def publish(article: Article, *, expected_revision: int, now: datetime, at: datetime | None = None) -> Article:
    """The draft published now, or scheduled for ``at`` (in the future)."""
    _check_revision(article, expected_revision)
    draft = article.draft()
    if draft is None:
        raise KbStateError(f"article {article.id!r} has no draft to publish")
    when = at or now
    if when < now:
        raise KbInvalidError(
            "a version cannot be published in the past",
            errors=[{"field": "publish_at", "message": "must not be before now", "code": "past"}],
        )
    published = replace(draft, publish_at=when)
    return replace(article, revision=article.revision + 1, versions=(*article.versions[:-1], published))


def unschedule(article: Article, *, expected_revision: int, now: datetime) -> Article:
    """A scheduled version back to a draft, before its instant comes."""
    _check_revision(article, expected_revision)
    latest = article.latest
    if latest.publish_at is None or latest.publish_at <= now:
        raise KbStateError(f"article {article.id!r} has no scheduled version")
    back = replace(latest, publish_at=None)
    return replace(article, revision=article.revision + 1, versions=(*article.versions[:-1], back))


def archive(article: Article, *, expected_revision: int, now: datetime, at: datetime | None = None) -> Article:
    """The article withdrawn from every audience now, or at ``at``; its versions stay readable by agents."""
    _check_revision(article, expected_revision)
    when = at or now
    if when < now:
        raise KbInvalidError(
            "an article cannot be archived in the past",
            errors=[{"field": "archive_at", "message": "must not be before now", "code": "past"}],
        )
    return replace(article, revision=article.revision + 1, archive_at=when)


def restore(article: Article, *, expected_revision: int) -> Article:
    """Cancel an archive (done or scheduled)."""
    _check_revision(article, expected_revision)
    if article.archive_at is None:
        raise KbStateError(f"article {article.id!r} is not archived")
    return replace(article, revision=article.revision + 1, archive_at=None)


def _check_revision(article: Article, expected: int) -> None:
    if article.revision != expected:
        raise KbConflictError(
            f"article {article.id!r} is at revision {article.revision}, not {expected}: reload it and redo the change",
            current_revision=article.revision,
        )


def _version(
    content: ArticleInput,
    texts: dict[Language, Text],
    *,
    number: int,
    author: str,
    now: datetime,
    from_case: str | None,
) -> Version:
    return Version(
        number=number,
        areas=content.areas,
        audiences=frozenset(content.audiences),
        categories=content.categories,
        texts=texts,
        source=content.source,
        author=author,
        created_at=now,
        from_case=from_case,
    )


def _texts(content: ArticleInput, base: Version | None, number: int) -> dict[Language, Text]:
    """Each language's text with the version it last changed in, then aligned as the editor declared."""
    proposed = content.translations
    changed = {lang for lang in proposed if base is None or not _unchanged(base.text(lang), proposed[lang])}
    texts: dict[Language, Text] = {}
    for lang, wanted in proposed.items():
        before = base.text(lang) if base else None
        version = number if lang in changed or before is None else before.text_version
        texts[lang] = Text(wanted.title, wanted.body, wanted.keywords, version, before.aligned_with if before else None)
    for lang, text in list(texts.items()):
        texts[lang] = _aligned(lang, text, texts, proposed, changed)
    for lang, wanted in proposed.items():  # a declared translation of the other's current text aligns the pair
        counterpart = texts.get(other(lang))
        if counterpart and wanted.translated_from == counterpart.text_version:
            texts[other(lang)] = replace(counterpart, aligned_with=texts[lang].text_version)
    return texts


def _unchanged(before: Text | None, proposed: TranslationInput) -> bool:
    return before is not None and before.same_words(proposed)


def _aligned(
    lang: Language,
    text: Text,
    texts: Mapping[Language, Text],
    proposed: Mapping[Language, TranslationInput],
    changed: set[Language],
) -> Text:
    counterpart = texts.get(other(lang))
    if counterpart is None:
        return replace(text, aligned_with=None)
    declared = proposed[lang].translated_from
    if declared is not None:
        if declared > counterpart.text_version:
            raise KbInvalidError(
                "a translation names a version that does not exist",
                errors=[
                    {
                        "field": f"translations.{lang}.translated_from",
                        "message": f"the {other(lang)} text is at version {counterpart.text_version}",
                        "code": "unknown-version",
                    }
                ],
            )
        return replace(text, aligned_with=declared)
    if lang in changed:  # written now, beside the other text as it stands (both written together are aligned)
        return replace(text, aligned_with=counterpart.text_version)
    return text


# ---- reading: what is visible to whom at an instant ----------------------------------------------------------------


def state_of(article: Article, number: int, at: datetime) -> State:
    """A version's state at ``at``."""
    found = article.version(number)
    if found.publish_at is None:
        return "draft"
    if found.publish_at > at:
        return "scheduled"
    if article.archive_at is not None and article.archive_at <= at:
        return "archived"
    current = _current(article, at)
    return "published" if current is not None and current.number == number else "superseded"


def _current(article: Article, at: datetime) -> Version | None:
    live = [v for v in article.versions if v.publish_at is not None and v.publish_at <= at]
    return live[-1] if live else None


def current(article: Article, at: datetime) -> Version | None:
    """The version in force at ``at`` (the latest one published by then), none once the article is archived."""
    if article.archive_at is not None and article.archive_at <= at:
        return None
    return _current(article, at)


def visible(article: Article, audience: Audience, at: datetime, *, area: str | None = None) -> Version | None:
    """What ``audience`` sees of the article at ``at`` (in ``area``'s portal, if named), or ``None``."""
    found = current(article, at)
    if found is None or audience not in found.audiences:
        return None
    if area is not None and area not in found.areas:
        return None
    return found


def readable_by_agent(article: Article, number: int, at: datetime) -> Version:
    """Any version that was ever published (superseded and archived included): agents read the history."""
    found = article.version(number)
    if found.publish_at is None or found.publish_at > at:
        raise KbNotFoundError(f"version {number} of article {article.id!r} was never published")
    return found


def side_by_side(version: Version) -> dict[str, Any]:
    """Both languages of a version for the editor's screen, each with its version and a stale flag."""
    stale = version.stale()
    languages: dict[str, Any] = {}
    for lang in LANGUAGES:
        text = version.text(lang)
        if text is None:
            languages[lang] = {"missing": True, "stale": False}
            continue
        languages[lang] = {
            "missing": False,
            "title": text.title,
            "body": text.body,
            "keywords": list(text.keywords),
            "text_version": text.text_version,
            "aligned_with": text.aligned_with,
            "stale": lang in stale,
        }
    return {"version": version.number, "languages": languages, "warnings": _warnings(stale)}


def _warnings(stale: frozenset[Language]) -> list[str]:
    names = {"es": "Spanish", "en": "English"}
    return [f"the {names[lang]} text is older than the {names[other(lang)]} text: check it" for lang in sorted(stale)]


def view(article: Article, version: Version, language: Language, at: datetime) -> dict[str, Any]:
    """The API's representation of one version in one language (the other language if it lacks this one)."""
    shown: Language = language if version.text(language) else other(language)
    text = version.texts[shown]
    return {
        "id": article.id,
        "version": version.number,
        "state": state_of(article, version.number, at),
        "language": shown,
        "title": text.title,
        "body": text.body,
        "keywords": list(text.keywords),
        "areas": list(version.areas),
        "categories": list(version.categories),
        "audiences": sorted(version.audiences),
        "source": version.source,
        "stale": shown in version.stale(),
        "published_at": version.publish_at.isoformat() if version.publish_at else None,
    }


# ---- drafts proposed from solved cases ----------------------------------------------------------------------------

_PERSONAL = (
    (re.compile(r"\b[XYZxyz]?\d{7,8}[-\s]?[A-Za-z]\b"), "[documento]"),  # DNI / NIE
    (re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+"), "[correo]"),
    (re.compile(r"(?<!\d)(\+34[\s-]?)?[6789](\d[\s-]?){8}(?!\d)"), "[teléfono]"),
    (re.compile(r"\bES\d{2}[\s\d]{20,30}\b"), "[IBAN]"),
)


def redact(text: str) -> str:
    """The resolution without the identifiers a case carries (DNI/NIE, e-mail, phone, IBAN): a draft is read by
    editors and may be published, a case's personal data may not."""
    for pattern, mark in _PERSONAL:
        text = pattern.sub(mark, text)
    return text


def draft_from_case(
    *,
    case_id: str,
    area: str,
    category: str,
    subject: str,
    resolution: str,
    language: Language = "es",
    author: str,
    now: datetime,
) -> Article:
    """A draft article proposed from a solved case's resolution, for an editor (never published by this; visible
    to agents only until an editor decides), marked with the case it came from."""
    title = redact(subject.strip())[:160]
    body = redact(resolution.strip())
    article_id = _slug(f"{category}-{case_id}")
    proposed = {
        "areas": [area],
        "audiences": ["internal"],
        "categories": [category],
        "translations": {language: {"title": title, "body": body}},
    }
    if language != "es":  # the official text is Spanish: the editor translates; until then the same words stand
        proposed["translations"] = {"es": {"title": title, "body": body}, language: {"title": title, "body": body}}
    return create(article_id, proposed, author=author, now=now, from_case=case_id)


def _slug(text: str) -> str:
    cleaned = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    cleaned = cleaned if cleaned[:1].isalpha() else f"a-{cleaned}"
    return cleaned[:64].rstrip("-")


# ---- "was this useful" ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FeedbackTally:
    """Answers to "was this useful" for one version of an article in one language."""

    article_id: str
    version: int
    language: Language
    useful: int = 0
    not_useful: int = 0
    revision: int = 0  # bumped by each count (the store's condition)

    @property
    def share_useful(self) -> float | None:
        total = self.useful + self.not_useful
        return self.useful / total if total else None


def count_feedback(tally: FeedbackTally, useful: bool) -> FeedbackTally:
    """The tally with one more answer."""
    if useful:
        return replace(tally, useful=tally.useful + 1, revision=tally.revision + 1)
    return replace(tally, not_useful=tally.not_useful + 1, revision=tally.revision + 1)


def feedback_for(article: Article, number: int, language: Language, at: datetime) -> FeedbackTally:
    """An empty tally for a version a citizen could have read (``KbNotFoundError`` otherwise)."""
    found = readable_by_agent(article, number, at)
    if found.text(language) is None:
        raise KbNotFoundError(f"version {number} of article {article.id!r} has no {language} text")
    return FeedbackTally(article.id, number, language)


# ---- the domain's port ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Catalogue:
    """Every article, for building search indexes (a few thousand at most: one read, rebuilt cheaply)."""

    articles: tuple[Article, ...] = field(default_factory=tuple)


class KbStore(Protocol):
    """What the knowledge base reads and stages (a DynamoDB adapter in production; an in-memory fake in tests)."""

    def fetch_article(self, article_id: str) -> Article | None: ...
    def fetch_catalogue(self) -> Catalogue:
        """Every article that has a published or scheduled version (the search indexes are built from it)."""
        ...

    def fetch_stamp(self) -> int:
        """A counter every write of an article moves: a cached search index is current while it stands still."""
        ...

    def fetch_feedback(self, article_id: str, version: int, language: Language) -> FeedbackTally | None: ...
    def fetch_vote(self, vote: str) -> bool:
        """Whether this vote (a hash of who answered for which version and language) was counted."""
        ...

    def stage_article(self, uow: UnitOfWork, article: Article, read_revision: int | None) -> None:
        """Write the article if the stored one is still at ``read_revision`` (``None``: absent), else the commit
        loses the race."""
        ...

    def stage_feedback(self, uow: UnitOfWork, tally: FeedbackTally) -> None:
        """Write the tally if the stored one is still at ``tally.revision - 1``."""
        ...

    def stage_vote(self, uow: UnitOfWork, vote: str) -> None:
        """Record the vote if it is not there yet (else the commit loses the race)."""
        ...
