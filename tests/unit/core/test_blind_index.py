"""Blind indexes: keyed, scoped, stable, and never the raw value."""

from __future__ import annotations

from functions.core.blind_index import blind_index

KEY = "a-test-key-of-sufficient-length"


def test_the_same_identifier_and_key_give_the_same_index() -> None:
    assert blind_index("DNI", "12345678Z", KEY) == blind_index("DNI", "12345678Z", KEY)


def test_the_index_does_not_contain_the_identifier() -> None:
    index = blind_index("DNI", "12345678Z", KEY)
    assert "12345678" not in index and len(index) == 64


def test_another_key_gives_another_index() -> None:
    # GIVEN two environments with their own keys THEN their indexes cannot be joined
    assert blind_index("DNI", "12345678Z", KEY) != blind_index("DNI", "12345678Z", KEY + "-other")


def test_the_kind_scopes_the_index() -> None:
    # a passport number equal to a DNI's digits is another identifier
    assert blind_index("DNI", "12345678Z", KEY) != blind_index("PASSPORT", "12345678Z", KEY)
