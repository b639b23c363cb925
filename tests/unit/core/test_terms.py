"""The consent terms file: purposes, channels, versioned texts per language, topics."""

from __future__ import annotations

import hashlib

from functions.core.terms import Terms


def test_the_published_terms_declare_five_purposes_seven_channels_and_seven_topics(terms: Terms) -> None:
    # GIVEN policies/consent/data.json
    # THEN the purposes, their basis and whether they are given per channel are read from it
    assert set(terms.purposes) == {"personalisation", "service-notifications", "campaigns", "surveys", "location"}
    notices = terms.purposes["service-notifications"]
    assert (notices.requires_consent, notices.channel_scoped) == (False, True)
    assert (terms.purposes["personalisation"].channel_scoped, terms.purposes["personalisation"].requires_consent) == (
        False,
        True,
    )
    assert list(terms.channels) == ["email", "sms", "push", "inapp", "phone", "whatsapp", "postal"]
    assert "civil-protection" in terms.topics and len(terms.topics) == 7


def test_every_current_text_version_is_published_in_spanish_and_english_with_its_hash(terms: Terms) -> None:
    # THEN a citizen can be shown, and consent to, the current text of every purpose in both languages
    for pid, purpose in terms.purposes.items():
        assert purpose.current_text_version in terms.versions_of(pid)
        for language in ("es", "en"):
            text = terms.text(pid, purpose.current_text_version, language)
            assert text is not None
            assert hashlib.sha256(text.text.encode("utf-8")).hexdigest() == text.sha256


def test_an_unpublished_text_is_none(terms: Terms) -> None:
    assert terms.text("campaigns", "1999-01", "es") is None
    assert terms.text("campaigns", "2026-01", "fr") is None
    assert terms.versions_of("no-such-purpose") == []


def test_minimal_terms_need_only_purposes_and_channels() -> None:
    # GIVEN terms with no texts and no topics
    terms = Terms.from_data(
        {
            "purposes": {"x": {"legal_basis": "b", "requires_consent": 1, "channel_scoped": 0}},
            "channels": {"email": {}},
        }
    )
    # THEN they load, with booleans coerced and no current text version
    assert terms.purposes["x"].requires_consent is True and terms.purposes["x"].channel_scoped is False
    assert terms.purposes["x"].current_text_version is None
    assert (terms.texts, terms.topics) == ({}, {})


def test_versions_are_listed_sorted_and_once() -> None:
    text = {"text": "t", "sha256": "s"}
    terms = Terms.from_data(
        {
            "purposes": {"x": {"legal_basis": "b", "requires_consent": True, "channel_scoped": False}},
            "channels": {},
            "texts": {"x": {"v2": {"es": text, "en": text}, "v1": {"es": text}}},
        }
    )
    assert terms.versions_of("x") == ["v1", "v2"]
    assert terms.text("x", "v2", "en") is not None and terms.text("x", "v1", "en") is None
