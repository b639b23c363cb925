"""Search over the seed articles (``functions.kb.search``): Spanish and English, typos, missing accents and
chat abbreviations find the right article; what an audience may not see is not indexed."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from functions.kb.articles import seed_articles
from functions.kb.search import SearchIndex, build_index, fold, words
from functions.kb.service import Article, archive

NOW = datetime(2026, 5, 4, 10, tzinfo=UTC)


@pytest.fixture(scope="module")
def articles() -> list[Article]:
    return seed_articles(NOW)


@pytest.fixture(scope="module")
def spanish(articles: list[Article]) -> SearchIndex:
    return build_index(articles, language="es", audience="public", at=NOW)


@pytest.fixture(scope="module")
def english(articles: list[Article]) -> SearchIndex:
    return build_index(articles, language="en", audience="public", at=NOW)


def test_the_seed_has_about_forty_articles_each_in_both_languages_with_a_source(articles: list[Article]) -> None:
    assert len(articles) >= 40
    for article in articles:
        assert set(article.latest.texts) == {"es", "en"}, article.id
        assert (article.latest.source or "").startswith("https://"), article.id


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("alta en el padrón al llegar", "padron-alta"),
        ("multa pronto pago descuento", "multa-pago-reduccion"),
        ("tirar un sofa viejo", "recogida-muebles"),
        ("q necesito xa reformar la cocina", "obras-declaracion-responsable"),
        ("plusvalia herencia", "plusvalia"),
        ("basuara tasa", "tasa-residuos"),  # a letter added
    ],
)
def test_spanish_questions_find_their_article(spanish: SearchIndex, query: str, expected: str) -> None:
    hits = spanish.search(query, 3)
    assert hits and hits[0].article_id == expected, [h.article_id for h in hits]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("my car was towed", "grua-deposito"),
        ("recycle batteries", "puntos-limpios"),
        ("how do I register as a resident", "padron-alta"),
        ("library card", "bibliotecas"),
    ],
)
def test_english_questions_find_their_article(english: SearchIndex, query: str, expected: str) -> None:
    hits = english.search(query, 3)
    assert hits and hits[0].article_id == expected, [h.article_id for h in hits]


def test_a_misspelt_word_is_corrected_to_the_word_the_articles_use(spanish: SearchIndex) -> None:
    # GIVEN a letter missing, one added and two swapped
    for typo, right in (("empadronamieto", "empadronamiento"), ("basuara", "basura"), ("mutla", "multa")):
        # THEN the query means what the right spelling means
        assert spanish.query_stems(typo) == spanish.query_stems(right)
        assert spanish.search(typo, 3) == spanish.search(right, 3)


def test_accents_and_case_do_not_matter(spanish: SearchIndex) -> None:
    assert fold("Padrón DOMICILIACIÓN año") == "padron domiciliacion ano"
    assert [h.article_id for h in spanish.search("PADRÓN", 2)] == [h.article_id for h in spanish.search("padron", 2)]


def test_stop_words_and_abbreviations(spanish: SearchIndex) -> None:
    assert words("q tengo q hacer xq el ayto", "es") == ["ayuntamiento"]
    assert spanish.search("de la que el", 3) == []


def test_an_archived_article_leaves_the_index(articles: list[Article]) -> None:
    gone = [archive(a, expected_revision=a.revision, now=NOW) if a.id == "bicimad" else a for a in articles]
    index = build_index(gone, language="es", audience="public", at=NOW)
    assert "bicimad" not in {doc.article_id for doc in index.docs}
    assert len(index.docs) == len(articles) - 1
