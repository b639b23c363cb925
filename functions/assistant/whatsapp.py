"""The WhatsApp Business adapter, as Meta's Cloud API works: a webhook in, messages out over HTTP.

- In: ``GET`` verification (``hub.mode=subscribe``, ``hub.verify_token`` = ours, answered with ``hub.challenge``)
  and ``POST`` notifications signed ``X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app secret, raw body)>``;
  an unsigned or wrongly signed body is refused before it is parsed. Only ``text`` messages (and the buttons of
  our own replies, ``interactive.button_reply``) are answered; statuses and other kinds are acknowledged.
- Out: ``POST {api}/{phone-number-id}/messages`` with the access token: a free-form ``text`` within the 24-hour
  customer-service window opened by the citizen's last message, the approved template outside it (Meta refuses
  free-form messages there).

A WhatsApp number is not an identity (no Cl@ve behind it): its conversations are anonymous, one per number and
Madrid day, answered from the knowledge base; personal procedures and a hand-over send the citizen to the web chat
signed in, or to the 010.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

import requests

from functions.assistant.service import BadSignatureError
from functions.core.blind_index import blind_index
from functions.core.clock import MADRID
from functions.core.errors import PicError

SERVICE_WINDOW = timedelta(hours=24)
SIGNATURE_HEADER = "X-Hub-Signature-256"
TIMEOUT = (2.0, 10.0)
MAX_TEXT = 4096  # characters of a WhatsApp text message


class ProviderUnavailableError(PicError):
    """The Cloud API did not take the reply: the webhook answers 503, so that Meta delivers it again."""

    status, slug, title = 503, "assistant-provider-unavailable", "The messaging provider did not take the reply"


def check_signature(secret: str, body: bytes, header: str | None) -> None:
    """``BadSignatureError`` unless ``header`` is ``sha256=`` and the app secret's HMAC of the raw body."""
    scheme, _, given = (header or "").partition("=")
    if scheme != "sha256" or not given:
        raise BadSignatureError(f"send {SIGNATURE_HEADER}: sha256=<HMAC-SHA256 of the body with the app secret>")
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, given.strip().lower()):
        raise BadSignatureError(f"{SIGNATURE_HEADER} is not the HMAC-SHA256 of this body with the app secret")


def sign(secret: str, body: bytes) -> str:
    """The header value Meta sends (what the local stand-in and the tests sign with)."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Inbound:
    """One message a citizen sent to the council's number."""

    message_id: str  # wamid: Meta redelivers a notification until it is acknowledged
    sender: str  # the wa_id (the number, digits only)
    text: str
    option: Literal["talk-to-person", "callback"] | None
    sent_at: datetime | None


def messages_of(payload: Any) -> list[Inbound]:
    """The text messages and button replies of a notification (anything else is acknowledged and ignored)."""
    found: list[Inbound] = []
    if not isinstance(payload, dict):
        return found
    for entry in _list(payload.get("entry")):
        for change in _list(entry.get("changes") if isinstance(entry, dict) else None):
            value = change.get("value") if isinstance(change, dict) else None
            for message in _list(value.get("messages") if isinstance(value, dict) else None):
                inbound = _inbound(message)
                if inbound is not None:
                    found.append(inbound)
    return found


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _inbound(message: Any) -> Inbound | None:
    if not isinstance(message, dict):
        return None
    message_id, sender, kind = message.get("id"), message.get("from"), message.get("type")
    if not (isinstance(message_id, str) and isinstance(sender, str) and sender.isdigit()) or len(message_id) > 200:
        return None
    sent_at = None
    if str(message.get("timestamp", "")).isdigit():
        sent_at = datetime.fromtimestamp(int(message["timestamp"]), MADRID)
    if kind == "text" and isinstance(message.get("text"), dict):
        body = str(message["text"].get("body") or "").strip()
        return Inbound(message_id, sender, body[:MAX_TEXT], None, sent_at) if body else None
    reply = (message.get("interactive") or {}).get("button_reply") if kind == "interactive" else None
    if isinstance(reply, dict) and reply.get("id") in ("talk-to-person", "callback"):
        return Inbound(message_id, sender, str(reply.get("title") or ""), reply["id"], sent_at)
    return None


def conversation_id(sender: str, at: datetime) -> str:
    """One conversation per number and Madrid day, named by a keyed hash (the number is not in the id)."""
    day = at.astimezone(MADRID).date().isoformat()
    return f"conv-wa-{blind_index('whatsapp', f'{sender}:{day}')[:24]}"


def outbound(to: str, text: str, options: list[dict[str, str]], last_inbound: datetime | None, now: datetime,
             template: str, language: str) -> dict[str, Any]:  # fmt: skip
    """The Cloud API's message: free-form within the 24-hour window (with our buttons), the template outside."""
    if last_inbound is None or now - last_inbound > SERVICE_WINDOW:
        return {
            "messaging_product": "whatsapp",
            "to": to,
            "type": "template",
            "template": {
                "name": template,
                "language": {"code": "es_ES" if language == "es" else "en_GB"},
                "components": [{"type": "body", "parameters": [{"type": "text", "text": text[:1024]}]}],
            },
        }
    buttons = [{"type": "reply", "reply": {"id": o["id"], "title": o["label"][:20]}} for o in options[:3]]
    if not buttons:
        return {"messaging_product": "whatsapp", "to": to, "type": "text", "text": {"body": text[:MAX_TEXT]}}
    return {
        "messaging_product": "whatsapp",
        "to": to,
        "type": "interactive",
        "interactive": {"type": "button", "body": {"text": text[:1024]}, "action": {"buttons": buttons}},
    }


def words_of(reply: dict[str, Any], fallback: str) -> str:
    """What a chat reply says in plain text: its sentence, then the article (title, body, official page) or the
    procedure's items, as WhatsApp shows them."""
    parts = [str(reply.get("text") or fallback)]
    for cited in reply.get("articles") or []:
        parts.append(f"*{cited.get('title')}*\n{cited.get('body')}")
        if cited.get("source"):
            parts.append(str(cited["source"]))
    result = reply.get("result") or {}
    for item in result.get("items") or []:
        parts.append(" · ".join(str(v) for k, v in item.items() if k != "id" and v is not None))
    if result.get("empty"):
        parts.append(str(result["empty"]))
    return "\n\n".join(parts)


class CloudApi:
    """Replies out through the Graph API (a stand-in recording them in ``make run``)."""

    def __init__(self, base_url: str, phone_number_id: str, token: str) -> None:
        self._url = f"{base_url.rstrip('/')}/{phone_number_id}/messages"
        self._token = token
        self._http = requests.Session()

    def send(self, message: dict[str, Any]) -> str:
        """The provider's message id, or ``ProviderUnavailableError``."""
        try:
            response = self._http.post(
                self._url, json=message, headers={"Authorization": f"Bearer {self._token}"}, timeout=TIMEOUT
            )
        except requests.RequestException as exc:
            raise ProviderUnavailableError(f"the provider did not answer ({type(exc).__name__})") from exc
        if response.status_code >= 300:
            raise ProviderUnavailableError(f"the provider answered {response.status_code}")
        try:
            return str(response.json()["messages"][0]["id"])
        except (ValueError, KeyError, IndexError, TypeError):
            return ""
