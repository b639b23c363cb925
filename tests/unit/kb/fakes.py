"""An in-memory ``KbStore`` (``functions.kb.service``): the knowledge base's handler tests run on it. Articles and
tallies are versioned as their DynamoDB items are (a unit that read an older revision loses the race at commit);
the catalogue's counter moves with every article written, as the ``catalogue`` item does."""

from __future__ import annotations

from dataclasses import dataclass, field

from functions.core.store import UnitOfWork
from functions.kb.service import Article, Catalogue, FeedbackTally, Language
from tests.unit.fakes import Ledger


@dataclass
class FakeKbStore:
    ledger: Ledger = field(default_factory=Ledger)
    articles: dict[str, Article] = field(default_factory=dict)
    tallies: dict[tuple[str, int, str], FeedbackTally] = field(default_factory=dict)
    votes: set[str] = field(default_factory=set)
    stamp: int = 0
    catalogue_reads: int = 0

    def commit(self, uow: UnitOfWork) -> None:
        self.ledger.commit(uow)

    def fetch_article(self, article_id: str) -> Article | None:
        return self.articles.get(article_id)

    def fetch_catalogue(self) -> Catalogue:
        self.catalogue_reads += 1
        return Catalogue(tuple(self.articles[k] for k in sorted(self.articles)))

    def fetch_stamp(self) -> int:
        return self.stamp

    def fetch_feedback(self, article_id: str, version: int, language: Language) -> FeedbackTally | None:
        return self.tallies.get((article_id, version, language))

    def fetch_vote(self, vote: str) -> bool:
        return vote in self.votes

    def stage_article(self, uow: UnitOfWork, article: Article, read_revision: int | None) -> None:
        def apply() -> None:
            self.articles[article.id] = article
            self.stamp += 1

        key = f"article#{article.id}"
        self.ledger.stage(uow, key, self.ledger.version(key) if read_revision is not None else None, apply)

    def stage_feedback(self, uow: UnitOfWork, tally: FeedbackTally) -> None:
        key = (tally.article_id, tally.version, tally.language)
        before = tally.revision - 1
        self.ledger.stage(uow, f"feedback#{key}", before or None, lambda: self.tallies.__setitem__(key, tally))

    def stage_vote(self, uow: UnitOfWork, vote: str) -> None:
        self.ledger.stage(uow, f"vote#{vote}", None, lambda: self.votes.add(vote))
