"""The WhatsApp Business adapter's pure parts: Meta's signature, the notification's messages, the 24-hour window."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from functions.assistant import whatsapp
from functions.assistant.service import BadSignatureError

SECRET = "an-app-secret-of-sixteen"
NOW = datetime(2026, 12, 14, 9, 0, tzinfo=UTC)


def notification(*messages: dict[str, object]) -> dict[str, object]:
    value = {"messaging_product": "whatsapp", "metadata": {"phone_number_id": "1"}, "messages": list(messages)}
    return {"object": "whatsapp_business_account", "entry": [{"id": "waba", "changes": [{"field": "messages",
            "value": value}]}]}  # fmt: skip


def test_a_body_signed_with_the_app_secret_is_accepted() -> None:
    body = json.dumps(notification()).encode()
    whatsapp.check_signature(SECRET, body, whatsapp.sign(SECRET, body))


@pytest.mark.parametrize("header", [None, "", "sha256=", "sha1=abc", "sha256=" + "0" * 64])
def test_an_unsigned_or_forged_body_is_refused(header: str | None) -> None:
    with pytest.raises(BadSignatureError):
        whatsapp.check_signature(SECRET, b"{}", header)


def test_a_body_changed_after_signing_is_refused() -> None:
    signature = whatsapp.sign(SECRET, b'{"a": 1}')
    with pytest.raises(BadSignatureError):
        whatsapp.check_signature(SECRET, b'{"a": 2}', signature)


def test_texts_and_our_buttons_are_read_the_rest_ignored() -> None:
    found = whatsapp.messages_of(notification(
        {"from": "34600111222", "id": "wamid.1", "timestamp": "1765702800", "type": "text", "text": {"body": " hola "}},
        {"from": "34600111222", "id": "wamid.2", "type": "interactive",
         "interactive": {"type": "button_reply", "button_reply": {"id": "talk-to-person", "title": "Persona"}}},
        {"from": "34600111222", "id": "wamid.3", "type": "image", "image": {"id": "x"}},
        {"from": "not-a-number", "id": "wamid.4", "type": "text", "text": {"body": "x"}},
        "garbage",
    ))  # fmt: skip
    assert [(m.message_id, m.text, m.option) for m in found] == [("wamid.1", "hola", None),
                                                                  ("wamid.2", "Persona", "talk-to-person")]  # fmt: skip
    assert whatsapp.messages_of({"entry": "nope"}) == [] and whatsapp.messages_of([1, 2]) == []


def test_within_the_window_a_reply_is_free_form_with_buttons_outside_it_the_template() -> None:
    options = [{"id": "talk-to-person", "label": "Hablar con una persona"}]
    inside = whatsapp.outbound("346", "Hola", options, NOW - timedelta(hours=23), NOW, "tpl", "es")
    outside = whatsapp.outbound("346", "Hola", options, NOW - timedelta(hours=25), NOW, "tpl", "es")
    assert (
        inside["type"] == "interactive"
        and inside["interactive"]["action"]["buttons"][0]["reply"]["id"] == "talk-to-person"
    )
    assert outside["type"] == "template" and outside["template"]["name"] == "tpl"
    assert outside["template"]["components"][0]["parameters"][0]["text"] == "Hola"


def test_one_conversation_per_number_and_madrid_day_without_the_number_in_its_id() -> None:
    first = whatsapp.conversation_id("34600111222", NOW)
    assert first == whatsapp.conversation_id("34600111222", NOW + timedelta(hours=5))
    assert first != whatsapp.conversation_id("34600111222", NOW + timedelta(days=1))
    assert "34600111222" not in first and first.startswith("conv-wa-")
