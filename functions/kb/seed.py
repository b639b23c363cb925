"""Publish the knowledge base's shipped articles a store lacks: ``python -m functions.kb.seed``.

``data/articles.json`` holds about forty Madrid topics in Spanish and English, each with its source. A fresh
platform starts with them published (the public search, the agents' desk and the assistant all answer from day
one); an article already in the store is left as its editors made it. ``make run`` runs this at start; in the
cluster, the ``pic-kb-seed`` Job does, once per release.
"""

from __future__ import annotations

import sys

from functions.core.retry import retry_on_conflict
from functions.kb import handlers
from functions.kb.bootstrap import ports
from functions.kb.handlers import KbPorts
from functions.kb.service import Article


def seed(p: KbPorts) -> int:
    """How many shipped articles were published now (0 when the store had them all)."""
    added = 0
    for article in handlers.shipped(p):

        def attempt(article: Article = article) -> bool:
            staged = handlers.seed_one(article, p)
            staged.unit.commit()
            return staged.result

        added += retry_on_conflict(attempt, what=f"seed {article.id}")
    return added


def main() -> int:
    added = seed(ports())
    print(f"knowledge base: {added} shipped article(s) published, {len(handlers.shipped(ports())) - added} kept")
    return 0


if __name__ == "__main__":
    sys.exit(main())
