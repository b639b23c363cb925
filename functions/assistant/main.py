"""Virtual assistant (BOT) entry points: thin. Parse, map to a command, call the use case, answer.

- ``assistant_http`` (Knative Service ``pic-assistant``): ``POST /v1/assistant/conversations`` (anonymous or a
  signed-in citizen's), ``POST /v1/assistant/conversations/{id}/messages`` (a message or a button → the reply),
  ``GET /v1/assistant/conversations/{id}`` (the transcript, to its owner); the WhatsApp Business webhook
  (``GET``/``POST /v1/assistant/whatsapp/webhook``, trusted by Meta's signature alone).
- ``assistant_events`` (``pic-assistant-events``): ``es.madrid.pic.kb.article.updated.v1`` (the knowledge base's
  snapshots, projected with their vectors) and data-subject requests.
"""

from __future__ import annotations

from typing import Any, Literal, Self

import functions_framework
from cloudevents.http import CloudEvent
from flask import Request, Response
from pydantic import BaseModel, ConfigDict, Field, model_validator

from events.kb import ArticleUpdated
from events.rgpd import RgpdRequestOpened
from functions.assistant import handlers, service, whatsapp
from functions.assistant.bootstrap import ports
from functions.core.cloudevent import EventContext, EventFunction
from functions.core.errors import UnsupportedMediaTypeError
from functions.core.http import HttpFunction, Reads, Reply, RequestContext, Route, parse_json
from functions.core.logging import get_logger
from functions.core.settings import get_settings
from functions.core.store import Staged, UnitOfWork

NAME = "pic-assistant"
KEY_HEADER = "X-Conversation-Key"
WEBHOOK_BYTES = 64 * 1024  # a notification carries a few messages (Meta batches up to 1,000 updates: rare)


def _citizen(ctx: RequestContext) -> str | None:
    return ctx.subject.id if ctx.subject.role == "citizen" else None


