"""The platform's one rule for contact points: what C360 links people by is what notifications send to."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from functions.citizen.identity import normalise_email, normalise_phone
from functions.core import contact
from functions.notification import service as notification


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("  Ines.Pinilla@EXAMPLE.org ", "Ines.Pinilla@example.org"), ("luis@Bücher.example", "luis@bücher.example")],
)
def test_an_email_keeps_its_local_part_and_lowercases_its_domain(raw: str, expected: str) -> None:
    assert contact.email(raw) == expected


@pytest.mark.parametrize("raw", ["612 345 678", "+34 612 34 56 78", "0034612345678", "(+34) 612-345-678"])
def test_spanish_phones_in_any_writing_are_one_e164(raw: str) -> None:
    assert contact.phone(raw) == "+34612345678" and contact.is_mobile("+34612345678")


@pytest.mark.parametrize("raw", ["", "not-an-address", "a@", "@b.es"])
def test_what_is_no_address_is_refused_with_the_reason(raw: str) -> None:
    with pytest.raises(contact.ContactError, match="not an e-mail address"):
        contact.email(raw)
    assert contact.usable_email(raw) is None


def test_a_landline_is_a_phone_but_not_a_mobile() -> None:
    assert contact.phone("915 88 10 00") == "+34915881000" and not contact.is_mobile("+34915881000")
    with pytest.raises(notification.RecipientError, match="mobile"):
        notification.normalise_phone("915 88 10 00")


@given(st.sampled_from(["Ines.Pinilla@EXAMPLE.org", " ana@madrid.ES ", "x@y.example"]), st.booleans())
def test_c360_and_notifications_agree_on_every_address(raw: str, upper_domain: bool) -> None:
    # GIVEN an address written by an area system WHEN C360 matches by it and NOT sends to it THEN it is one address
    local, _, domain = raw.strip().partition("@")
    written = f"{local}@{domain.upper() if upper_domain else domain}"
    assert normalise_email(written) == notification.normalise_email(written) == contact.email(written)
    assert normalise_phone("612345678") == notification.normalise_phone("612 345 678")
