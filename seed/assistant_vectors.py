"""The assistant's vectors for the shipped knowledge-base articles: ``python -m seed.assistant_vectors``.

Embeds every text of ``functions/kb/data/articles.json`` as the assistant projects it (the snapshot the KB announces,
each language's passage) with the bundled model, and writes ``functions/assistant/data/shipped_vectors.npz``: the
digest of each passage, its vector and the model's identity. Run it after changing the shipped articles or the
model (a unit test says when the file no longer covers them). At run time nothing is downloaded or embedded for the
shipped texts: a platform's first projection of the knowledge base reads them from the file.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime

import numpy as np

from functions.assistant import knowledge, retrieval
from functions.core.textsearch import Document
from functions.kb import articles, handlers


def shipped_passages() -> list[Document]:
    """Every passage of the shipped articles as the assistant would index it."""
    now = datetime.now(UTC)
    snapshots = [handlers.snapshot(article, now) for article in articles.seed_articles(now)]
    return [doc for snapshot in snapshots for doc in knowledge.passages(snapshot)]


def main() -> int:
    docs = shipped_passages()
    embedder = retrieval.default_embedder()
    vectors = np.asarray(embedder.passages([retrieval._passage(d) for d in docs]), dtype=np.float32)
    digests = np.asarray([retrieval.passage_digest(d) for d in docs])
    np.savez_compressed(retrieval.SHIPPED, digests=digests, vectors=vectors, model=np.asarray(retrieval.model_id()))
    print(f"wrote {retrieval.SHIPPED} ({len(docs)} passages, {retrieval.model_id()})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
