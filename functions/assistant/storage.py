"""Assistant storage: one DynamoDB table ``assistant``, keyed by ``id``, with three item kinds.

- ``id=conv-<hex>`` (``AssistantItem``): one conversation with its transcript as JSON, written whole under the
  version read (two messages to one conversation at once cannot both win: the second is decided again). Sparse
  ``citizen_id`` + ``opened_at`` (index ``by-citizen``: the person's conversations, their RGPD answer);
  ``expires_at``: the store's TTL erases a conversation ``rights.CONVERSATION_DAYS`` after its last message.
- ``id=kb#<article>``: the knowledge base's snapshot of an article (``kb.article.updated``) at its highest
  ``revision``, with the vectors of its texts (``vectors``: JSON of base64 float32, keyed by version, language and
  a digest of the text); ``kind=article`` (index ``by-kind``: every article, what the retriever is built from).
- ``id=catalog``: ``revision``, a counter every projected change moves in the same unit: one GetItem tells a
  worker whether its retriever is still current.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta
from typing import Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from events.kb import ArticleUpdated
from functions.assistant.knowledge import Vectors
from functions.assistant.retrieval import VectorKey, pack, unpack
from functions.assistant.rights import CONVERSATION_DAYS
from functions.assistant.service import Conversation, Line
from functions.core.store import StoreModel, UnitOfWork, defines_table, from_iso, model_meta, to_iso

CATALOG = "catalog"
ARTICLE = "article"


class ByCitizen(GlobalSecondaryIndex["AssistantItem"]):  # type: ignore[no-untyped-call]
    class Meta:
        index_name = "by-citizen"
        projection = AllProjection()

    citizen_id = UnicodeAttribute(hash_key=True)
    opened_at = UTCDateTimeAttribute(range_key=True)


class ByKind(GlobalSecondaryIndex["AssistantItem"]):  # type: ignore[no-untyped-call]
    class Meta:
        index_name = "by-kind"
        projection = AllProjection()

    kind = UnicodeAttribute(hash_key=True)
    id = UnicodeAttribute(range_key=True)


@defines_table
class AssistantItem(StoreModel):
    Meta = model_meta("assistant")

    id = UnicodeAttribute(hash_key=True)
    body = UnicodeAttribute(null=True)  # JSON: a conversation, or an article's snapshot
    version = NumberAttribute(null=True)  # a conversation's version, an article's revision
    citizen_id = UnicodeAttribute(null=True)
    opened_at = UTCDateTimeAttribute(null=True)
    kind = UnicodeAttribute(null=True)
    vectors = UnicodeAttribute(null=True)
    revision = NumberAttribute(null=True)  # the catalog's counter
    expires_at = NumberAttribute(null=True)

    by_citizen = ByCitizen()
    by_kind = ByKind()


# ---- (de)serialising ----------------------------------------------------------------------------------------


def conversation_json(conversation: Conversation) -> str:
    lines = [
        {"at": line.at.isoformat(), "speaker": line.speaker, "text": line.text, "reply": line.reply, "ref": line.ref}
        for line in conversation.lines
    ]
    return json.dumps(
        {
            "channel": conversation.channel,
            "language": conversation.language,
            "opened_at": conversation.opened_at.isoformat(),
            "citizen_id": conversation.citizen_id,
            "key_digest": conversation.key_digest,
            "contact": conversation.contact,
            "lines": lines,
            "articles": list(conversation.articles),
            "handed_over_at": to_iso(conversation.handed_over_at),
            "last_inbound_at": to_iso(conversation.last_inbound_at),
        },
        default=str,
    )


def conversation_of(conversation_id: str, body: str, version: int) -> Conversation:
    raw: dict[str, Any] = json.loads(body)
    lines = tuple(
        Line(datetime.fromisoformat(line["at"]), line["speaker"], line["text"], line.get("reply"), line.get("ref"))
        for line in raw["lines"]
    )
    return Conversation(
        id=conversation_id,
        channel=raw["channel"],
        language=raw["language"],
        opened_at=datetime.fromisoformat(raw["opened_at"]),
        citizen_id=raw.get("citizen_id"),
        key_digest=raw.get("key_digest"),
        contact=raw.get("contact"),
        lines=lines,
        articles=tuple(raw.get("articles", [])),
        handed_over_at=from_iso(raw.get("handed_over_at")),
        last_inbound_at=from_iso(raw.get("last_inbound_at")),
        version=version,
    )


def vectors_json(vectors: Vectors) -> str:
    return json.dumps({"|".join(map(str, key)): base64.b64encode(pack(v)).decode() for key, v in vectors.items()})


def vectors_of(raw: str | None) -> Vectors:
    found: Vectors = {}
    for joined, encoded in json.loads(raw or "{}").items():
        article, version, language, digest = joined.split("|")
        key: VectorKey = (article, int(version), language, digest)
        found[key] = unpack(base64.b64decode(encoded))
    return found


def _article(item: AssistantItem) -> tuple[ArticleUpdated, Vectors]:
    return ArticleUpdated.model_validate_json(item.body or "{}"), vectors_of(item.vectors)


class DynamoAssistantStore:
    """``handlers.Store`` over the ``assistant`` table."""

    def fetch_conversation(self, conversation_id: str) -> Conversation | None:
        if not conversation_id.startswith("conv-"):
            return None
        try:
            item = AssistantItem.get(conversation_id, consistent_read=True)
        except AssistantItem.DoesNotExist:
            return None
        return conversation_of(item.id, item.body or "{}", int(item.version or 0))

    def fetch_by_citizen(self, citizen_id: str) -> list[Conversation]:
        """The person's conversations, newest first (one Query of ``by-citizen``)."""
        found = AssistantItem.by_citizen.query(citizen_id, scan_index_forward=False)
        return [conversation_of(i.id, i.body or "{}", int(i.version or 0)) for i in found]

    def stage_conversation(self, uow: UnitOfWork, conversation: Conversation, expected: int | None) -> None:
        """The whole conversation, if it is still at the version read (tag ``conversation``)."""
        condition = AssistantItem.id.does_not_exist() if expected is None else AssistantItem.version == expected
        last = conversation.lines[-1].at if conversation.lines else conversation.opened_at
        item = AssistantItem(
            conversation.id,
            body=conversation_json(conversation),
            version=conversation.version,
            citizen_id=conversation.citizen_id,
            opened_at=conversation.opened_at if conversation.citizen_id else None,
            expires_at=int((last + timedelta(days=CONVERSATION_DAYS)).timestamp()),
        )
        uow.put(item, condition=condition, tag="conversation")

    def stage_erasure(self, uow: UnitOfWork, conversation: Conversation) -> None:
        uow.delete(AssistantItem(conversation.id), tag="conversation-erasure")

    # ---- the knowledge base's projection ----

    def fetch_article(self, article_id: str) -> tuple[ArticleUpdated, Vectors] | None:
        try:
            return _article(AssistantItem.get(f"kb#{article_id}", consistent_read=True))
        except AssistantItem.DoesNotExist:
            return None

    def fetch_articles(self) -> list[tuple[ArticleUpdated, Vectors]]:
        return [_article(item) for item in AssistantItem.by_kind.query(ARTICLE)]

    def fetch_catalog_revision(self) -> int:
        try:
            return int(AssistantItem.get(CATALOG, attributes_to_get=["revision"]).revision or 0)
        except AssistantItem.DoesNotExist:
            return 0

    def stage_article(self, uow: UnitOfWork, article: ArticleUpdated, vectors: Vectors, expected: int | None) -> None:
        """The snapshot replaces the one at the revision read (tag ``article``), and moves the catalog's counter."""
        key = f"kb#{article.article_id}"
        condition = AssistantItem.id.does_not_exist() if expected is None else AssistantItem.version == expected
        item = AssistantItem(
            key, body=article.model_dump_json(), version=article.revision, kind=ARTICLE, vectors=vectors_json(vectors)
        )
        uow.put(item, condition=condition, tag="article")
        uow.update(AssistantItem(CATALOG), actions=[AssistantItem.revision.add(1)], tag="catalog")
