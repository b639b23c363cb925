"""The assistant's retrieval on the seed articles (``functions.assistant.retrieval``): BM25 alone and fused with
the bundled multilingual embedding model, a confidence that separates a knowledge-base question from one outside it,
and each article embedded once per process."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from functions.assistant import retrieval
from functions.assistant.retrieval import HybridRetriever, default_embedder
from functions.assistant.service import Language
from functions.kb.articles import seed_articles
from functions.kb.search import SearchIndex, build_index
from functions.kb.service import Article

NOW = datetime(2026, 5, 4, 10, tzinfo=UTC)
SMALL = ("padron-alta", "multa-pago-reduccion", "recogida-muebles", "grua-deposito", "bibliotecas", "ibi")


def indexed(articles: list[Article]) -> dict[Language, SearchIndex]:
    """The knowledge base's indexes of what the assistant sees, as the wiring hands them over."""
    languages: tuple[Language, ...] = ("es", "en")
    return {lang: build_index(articles, language=lang, audience="assistant", at=NOW) for lang in languages}


@pytest.fixture(scope="module")
def articles() -> list[Article]:
    return seed_articles(NOW)


@pytest.fixture(scope="module")
def hybrid(articles: list[Article]) -> HybridRetriever:
    """The real model over a handful of articles (the whole seed is the benchmark's job)."""
    return HybridRetriever.build(indexed([a for a in articles if a.id in SMALL]), embedder=default_embedder())


def test_bm25_alone_finds_articles_in_both_languages(articles: list[Article]) -> None:
    lexical = HybridRetriever.build(indexed(articles), embedder=None)
    assert lexical.rank("quiero tirar un sofa viejo", "es")[0].article_id == "recogida-muebles"
    assert lexical.rank("my car was towed away", "en")[0].article_id == "grua-deposito"
    assert lexical.rank("xyzzy plugh", "es") == []


def test_the_model_answers_a_paraphrase_with_no_word_in_common(hybrid: HybridRetriever) -> None:
    best = hybrid.rank("se llevaron mi vehiculo de la calle", "es")[0]
    assert best.article_id == "grua-deposito"
    assert 0.0 <= best.confidence <= 1.0


def test_confidence_is_higher_for_a_knowledge_base_question_than_for_one_outside_it(hybrid: HybridRetriever) -> None:
    inside = hybrid.rank("cuanto descuento tiene la multa si la pago pronto", "es")[0]
    outside = hybrid.rank("cual es la mejor pizzeria del barrio", "es")[0]
    assert inside.article_id == "multa-pago-reduccion"
    assert inside.confidence > outside.confidence


def test_each_text_is_embedded_once_per_process(
    articles: list[Article], hybrid: HybridRetriever, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(retrieval, "shipped_vectors", dict)  # as for texts the build did not embed

    class Counting:
        def __init__(self) -> None:
            self.embedded = 0

        def passages(self, texts: list[str]) -> np.ndarray:
            self.embedded += len(texts)
            return np.ones((len(texts), 4), dtype=np.float32) / 2

        def query(self, text: str) -> np.ndarray:
            return np.ones(4, dtype=np.float32) / 2

    subset = [a for a in articles if a.id in ("vado-paso-vehiculos", "bicimad")]
    counting = Counting()
    retrieval._VECTORS.clear()
    HybridRetriever.build(indexed(subset), embedder=counting)
    HybridRetriever.build(indexed(subset), embedder=counting)  # rebuilt: nothing new to embed
    assert counting.embedded == 4  # two articles, two languages, once
    retrieval._VECTORS.clear()


def test_the_model_is_loaded_once() -> None:
    assert default_embedder() is default_embedder()


def test_vectors_embedded_before_are_not_embedded_again(
    articles: list[Article], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(retrieval, "shipped_vectors", dict)  # as for texts the build did not embed
    # GIVEN the vectors of two articles kept from an earlier process
    subset = [a for a in articles if a.id in ("vado-paso-vehiculos", "bicimad")]
    first = CountingEmbedder()
    retrieval._VECTORS.clear()
    HybridRetriever.build(indexed(subset), embedder=first)
    kept = retrieval.cached_vectors()
    retrieval._VECTORS.clear()
    # WHEN a new process preloads them and builds the same indexes
    retrieval.preload_vectors(kept)
    second = CountingEmbedder()
    HybridRetriever.build(indexed(subset), embedder=second)
    # THEN nothing is embedded
    assert (first.embedded, second.embedded) == (4, 0)
    retrieval._VECTORS.clear()


class CountingEmbedder:
    def __init__(self) -> None:
        self.embedded = 0

    def passages(self, texts: list[str]) -> np.ndarray:
        self.embedded += len(texts)
        return np.ones((len(texts), 4), dtype=np.float32) / 2

    def query(self, text: str) -> np.ndarray:
        return np.ones(4, dtype=np.float32) / 2
