"""Knowledge-base storage: one DynamoDB table ``kb``, keyed by ``id``, with four item kinds.

- ``id=article#<id>`` (``KbItem``): one article with every version as JSON, written whole under the revision read
  (``revision``), so two editors saving at once cannot both win.
- ``id=catalogue``: the articles' ids (a string set) and a counter bumped by every write of an article, both in the
  same unit of work; a search asks it (one strongly consistent GetItem) and rebuilds its cached index only when the
  counter moved, reading the articles by BatchGetItem (an index would be eventually consistent: a search could
  cache a catalogue without the article just written). A few thousand ids fit the item's 400 KB many times.
- ``id=feedback#<article>#v<N>#<lang>``: the "was this useful" tally of one version in one language, written under
  its revision (two answers at once: one is retried, neither lost).
- ``id=vote#<sha256>``: that someone answered for that version and language (the hash of who and what, never the
  person's id in clear), so one person is counted once.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UnicodeSetAttribute
from pynamodb.expressions.update import Action

from functions.core.store import StoreModel, UnitOfWork, defines_table, from_iso, model_meta, to_iso
from functions.kb.service import Article, Catalogue, FeedbackTally, Language, Text, Version

ARTICLE = "article"
CATALOGUE = "catalogue"
BATCH_GET_LIMIT = 100


@defines_table
class KbItem(StoreModel):
    Meta = model_meta("kb")

    id = UnicodeAttribute(hash_key=True)
    body = UnicodeAttribute(null=True)  # JSON of the article or of the tally
    revision = NumberAttribute(null=True)
    members = UnicodeSetAttribute(null=True)  # the catalogue's article ids


# ---- (de)serialising an article ---------------------------------------------------------------------------------


def _text_json(text: Text) -> dict[str, Any]:
    return {"title": text.title, "body": text.body, "keywords": list(text.keywords),
            "text_version": text.text_version, "aligned_with": text.aligned_with}  # fmt: skip


def _version_json(version: Version) -> dict[str, Any]:
    return {
        "number": version.number,
        "areas": list(version.areas),
        "audiences": sorted(version.audiences),
        "categories": list(version.categories),
        "texts": {lang: _text_json(text) for lang, text in version.texts.items()},
        "source": version.source,
        "author": version.author,
        "created_at": version.created_at.isoformat(),
        "publish_at": to_iso(version.publish_at),
        "from_case": version.from_case,
    }


def article_json(article: Article) -> str:
    return json.dumps(
        {
            "id": article.id,
            "archive_at": to_iso(article.archive_at),
            "versions": [_version_json(v) for v in article.versions],
        },
        ensure_ascii=False,
    )


def _text_of(raw: dict[str, Any]) -> Text:
    return Text(raw["title"], raw["body"], tuple(raw["keywords"]), raw["text_version"], raw["aligned_with"])


def _version_of(raw: dict[str, Any]) -> Version:
    texts: dict[Language, Text] = {lang: _text_of(text) for lang, text in raw["texts"].items()}
    return Version(
        number=raw["number"],
        areas=tuple(raw["areas"]),
        audiences=frozenset(raw["audiences"]),
        categories=tuple(raw["categories"]),
        texts=texts,
        source=raw["source"],
        author=raw["author"],
        created_at=datetime.fromisoformat(raw["created_at"]),
        publish_at=from_iso(raw["publish_at"]),
        from_case=raw["from_case"],
    )


def article_of(text: str, revision: int) -> Article:
    raw = json.loads(text)
    versions = tuple(_version_of(v) for v in raw["versions"])
    return Article(id=raw["id"], revision=revision, versions=versions, archive_at=from_iso(raw["archive_at"]))


def _article(item: KbItem) -> Article:
    return article_of(item.body or "{}", int(item.revision or 0))


def _feedback_key(article_id: str, version: int, language: Language) -> str:
    return f"feedback#{article_id}#v{version}#{language}"


class DynamoKbStore:
    """The knowledge base's port (``service.KbStore``) on DynamoDB."""

    def fetch_article(self, article_id: str) -> Article | None:
        try:
            return _article(KbItem.get(f"{ARTICLE}#{article_id}", consistent_read=True))
        except KbItem.DoesNotExist:
            return None

    def fetch_catalogue(self) -> Catalogue:
        """Every article: the catalogue's ids (one GetItem), the articles by BatchGetItem, 100 at a time."""
        try:
            ids = sorted(KbItem.get(CATALOGUE, consistent_read=True).members or ())
        except KbItem.DoesNotExist:
            return Catalogue()
        keys = [f"{ARTICLE}#{article_id}" for article_id in ids]
        found: list[Article] = []
        for start in range(0, len(keys), BATCH_GET_LIMIT):
            batch = keys[start : start + BATCH_GET_LIMIT]
            found.extend(_article(i) for i in KbItem.batch_get(batch, consistent_read=True))
        return Catalogue(tuple(sorted(found, key=lambda a: a.id)))

    def fetch_stamp(self) -> int:
        """The catalogue's change counter (0 before any article was written)."""
        try:
            return int(KbItem.get(CATALOGUE, consistent_read=True).revision or 0)
        except KbItem.DoesNotExist:
            return 0

    def fetch_feedback(self, article_id: str, version: int, language: Language) -> FeedbackTally | None:
        try:
            item = KbItem.get(_feedback_key(article_id, version, language), consistent_read=True)
        except KbItem.DoesNotExist:
            return None
        raw = json.loads(item.body or "{}")
        return FeedbackTally(article_id, version, language, raw["useful"], raw["not_useful"], int(item.revision or 0))

    def fetch_feedbacks(self, article_id: str, keys: list[tuple[int, Language]]) -> list[FeedbackTally]:
        """The tallies there are of these (version, language) pairs (BatchGetItem, 100 at a time)."""
        found: list[FeedbackTally] = []
        wanted = [_feedback_key(article_id, version, lang) for version, lang in keys]
        for start in range(0, len(wanted), BATCH_GET_LIMIT):
            for item in KbItem.batch_get(wanted[start : start + BATCH_GET_LIMIT], consistent_read=True):
                _, _, version, lang = item.id.split("#")
                raw = json.loads(item.body or "{}")
                found.append(FeedbackTally(article_id, int(version[1:]), lang,  # type: ignore[arg-type]
                                           raw["useful"], raw["not_useful"], int(item.revision or 0)))  # fmt: skip
        return found

    def fetch_vote(self, vote: str) -> bool:
        try:
            KbItem.get(f"vote#{vote}", consistent_read=True)
        except KbItem.DoesNotExist:
            return False
        return True

    def stage_article(self, uow: UnitOfWork, article: Article, read_revision: int | None) -> None:
        """The article if the stored one is still at the revision read (``None``: absent), and the catalogue's
        counter bumped (tag ``kb-article``: a lost race is run again on what the winner wrote)."""
        condition = KbItem.id.does_not_exist() if read_revision is None else KbItem.revision == read_revision
        item = KbItem(f"{ARTICLE}#{article.id}", body=article_json(article), revision=article.revision)
        uow.put(item, condition=condition, tag="kb-article")
        bump: list[Action] = [KbItem.revision.add(1), KbItem.members.add({article.id})]
        uow.update(KbItem(CATALOGUE), actions=bump, tag="kb-catalogue")

    def stage_feedback(self, uow: UnitOfWork, tally: FeedbackTally) -> None:
        before = tally.revision - 1
        condition = KbItem.id.does_not_exist() if before == 0 else KbItem.revision == before
        body = json.dumps({"useful": tally.useful, "not_useful": tally.not_useful})
        key = _feedback_key(tally.article_id, tally.version, tally.language)
        uow.put(KbItem(key, body=body, revision=tally.revision), condition=condition, tag="kb-feedback")

    def stage_vote(self, uow: UnitOfWork, vote: str) -> None:
        uow.put(KbItem(f"vote#{vote}"), condition=KbItem.id.does_not_exist(), tag="kb-vote")
