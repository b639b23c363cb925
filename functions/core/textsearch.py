"""Search in Spanish and English over plain documents: BM25 (``bm25s``) with words folded the way citizens type them,
stop words dropped, Snowball stems (``PyStemmer``) and typo correction; the one lexical index of the platform.

Words are folded the way citizens type them (no accents, no capitals, "q"/"xq"/"tb" spelled out), Spanish or
English stop words dropped and the rest reduced to their Snowball stem, so "empadronarme", "empadronamiento" and
"padrón" meet. A word the index has never seen is corrected to a word it has within one or two edits (a
symmetric-delete lookup, as SymSpell does), so "empadronamieto" or "basuara" still find their document. The title
and the keywords weigh more than the body (they are repeated in the indexed text).

Domains build their indexes from their own records (the knowledge base from its articles, ``functions/kb/search.py``;
the assistant from its projection of them): what each document is and who may see it is theirs, the words are here.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Literal

import bm25s
import numpy as np
import Stemmer
from bm25s.stopwords import STOPWORDS_EN_PLUS, STOPWORDS_SPANISH

Language = Literal["es", "en"]

TITLE_WEIGHT = 3
KEYWORD_WEIGHT = 2
_WORD = re.compile(r"[a-z0-9]+")
_STEMMER_NAMES: dict[Language, str] = {"es": "spanish", "en": "english"}
# how citizens abbreviate in chats, spelled out before anything else
ABBREVIATIONS: dict[str, str] = {
    "q": "que", "k": "que", "xq": "porque", "pq": "porque", "porq": "porque", "x": "por", "tb": "tambien",
    "tmb": "tambien", "ayto": "ayuntamiento", "info": "informacion", "dcho": "derecho", "cert": "certificado",
    "pls": "please", "plz": "please", "u": "you", "pa": "para",
}  # fmt: skip
# question words and fillers the stop-word lists keep, which say nothing about the topic
_EXTRA_STOP: dict[Language, frozenset[str]] = {
    "es": frozenset(
        [
            "hola",
            "buenas",
            "buenos",
            "dias",
            "tardes",
            "gracias",
            "porfa",
            "favor",
            "quiero",
            "queria",
            "necesito",
            "puedo",
            "puede",
            "pueden",
            "tengo",
            "hacer",
            "hago",
            "saber",
            "sabe",
            "alguien",
            "decir",
            "dime",
            "me",
            "mi",
            "mis",
            "hay",
            "cosa",
            "algo",
            "vale",
            "bueno",
            "oye",
            "pues",
            "tema",
        ]
    ),
    "en": frozenset(
        [
            "hi",
            "hello",
            "thanks",
            "please",
            "want",
            "need",
            "can",
            "could",
            "would",
            "get",
            "know",
            "tell",
            "how",
            "what",
        ]
    ),
}


def fold(text: str) -> str:
    """Lower case without accents or diacritics (ñ becomes n, as citizens often type it)."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@cache
def _stopwords(language: Language) -> frozenset[str]:
    base = STOPWORDS_SPANISH if language == "es" else STOPWORDS_EN_PLUS
    return frozenset(fold(word) for word in base) | _EXTRA_STOP[language]


@lru_cache(maxsize=2)
def _stemmer(language: Language) -> Stemmer.Stemmer:
    return Stemmer.Stemmer(_STEMMER_NAMES[language])


def words(text: str, language: Language) -> list[str]:
    """The folded words of ``text`` that carry meaning, abbreviations spelled out (not yet stemmed)."""
    found = []
    stop = _stopwords(language)
    for word in _WORD.findall(fold(text)):
        for part in ABBREVIATIONS.get(word, word).split():
            if part not in stop and (len(part) > 1 or part.isdigit()):
                found.append(part)
    return found


def stems(text: str, language: Language) -> list[str]:
    """What BM25 compares: the words' Snowball stems."""
    return list(_stemmer(language).stemWords(words(text, language)))


@dataclass(frozen=True)
class Document:
    """One article's text in one language as indexed (``language`` is the one actually shown)."""

    article_id: str
    version: int
    language: Language
    title: str
    body: str
    keywords: tuple[str, ...]

    def indexed_text(self) -> str:
        keywords = " ".join(self.keywords)
        return " ".join([self.title] * TITLE_WEIGHT + [keywords] * KEYWORD_WEIGHT + [self.body])


@dataclass(frozen=True)
class Hit:
    article_id: str
    version: int
    language: Language
    score: float


class SearchIndex:
    """BM25 over one language's documents; ``search`` and ``scores`` take a citizen's words as typed."""

    def __init__(self, docs: Sequence[Document], language: Language) -> None:
        self.docs = list(docs)
        self.language = language
        tokenised = [stems(doc.indexed_text(), language) for doc in self.docs]
        self._stem_vocabulary = {stem for tokens in tokenised for stem in tokens}
        surface = Counter(word for doc in self.docs for word in words(doc.indexed_text(), language))
        self._frequency = surface
        self._deletes = _delete_index(surface)
        self._bm25 = bm25s.BM25()
        if self.docs:
            self._bm25.index(tokenised, show_progress=False)

    def query_stems(self, query: str) -> list[str]:
        """The query's stems, each unknown word replaced by the closest word the documents use (if any)."""
        found = []
        stemmer = _stemmer(self.language)
        for word in words(query, self.language):
            stem = stemmer.stemWord(word)
            if stem not in self._stem_vocabulary:
                corrected = self._correct(word)
                stem = stemmer.stemWord(corrected) if corrected else stem
            found.append(stem)
        return found

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every document (``self.docs`` order) for ``query``."""
        if not self.docs:
            return np.zeros(0, dtype=np.float32)
        terms = [stem for stem in self.query_stems(query) if stem in self._stem_vocabulary]
        if not terms:
            return np.zeros(len(self.docs), dtype=np.float32)
        return np.asarray(self._bm25.get_scores(terms), dtype=np.float32)

    def coverage(self, query: str, position: int) -> float:
        """The share of the query's meaningful words that document ``position`` contains (0..1)."""
        terms = self.query_stems(query)
        if not terms:
            return 0.0
        present = set(stems(self.docs[position].indexed_text(), self.language))
        return sum(term in present for term in terms) / len(terms)

    def search(self, query: str, k: int = 10) -> list[Hit]:
        """The best ``k`` documents with a positive score, best first."""
        scores = self.scores(query)
        order = np.argsort(-scores, kind="stable")[:k]
        return [
            Hit(self.docs[i].article_id, self.docs[i].version, self.docs[i].language, float(scores[i]))
            for i in order
            if scores[i] > 0
        ]

    def _correct(self, word: str) -> str | None:
        if len(word) < 4 or word.isdigit():
            return None
        candidates: set[str] = set()
        for variant in {word, *_deletes(word)}:
            candidates |= self._deletes.get(variant, set())
        close = [c for c in candidates if _distance(word, c) <= (1 if len(word) < 7 else 2)]
        if not close:
            return None
        return max(close, key=lambda c: (-_distance(word, c), self._frequency[c], c))


def _deletes(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


def _delete_index(vocabulary: Iterable[str]) -> dict[str, set[str]]:
    index: dict[str, set[str]] = {}
    for word in vocabulary:
        if len(word) < 4:
            continue
        for variant in {word, *_deletes(word)}:
            index.setdefault(variant, set()).add(word)
    return index


def _distance(a: str, b: str) -> int:
    """Optimal string alignment distance (a swap of two neighbours counts one), for short words."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        row = [i]
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            best = min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                best = min(best, previous2[j - 2] + 1)
            row.append(best)
        previous2, previous = previous, row
    return previous[-1]