def _token(ctx: RequestContext) -> str | None:
    scheme, _, token = (ctx.header("Authorization") or "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


# ---- conversations ------------------------------------------------------------------------------------------


class AssistantConversation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channel: Literal["web", "whatsapp"] = "web"
    language: Literal["es", "en"] = "es"


def post_conversation(ctx: RequestContext, body: AssistantConversation) -> Reply:
    """Open a conversation: names no one's record (the policy's self-service); a signed-in citizen's is theirs by
    construction. An anonymous one answers its ``key`` once: send it as ``X-Conversation-Key`` with every
    message (and sign in, sending it too, to be passed to a person with the transcript)."""
    cmd = handlers.OpenConversation(body.channel, body.language, _citizen(ctx))

    def reply(opened: handlers.Opened) -> Reply:
        found = service.conversation_view(opened.conversation, None)
        where = {"Location": f"/v1/assistant/conversations/{opened.conversation.id}"}
        return Reply(201, {**found, "key": opened.key}, where)

    return ctx.run(lambda: handlers.open_conversation(cmd, ports()), reply)


def citizen_of_conversation(ctx: RequestContext, params: dict[str, str]) -> str:
    """Whose conversation it is ("" for an anonymous one: its key decides, in the handler)."""
    found = handlers.find(params["conversation_id"], ports())
    ctx.resource = found
    return found.citizen_id or ""


class AssistantMessage(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field("", max_length=service.MAX_MESSAGE, description="what the citizen writes")
    option: Literal["talk-to-person", "callback"] | None = Field(
        None, description="a button under the assistant's last reply, instead of (or with) text"
    )

    @model_validator(mode="after")
    def _something(self) -> Self:
        if not self.text.strip() and self.option is None:
            raise ValueError("write a message (text) or choose an option")
        return self


def post_message(ctx: RequestContext, conversation_id: str, body: AssistantMessage) -> Reply:
    """The citizen's message and the assistant's reply: an answer with its article, a procedure's result or a
    hand-over; every reply offers a person. Concurrent messages to one conversation are answered one after the
    other (the second, decided again on the first's outcome)."""
    cmd = handlers.Say(conversation_id, body.text, body.option, _citizen(ctx), ctx.header(KEY_HEADER), _token(ctx))

    def reply(turn: handlers.Turn) -> Reply:
        said = {"at": turn.said.at.isoformat(), "speaker": "citizen", "text": turn.said.text}
        return Reply(201, {"conversation_id": conversation_id, "message": said, "reply": turn.reply.reply})

    return ctx.run(lambda: handlers.converse(cmd, ports(), ctx.traceparent), reply)


def get_conversation(ctx: RequestContext, conversation_id: str) -> Reply:
    """The transcript, to its owner (an anonymous one with its key), with the hand-over's case once open."""
    conversation = ctx.resource
    service.check_reach(conversation, _citizen(ctx), ctx.header(KEY_HEADER))
    return Reply(200, handlers.transcript_view(conversation, ports(), _token(ctx), ctx.traceparent))


# ---- WhatsApp Business (Meta's Cloud API) ----------------------------------------------------------------------


def get_webhook(ctx: RequestContext) -> Reply:
    """Meta's verification of the webhook: ``hub.challenge`` back when ``hub.verify_token`` is ours."""
    args = ctx.request.args
    if args.get("hub.mode") != "subscribe" or args.get("hub.verify_token") != get_settings().whatsapp_verify_token:
        raise service.BadSignatureError("hub.mode must be subscribe and hub.verify_token the configured one")
    return Reply(200, args.get("hub.challenge", "").encode(), {"Content-Type": "text/plain; charset=utf-8"})


def post_webhook(ctx: RequestContext) -> Reply:
    """Messages from WhatsApp, trusted by their ``X-Hub-Signature-256`` alone: each text answered once (a
    redelivered notification sends the same reply again, never decides twice); 503 when the provider did not take
    a reply, so that Meta delivers the notification again."""
    raw = ctx.request.get_data(cache=True)
    whatsapp.check_signature(get_settings().whatsapp_app_secret, raw, ctx.header(whatsapp.SIGNATURE_HEADER))
    if ctx.request.mimetype != "application/json":
        raise UnsupportedMediaTypeError(f"send application/json, not {ctx.request.mimetype or 'nothing'}")
    answered = [_answer_whatsapp(ctx, inbound) for inbound in whatsapp.messages_of(parse_json(raw))]
    return Reply(200, {"answered": answered})


def _answer_whatsapp(ctx: RequestContext, inbound: whatsapp.Inbound) -> dict[str, Any]:
    p, settings = ports(), get_settings()
    now = p.clock.now()
    conversation_id = whatsapp.conversation_id(inbound.sender, inbound.sent_at or now)
    language = service.detect_language(inbound.text)
    opening = handlers.OpenConversation("whatsapp", language, None, inbound.sender, conversation_id)
    ctx.run(lambda: handlers.open_whatsapp(opening, p), lambda conversation: Reply(200))
    say = handlers.Say(conversation_id, inbound.text, inbound.option, None, None, None, ref=inbound.message_id)

    def step() -> Staged[handlers.Turn]:
        return handlers.converse(say, p, ctx.traceparent)

    turn: handlers.Turn = ctx.run(step, lambda t: Reply(200, t)).body
    reply: dict[str, Any] = dict(turn.reply.reply or {})
    words = whatsapp.words_of(reply, turn.reply.text)
    options: list[dict[str, str]] = list(reply.get("options") or [])
    language = turn.conversation.language
    last_inbound = turn.conversation.last_inbound_at
    message = whatsapp.outbound(inbound.sender, words, options, last_inbound, now, settings.whatsapp_template, language)
    sent = _cloud_api().send(message)
    get_logger().info("whatsapp reply sent", extra={"conversation": conversation_id, "repeated": turn.repeated})
    return {"message_id": inbound.message_id, "conversation_id": conversation_id, "reply": reply.get("kind"),
            "sent": sent, "repeated": turn.repeated}  # fmt: skip


def _cloud_api() -> whatsapp.CloudApi:
    global _CLOUD
    if _CLOUD is None:
        s = get_settings()
        _CLOUD = whatsapp.CloudApi(s.whatsapp_api_url, s.whatsapp_phone_number_id, s.whatsapp_access_token)
    return _CLOUD


_CLOUD: whatsapp.CloudApi | None = None


def conversation_summary(body: dict[str, Any]) -> dict[str, Any]:
    return {"id": body.get("id") or body.get("conversation_id"), "view": "summary"}


CONVERSATION = "/v1/assistant/conversations/<conversation_id>"
READS = Reads("assistant-conversation", ("conversations",), conversation_summary)

ROUTES = [
    Route("/v1/assistant/conversations", "POST", post_conversation, "Open a conversation with the virtual "
          "assistant (anonymous, or as the signed-in citizen)", request_model=AssistantConversation, status=201,
          idempotent_writes=True, links={"conversation_id": "/id"}, action="assistant.converse", anonymous=True,
          max_body_bytes=4096),
    Route(f"{CONVERSATION}/messages", "POST", post_message, "A message to the assistant and its reply (an answer "
          "from the knowledge base, a procedure or a hand-over)", request_model=AssistantMessage, status=201,
          idempotent_writes=True, action="assistant.converse", anonymous=True, citizen=citizen_of_conversation,
          reads=READS, max_body_bytes=8192),
    Route(CONVERSATION, "GET", get_conversation, "The conversation's transcript, to its owner",
          action="assistant.converse", anonymous=True, citizen=citizen_of_conversation, reads=READS),
    Route("/v1/assistant/whatsapp/webhook", "GET", get_webhook, "WhatsApp Business webhook verification "
          "(hub.challenge)", public=True),
    Route("/v1/assistant/whatsapp/webhook", "POST", post_webhook, "WhatsApp Business messages (signed "
          "X-Hub-Signature-256), answered through the Cloud API", public=True, max_body_bytes=WEBHOOK_BYTES),
]  # fmt: skip

http_api = HttpFunction(NAME, ROUTES)


@functions_framework.http
def assistant_http(request: Request) -> Response:
    return http_api(request)


# ---- events ---------------------------------------------------------------------------------------------------


def on_article_updated(ctx: EventContext, data: Any) -> UnitOfWork:
    assert isinstance(data, ArticleUpdated)
    return handlers.project_article(data, ports())


def on_rgpd_request_opened(ctx: EventContext, data: Any) -> UnitOfWork:
    assert isinstance(data, RgpdRequestOpened)
    return handlers.answer_rights(data, ports(), ctx.traceparent)


event_api = EventFunction(
    "pic-assistant-events",
    {
        "es.madrid.pic.kb.article.updated.v1": on_article_updated,
        "es.madrid.pic.rgpd.request.opened.v1": on_rgpd_request_opened,
    },
)


@functions_framework.cloud_event
def assistant_events(event: CloudEvent) -> None:
    event_api(event)
