"""The shipped articles' vectors (``functions/assistant/data/shipped_vectors.npz``): made by the installed model for
exactly the texts the knowledge base ships, so a platform's first projection embeds none of them."""

from __future__ import annotations

import numpy as np
import pytest

from functions.assistant import retrieval
from seed.assistant_vectors import shipped_passages

REGENERATE = "run `python -m seed.assistant_vectors` and commit functions/assistant/data/shipped_vectors.npz"


def test_the_file_covers_every_shipped_text_with_the_installed_model() -> None:
    shipped = retrieval.shipped_vectors()
    assert shipped, f"no shipped vectors for {retrieval.model_id()}: {REGENERATE}"
    missing = [d.article_id for d in shipped_passages() if retrieval.passage_digest(d) not in shipped]
    assert not missing, f"texts changed since the vectors were made ({sorted(set(missing))}): {REGENERATE}"
    assert all(v.shape == (384,) and abs(float(np.linalg.norm(v)) - 1) < 1e-3 for v in shipped.values())


class _NoModel:
    def passages(self, texts: list[str]) -> np.ndarray:
        raise AssertionError(f"embedded {len(texts)} text(s) the build had embedded already")

    def query(self, text: str) -> np.ndarray:  # pragma: no cover - not asked here
        raise AssertionError("no query here")


def test_projecting_the_shipped_articles_embeds_nothing() -> None:
    docs = shipped_passages()
    vectors = retrieval.embed_documents(docs, _NoModel())
    assert vectors.shape == (len(docs), 384)


def test_a_changed_text_is_embedded_as_any_other() -> None:
    doc = shipped_passages()[0]
    changed = type(doc)(doc.article_id, doc.version, doc.language, doc.title, doc.body + " Actualizado.", doc.keywords)
    with pytest.raises(AssertionError, match="embedded 1 text"):
        retrieval.embed_documents([changed], _NoModel())
