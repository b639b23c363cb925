"""What a poster outside the outbox (legacy adapters, CDC, bulk loader) does with the broker's answer."""

from __future__ import annotations

import pytest

from functions.core.sender_post import headers, verdict


@pytest.mark.parametrize(
    ("status", "expected"),
    [(202, "accepted"), (200, "accepted"), (500, "later"), (503, "later"), (401, "later"), (429, "later"),
     (404, "later"), (403, "not-admitted"), (400, "refused"), (413, "refused"), (422, "refused")],
)  # fmt: skip
def test_each_answer_of_the_broker_has_one_meaning(status: int, expected: str) -> None:
    # GIVEN the broker's status WHEN a poster reads it THEN one verdict for every poster
    assert verdict(status) == expected


def test_binary_mode_headers_name_the_sender_and_the_event() -> None:
    sent = headers("/legacy/padron", "e-1", "es.madrid.pic.citizen.record.upserted.v1", "P-1", "tok")
    assert sent["ce-source"] == "/legacy/padron" and sent["ce-id"] == "e-1" and sent["Authorization"] == "Bearer tok"
    assert sent["ce-specversion"] == "1.0" and sent["content-type"] == "application/json"
