"""An in-memory assistant store (``functions.assistant.handlers.Store``): conversations and the knowledge base's
projection, each versioned as its DynamoDB item is (a unit that read an older version loses the race at commit);
and a fake of the platform's API that records the calls and the credentials they carried."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from events.kb import ArticleUpdated
from functions.assistant.knowledge import Vectors
from functions.assistant.service import Conversation
from functions.core.api import ApiProblem
from functions.core.store import UnitOfWork
from tests.unit.fakes import Ledger


@dataclass
class FakeAssistantStore:
    ledger: Ledger = field(default_factory=Ledger)
    conversations: dict[str, Conversation] = field(default_factory=dict)
    articles: dict[str, tuple[ArticleUpdated, Vectors]] = field(default_factory=dict)
    catalog: int = 0
    article_reads: int = 0

    def commit(self, uow: UnitOfWork) -> None:
        self.ledger.commit(uow)

    def fetch_conversation(self, conversation_id: str) -> Conversation | None:
        return self.conversations.get(conversation_id)

    def fetch_by_citizen(self, citizen_id: str) -> list[Conversation]:
        return [c for c in self.conversations.values() if c.citizen_id == citizen_id]

    def stage_conversation(self, uow: UnitOfWork, conversation: Conversation, expected: int | None) -> None:
        def apply() -> None:
            self.conversations[conversation.id] = conversation

        self.ledger.stage(uow, f"conv#{conversation.id}", expected, apply)

    def stage_erasure(self, uow: UnitOfWork, conversation: Conversation) -> None:
        self.ledger.stage(uow, f"erase#{conversation.id}", None, lambda: self.conversations.pop(conversation.id),
                          any_version=True)  # fmt: skip

    def fetch_article(self, article_id: str) -> tuple[ArticleUpdated, Vectors] | None:
        return self.articles.get(article_id)

    def fetch_articles(self) -> list[tuple[ArticleUpdated, Vectors]]:
        self.article_reads += 1
        return list(self.articles.values())

    def fetch_catalog_revision(self) -> int:
        return self.catalog

    def stage_article(self, uow: UnitOfWork, article: ArticleUpdated, vectors: Vectors, expected: int | None) -> None:
        current = self.articles.get(article.article_id)

        def apply() -> None:
            self.articles[article.article_id] = (article, vectors)
            self.catalog += 1

        read = self.ledger.version(f"kb#{article.article_id}") if current else None
        self.ledger.stage(uow, f"kb#{article.article_id}", read, apply)


@dataclass
class FakePlatform:
    """The platform's API as the assistant calls it: what each citizen has, and the calls made."""

    debts_of: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    cases_of: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    calls: list[tuple[str, str, str]] = field(default_factory=list)
    refuse: bool = False

    def debts(self, citizen_id: str, token: str, traceparent: str) -> list[dict[str, Any]]:
        self.calls.append(("debts", citizen_id, token))
        if self.refuse:
            raise ApiProblem(404, {"type": "/problems/micro-app-off", "title": "off"})
        return self.debts_of.get(citizen_id, [])

    def cases(self, citizen_id: str, token: str, traceparent: str) -> list[dict[str, Any]]:
        self.calls.append(("cases", citizen_id, token))
        return self.cases_of.get(citizen_id, [])
