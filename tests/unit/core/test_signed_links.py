"""Signed personal links: a token holds for its own purpose and age only, and a changed one is refused."""

from __future__ import annotations

import pytest

from functions.core import signed_links
from functions.core.signed_links import LinkExpiredError, LinkInvalidError


def test_a_token_carries_its_claims_back() -> None:
    token = signed_links.sign("survey", {"s": "srv-1", "n": "abc"})
    assert signed_links.verify("survey", token, 3600) == {"s": "srv-1", "n": "abc"}


def test_a_token_made_for_another_purpose_is_refused() -> None:
    token = signed_links.sign("survey", {"s": "srv-1"})
    with pytest.raises(LinkInvalidError):
        signed_links.verify("unsubscribe", token, 3600)


def test_a_changed_token_is_refused() -> None:
    token = signed_links.sign("survey", {"s": "srv-1"})
    head, _, signature = token.rpartition(".")
    with pytest.raises(LinkInvalidError):
        signed_links.verify("survey", f"{head}.{signature[::-1]}", 3600)


def test_an_old_token_is_expired() -> None:
    token = signed_links.sign("survey", {"s": "srv-1"})
    with pytest.raises(LinkExpiredError):
        signed_links.verify("survey", token, -1)
