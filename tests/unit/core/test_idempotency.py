"""Idempotency keys and body hashes (the DynamoDB part is covered by the functional tests)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from functions.core.errors import ValidationError
from functions.core.idempotency import MAX_KEY_LENGTH, body_hash, event_key, http_key

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=40, deadline=None)
@given(body=st.dictionaries(st.text(max_size=8), json_values, max_size=8), seed=st.randoms())
def test_the_body_hash_does_not_depend_on_key_order(body: dict[str, Any], seed: Any) -> None:
    # GIVEN the same JSON body with its keys in another order
    items = list(body.items())
    seed.shuffle(items)
    # THEN it hashes the same, as the canonical JSON text does
    assert body_hash(dict(items)) == body_hash(body)
    assert body_hash(body) == body_hash(json.dumps(body, sort_keys=True, separators=(",", ":")))


def test_different_bodies_hash_differently() -> None:
    assert body_hash({"granted": True}) != body_hash({"granted": False})


def test_text_and_bytes_hash_alike_and_no_body_is_the_empty_body() -> None:
    assert body_hash('{"a":1}') == body_hash(b'{"a":1}')
    assert body_hash(None) == body_hash(b"") == body_hash("")
    assert body_hash(b"x") == "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881"


def test_http_keys_are_scoped_to_function_caller_method_and_path() -> None:
    key = http_key("pic-consent", "c-1", "abc", "PUT", "/v1/citizens/c-1/consents/campaigns")
    assert key == "http#pic-consent#c-1#PUT /v1/citizens/c-1/consents/campaigns#abc"
    # WHEN any part differs THEN the key space differs: two callers never share a key
    variants = {
        http_key("pic-consent", "c-2", "abc", "PUT", "/v1/citizens/c-1/consents/campaigns"),
        http_key("pic-other", "c-1", "abc", "PUT", "/v1/citizens/c-1/consents/campaigns"),
        http_key("pic-consent", "c-1", "abc", "POST", "/v1/citizens/c-1/consents/campaigns"),
        http_key("pic-consent", "c-1", "abc", "PUT", "/v1/citizens/c-1/consents/surveys"),
    }
    assert key not in variants and len(variants) == 4


def test_an_idempotency_key_of_the_maximum_length_is_accepted() -> None:
    assert http_key("f", "p", "k" * MAX_KEY_LENGTH, "PUT", "/x").endswith("k" * MAX_KEY_LENGTH)


@pytest.mark.parametrize("key", ["", "k" * (MAX_KEY_LENGTH + 1)], ids=["empty", "too-long"])
def test_an_empty_or_too_long_idempotency_key_is_a_422(key: str) -> None:
    with pytest.raises(ValidationError, match="Idempotency-Key") as err:
        http_key("f", "p", key, "PUT", "/x")
    assert err.value.status == 422


def test_event_keys_are_scoped_to_function_source_and_id() -> None:
    assert event_key("pic-consent-events", "/legacy/oficinas", "e-1") == "event#pic-consent-events#/legacy/oficinas#e-1"
    assert event_key("f", "/a", "1") != event_key("f", "/b", "1")
