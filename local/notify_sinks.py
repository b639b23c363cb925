"""Local stand-ins for the notification providers (``make run`` only, never deployed).

- an SMTP capture (aiosmtpd) that the e-mail adapter talks to over real SMTP, started by ``python -m local``;
- an SMS provider and an FCM-style push provider, as HTTP endpoints of the gateway
  (``POST /dev/sms/messages``, ``POST /dev/push/messages``);
- what each received, newest first: ``GET /dev/mail``, ``GET /dev/sms``, ``GET /dev/push`` (``?to=`` filters);
- a WhatsApp Business Cloud API stand-in for the assistant's replies (``POST /dev/whatsapp/<phone number
  id>/messages`` with the access token), listed at ``GET /dev/whatsapp`` (``?to=<wa_id>``);
- the area systems' webhooks PAY sends (``POST /dev/webhooks?system=<name>``, signature checked), listed at
  ``GET /dev/webhooks`` (``?to=<name>``).

Fault injection, to exercise retries and failures: an e-mail to ``fail-temp...@`` is answered 451 and to
``fail-perm...@`` 550; an SMS to a number ending in 0503 is answered 503 and in 0400, 400; a push endpoint
containing ``fail-503`` is answered 503; a WhatsApp reply to a number ending in 0503 is answered 503. Nothing is
kept of refused messages.

Provider feedback (NOT's blocklist, issue 16), as Amazon SES's mailbox simulator does it: an e-mail taken for an
address whose local part starts with ``bounce`` hard-bounces, ``soft-bounce`` soft-bounces and ``complaint``
complains — the capture keeps it, then posts the SES event (``eventType`` Bounce/Complaint, the notification
in ``mail.tags``) signed ``X-PIC-Signature`` with ``PIC_FEEDBACK_SECRET`` to
``{PIC_API_URL}/v1/notification-feedback/local``, retried while NOT answers 409 (still sending) or is down.
(Local parts, not ``@bounce.test`` domains: ``.test`` is a special-use name, RFC 6761, that C360's
e-mail validation refuses.) Opens and clicks are only what a provider tells: ``POST /dev/feedback``
``{"notification_id", "event": "Open" | "Click", "link"?}`` plays the provider telling them in the
walk-through; PIC adds no tracking pixel and rewrites no link.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import uuid
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import requests
from aiosmtpd.controller import Controller
from werkzeug.wrappers import Request, Response

from functions.core import jsontext, webhooks
from functions.core.settings import get_settings
from local.jsonreply import as_json

SCHEMA = """
CREATE TABLE IF NOT EXISTS messages (
    id TEXT PRIMARY KEY, kind TEXT NOT NULL, at REAL NOT NULL, recipient TEXT NOT NULL,
    notification_id TEXT, subject TEXT, body TEXT, raw TEXT
);
CREATE INDEX IF NOT EXISTS messages_kind ON messages (kind, at);
"""


class SinkStore:
    """Every message the local providers took, in ``<data dir>/notify-sinks.sqlite`` (WAL: shared by processes)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        with self._db() as db:
            db.executescript(SCHEMA)

    def _db(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            self._local.db = db
        return db

    def add(
        self, kind: str, recipient: str, notification_id: str | None, subject: str | None, body: str, raw: str
    ) -> str:
        message_id = str(uuid.uuid4())
        self._db().execute(
            "INSERT INTO messages VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (message_id, kind, time.time(), recipient, notification_id, subject, body, raw),
        )
        return message_id

    def list(self, kind: str, recipient: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        query, args = "SELECT id, at, recipient, notification_id, subject, body FROM messages WHERE kind = ?", [kind]
        if recipient:
            query, args = query + " AND recipient = ?", [*args, recipient]
        rows = self._db().execute(query + " ORDER BY at DESC LIMIT ?", (*args, limit)).fetchall()
        keys = ("id", "at", "to", "notification_id", "subject", "body")
        return [dict(zip(keys, row, strict=True)) for row in rows]

    def count(self, kind: str | None = None, recipient: str | None = None) -> int:
        """How many messages there are of ``kind`` (all kinds when ``None``), to ``recipient`` when given."""
        query = "SELECT COUNT(*) FROM messages WHERE (? IS NULL OR kind = ?) AND (? IS NULL OR recipient = ?)"
        kind, recipient = kind or None, recipient or None
        return int(self._db().execute(query, (kind, kind, recipient, recipient)).fetchone()[0])


FEEDBACK_PREFIXES = (("soft-bounce", "Bounce", "Transient"), ("bounce", "Bounce", "Permanent"),
                     ("complaint", "Complaint", None))  # fmt: skip
FEEDBACK_DELAY = 0.3  # seconds: a provider tells after it tried the mailbox, not while PIC is still sending
FEEDBACK_ATTEMPTS = 40


def ses_event(notification_id: str, event_type: str, bounce_type: str | None = None, link: str | None = None) -> bytes:
    """An Amazon SES event-publishing record (the fields NOT reads), as SNS would carry it."""
    event: dict[str, Any] = {"eventType": event_type, "mail": {"tags": {"notification": [notification_id]}}}
    if bounce_type:
        event["bounce"] = {"bounceType": bounce_type, "bounceSubType": "General"}
    if event_type == "Complaint":
        event["complaint"] = {"complaintFeedbackType": "abuse"}
    if link:
        event["click"] = {"link": link}
    return json.dumps(event).encode()


def post_feedback(body: bytes) -> int:
    """POST one signed feedback to NOT as the provider does: retried while NOT answers 409 or 5xx or is down;
    answers the last status (0: never reached)."""
    settings = get_settings()
    url = f"{settings.api_url.rstrip('/')}/v1/notification-feedback/local"
    status = 0
    for _ in range(FEEDBACK_ATTEMPTS):
        headers = {"Content-Type": "application/json",
                   "X-PIC-Signature": webhooks.sign(settings.feedback_secret, int(time.time()), body)}  # fmt: skip
        try:
            status = requests.post(url, data=body, headers=headers, timeout=10).status_code
        except requests.RequestException:
            status = 0
        if status and status != 409 and status < 500:
            return status
        time.sleep(0.25)
    return status


def feedback_later(body: bytes) -> None:
    """The provider's feedback, a moment after it took the message, from its own thread."""

    def later() -> None:
        time.sleep(FEEDBACK_DELAY)
        post_feedback(body)

    threading.Thread(target=later, name="sink-feedback", daemon=True).start()


def feedback_for(address: str) -> tuple[str, str | None] | None:
    local = address.split("@", 1)[0].lower()
    return next(((kind, sub) for prefix, kind, sub in FEEDBACK_PREFIXES if local.startswith(prefix)), None)


class MailCapture:
    """aiosmtpd handler: stores each accepted message; answers the fault-injection addresses as told."""

    def __init__(self, store: SinkStore) -> None:
        self.store = store

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:  # noqa: N802
        local = address.split("@", 1)[0].lower()
        if local.startswith("fail-temp"):
            return "451 4.3.0 Try again later (fault injection)"
        if local.startswith("fail-perm"):
            return "550 5.1.1 No such user (fault injection)"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        mail = message_from_bytes(envelope.content, policy=default_policy)
        body_part = mail.get_body(preferencelist=("plain",))
        body = body_part.get_content() if body_part is not None else ""
        notification_id = mail.get("X-PIC-Notification")
        for rcpt in envelope.rcpt_tos:
            self.store.add(
                "mail", rcpt, notification_id, str(mail.get("Subject", "")), body,
                envelope.content.decode("utf-8", "replace"),
            )  # fmt: skip
            simulated = feedback_for(rcpt)
            if simulated and notification_id:
                feedback_later(ses_event(str(notification_id), *simulated))
        return "250 Message accepted for delivery"


def start_smtp(data_dir: Path, port: int) -> Controller:
    """The SMTP capture on 127.0.0.1:``port`` in its own thread (``controller.stop()`` ends it)."""
    controller = Controller(MailCapture(SinkStore(data_dir / "notify-sinks.sqlite")), hostname="127.0.0.1", port=port)
    controller.start()
    return controller


def _payload(request: Request) -> dict[str, Any]:
    """The provider's JSON request, read the platform's one way; anything else is an empty request (the
    provider then answers 400 as a real one would)."""
    try:
        payload = jsontext.loads(request.get_data())
    except jsontext.JsonTextError:
        return {}
    return payload if isinstance(payload, dict) else {}


class ProviderSinks:
    """The gateway's ``/dev/mail``, ``/dev/sms``, ``/dev/push`` and the SMS/push provider endpoints."""

    def __init__(self, data_dir: Path) -> None:
        self.store = SinkStore(data_dir / "notify-sinks.sqlite")

    def handlers(self) -> dict[tuple[str, str], Any]:
        return {
            ("GET", "/dev/mail"): lambda r: self.listing("mail", r),
            ("GET", "/dev/sms"): lambda r: self.listing("sms", r),
            ("GET", "/dev/push"): lambda r: self.listing("push", r),
            ("POST", "/dev/sms/messages"): self.sms,
            ("POST", "/dev/push/messages"): self.push,
            # PAY: the area systems' webhooks (PIC_PAYMENT_WEBHOOKS in make run), each checked as a receiver would
            ("POST", "/dev/webhooks"): self.webhook,
            ("GET", "/dev/whatsapp"): lambda r: self.listing("whatsapp", r),
            ("POST", f"/dev/whatsapp/{get_settings().whatsapp_phone_number_id}/messages"): self.whatsapp,
            ("GET", "/dev/webhooks"): lambda r: self.listing("webhook", r),
            # NOT: the provider telling an open or a click (SES does; PIC tracks nothing itself)
            ("POST", "/dev/feedback"): self.feedback,
        }

    def feedback(self, request: Request) -> Response:
        """Play the provider reporting an open or a click of a message it delivered: the signed SES event is
        posted to NOT and NOT's answer returned."""
        payload = _payload(request)
        event, notification_id = payload.get("event"), payload.get("notification_id")
        if event not in ("Open", "Click") or not isinstance(notification_id, str) or not notification_id:
            return as_json({"error": "send {notification_id, event: Open | Click, link?}"}, 400)
        link = payload.get("link") if event == "Click" else None
        status = post_feedback(ses_event(notification_id, str(event), link=str(link) if link else None))
        return as_json({"posted": event, "answered": status}, 200 if 200 <= status < 300 else 502)

    def listing(self, kind: str, request: Request) -> Response:
        raw = request.args.get("limit", "100")
        if not raw.isdigit():
            return as_json({"error": "limit must be a whole number"}, 400)
        limit = min(int(raw), 200_000)
        recipient = request.args.get("to")
        messages = self.store.list(kind, recipient, limit)
        return as_json({"count": self.store.count(kind, recipient), "messages": messages})

    def sms(self, request: Request) -> Response:
        payload = _payload(request)
        to, text = str(payload.get("to", "")), str(payload.get("text", ""))
        if not to.startswith("+") or not text:
            return as_json({"error": "send {to: E.164, text}"}, 400)
        if to.endswith("0503"):
            return as_json({"error": "provider busy (fault injection)"}, 503)
        if to.endswith("0400"):
            return as_json({"error": "number not in service (fault injection)"}, 400)
        message_id = self.store.add("sms", to, payload.get("reference"), None, text, json.dumps(payload))
        return as_json({"id": message_id, "status": "queued"}, 201)

    def webhook(self, request: Request) -> Response:
        """A signed webhook, as an area system takes it: the signature checked with PIC's key and kept with
        the body (``subject``: ``verified`` or ``bad-signature``, which is also answered 401)."""
        body = request.get_data()
        secret = get_settings().callback_secret
        good = webhooks.verify(secret, request.headers.get("X-PIC-Signature", ""), body, int(time.time()))
        system = request.args.get("system", "unknown")
        event_id = request.headers.get("X-PIC-Event-Id")
        self.store.add("webhook", system, event_id, "verified" if good else "bad-signature", body.decode(), "")
        return as_json({"received": good}, 200 if good else 401)

    def whatsapp(self, request: Request) -> Response:
        """A message as the Cloud API takes it (``text``, ``interactive`` buttons or ``template``), the token
        checked; kept with its kind (``subject``) and its words (``body``)."""
        if request.headers.get("Authorization") != f"Bearer {get_settings().whatsapp_access_token}":
            return as_json({"error": {"message": "Invalid OAuth access token", "code": 190}}, 401)
        payload = _payload(request)
        to, kind = str(payload.get("to", "")), str(payload.get("type", ""))
        words = {
            "text": (payload.get("text") or {}).get("body"),
            "interactive": ((payload.get("interactive") or {}).get("body") or {}).get("text"),
            "template": json.dumps((payload.get("template") or {}).get("components"), ensure_ascii=False),
        }.get(kind)
        if payload.get("messaging_product") != "whatsapp" or not to.isdigit() or not words:
            return as_json(
                {"error": {"message": "send {messaging_product: whatsapp, to, type, ...}", "code": 100}}, 400
            )
        if to.endswith("0503"):
            return as_json({"error": {"message": "service unavailable (fault injection)", "code": 131000}}, 503)
        message_id = self.store.add("whatsapp", to, None, kind, str(words), json.dumps(payload, ensure_ascii=False))
        return as_json({"messaging_product": "whatsapp", "contacts": [{"input": to, "wa_id": to}],
                      "messages": [{"id": f"wamid.local-{message_id}"}]})  # fmt: skip

    def push(self, request: Request) -> Response:
        payload = _payload(request)
        to = str(payload.get("to", ""))
        note = payload.get("notification") or {}
        if not to or not isinstance(note, dict) or not note.get("body"):
            return as_json({"error": "send {to, notification: {title, body}}"}, 400)
        if "fail-503" in to:
            return as_json({"error": "push service unavailable (fault injection)"}, 503)
        data: dict[str, Any] = payload["data"] if isinstance(payload.get("data"), dict) else {}
        message_id = self.store.add(
            "push", to, data.get("notification_id"), note.get("title"), str(note["body"]), json.dumps(payload)
        )
        return as_json({"id": message_id}, 201)
