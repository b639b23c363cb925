"""Assistant use cases: open a conversation, answer a message, hand over to a person, project the knowledge base,
answer data-subject requests; over the domain's ports. Nothing here knows HTTP, CloudEvents or DynamoDB.

Each message is decided by ``service.decide`` over what the assistant knows now (``knowledge.ProjectedKnowledge``);
the citizen's line and the assistant's reply are staged with the conversation's new version (a second message
to the same conversation at the same moment loses the race and is decided again after the first), and a hand-over
stages ``case.requested`` in the same unit: the case is asked for if, and only if, the reply that announces it is
stored. Procedures that touch personal data call the platform's own API with the citizen's credentials before
anything is staged.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal, Protocol

from events.case import CaseRequested, TranscriptLine
from events.kb import ArticleUpdated
from events.rgpd import RgpdRequestOpened
from functions.assistant import knowledge, rights, service
from functions.assistant.knowledge import KnowledgeStore, KnowledgeView
from functions.assistant.retrieval import Embedder
from functions.assistant.service import (
    CALLBACK,
    TALK_TO_PERSON,
    AssistantStore,
    Channel,
    Conversation,
    Handover,
    Language,
    Line,
    ProcedureReply,
)
from functions.core.calendar import BusinessCalendar
from functions.core.clock import Clock
from functions.core.errors import PicError
from functions.core.outbox import stage_event
from functions.core.policy import Policy
from functions.core.store import Staged, UnitOfWork

PRODUCER = "pic-assistant"
Option = Literal["talk-to-person", "callback"]


class Knowledge(Protocol):
    def at(self, now: datetime) -> KnowledgeView: ...


class PlatformApi(Protocol):
    """The platform's own API, called with the citizen's credentials (never another domain's code)."""

    def debts(self, citizen_id: str, token: str, traceparent: str) -> list[dict[str, Any]]: ...
    def cases(self, citizen_id: str, token: str, traceparent: str) -> list[dict[str, Any]]: ...


class Store(AssistantStore, KnowledgeStore, Protocol):
    """The assistant's one table: conversations and the knowledge base's projection."""


@dataclass(frozen=True)
class AssistantPorts:
    store: Store
    knowledge: Knowledge
    platform: PlatformApi
    calendar: BusinessCalendar  # when the people behind the assistant are at work (the 010's hours)
    clock: Clock
    policy: Policy
    embedder: Callable[[], Embedder] | None  # for projecting the knowledge base (None: BM25 alone)


# ---- conversations ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OpenConversation:
    channel: Channel
    language: Language
    citizen_id: str | None  # the signed-in citizen, or None: anonymous
    contact: str | None = None  # a WhatsApp number
    conversation_id: str | None = None  # a WhatsApp day's conversation (the adapter's own id)


@dataclass(frozen=True)
class Opened:
    conversation: Conversation
    key: str | None  # an anonymous conversation's key, told once


def new_id() -> str:
    return f"conv-{secrets.token_hex(12)}"


def open_conversation(cmd: OpenConversation, ports: AssistantPorts) -> Staged[Opened]:
    """A conversation: a signed-in citizen's, or an anonymous one reached with the key answered once."""
    key = secrets.token_urlsafe(24) if cmd.citizen_id is None and cmd.contact is None else None
    conversation = Conversation(
        id=cmd.conversation_id or new_id(),
        channel=cmd.channel,
        language=cmd.language,
        opened_at=ports.clock.now(),
        citizen_id=cmd.citizen_id,
        key_digest=service.key_digest(key) if key else None,
        contact=cmd.contact,
        version=1,
    )
    uow = UnitOfWork()
    ports.store.stage_conversation(uow, conversation, None)
    return Staged(uow, Opened(conversation, key))


def open_whatsapp(cmd: OpenConversation, ports: AssistantPorts) -> Staged[Conversation]:
    """The number's conversation of the day: the one open, or a new one (a race between two of its messages is
    decided again: the loser finds the winner's)."""
    assert cmd.conversation_id is not None
    found = ports.store.fetch_conversation(cmd.conversation_id)
    if found is not None:
        return Staged(UnitOfWork(), found)
    staged = open_conversation(cmd, ports)
    return Staged(staged.unit, staged.result.conversation)


def find(conversation_id: str, ports: AssistantPorts) -> Conversation:
    found = ports.store.fetch_conversation(conversation_id)
    if found is None:
        raise service.ConversationNotFoundError(f"no conversation {conversation_id}")
    return found


@dataclass(frozen=True)
class Say:
    """A citizen's message, or a button under the last reply (``option``), with who sends it."""

    conversation_id: str
    text: str
    option: Option | None
    citizen_id: str | None
    key: str | None
    token: str | None  # the citizen's bearer token, for procedures through the platform's API
    ref: str | None = None  # the channel's id of the message (WhatsApp's): a redelivery is answered once


@dataclass(frozen=True)
class Turn:
    conversation: Conversation
    said: Line
    reply: Line
    repeated: bool = False  # the channel redelivered a message already answered


def converse(cmd: Say, ports: AssistantPorts, traceparent: str | None) -> Staged[Turn]:
    """Answer one message. A signed-in citizen who writes to the anonymous conversation they hold the key of
    takes it over (they signed in to be handed over): the transcript goes with them."""
    conversation = find(cmd.conversation_id, ports)
    if cmd.ref is None or conversation.contact is None:
        claimable = conversation.citizen_id is None and cmd.citizen_id is not None
        service.check_reach(conversation, None if claimable else cmd.citizen_id, cmd.key)
        if claimable:
            conversation = replace(conversation, citizen_id=cmd.citizen_id, key_digest=None)
    repeated = _answered(conversation, cmd.ref)
    if repeated is not None:
        return Staged(UnitOfWork(), repeated)
    now = ports.clock.now()
    said = Line(now, "citizen", cmd.text.strip() or _option_text(cmd.option, conversation.language), ref=cmd.ref)
    reply, articles, handover = _reply(cmd, conversation, ports, now, traceparent)
    answered = Line(now, "assistant", str(reply["text"]), reply)
    updated = service.with_lines(conversation, said, answered, articles=articles)
    if handover and updated.handed_over_at is None:
        updated = replace(updated, handed_over_at=now)
    uow = UnitOfWork()
    if handover:
        stage_event(uow, handover_request(updated, cmd.option == CALLBACK), subject=updated.citizen_id,
                    traceparent=traceparent, now=now, producer=PRODUCER)  # fmt: skip
    ports.store.stage_conversation(uow, replace(updated, version=conversation.version + 1), conversation.version)
    return Staged(uow, Turn(replace(updated, version=conversation.version + 1), said, answered))


def _answered(conversation: Conversation, ref: str | None) -> Turn | None:
    if ref is None:
        return None
    for i, line in enumerate(conversation.lines[:-1]):
        if line.ref == ref:
            return Turn(conversation, line, conversation.lines[i + 1], repeated=True)
    return None


def _option_text(option: Option | None, language: Language) -> str:
    return service.option_label(option or TALK_TO_PERSON, language)


def _reply(
    cmd: Say, conversation: Conversation, ports: AssistantPorts, now: datetime, traceparent: str | None
) -> tuple[dict[str, Any], list[str], bool]:
    """The structured reply, the articles it used and whether it asks a person to take over."""
    language = conversation.language
    signed_in = conversation.citizen_id is not None
    view: KnowledgeView | None = None
    if cmd.option is not None:
        decided: service.Reply = service.handover("asked-for-person", language, ports.calendar, now)
    else:
        view = ports.knowledge.at(now)
        decided = service.decide(
            cmd.text, retriever=view.retriever, calendar=ports.calendar, now=now, authenticated=signed_in,
            language=language,
        )  # fmt: skip
    base: dict[str, Any] = {"kind": decided.kind, "options": service.option_labels(decided)}
    if isinstance(decided, service.Answer):
        assert view is not None
        cited = [
            found.as_json()
            for article_id in (decided.article_id, *decided.alternatives)
            if (article := view.articles.get(article_id)) is not None
            and (found := knowledge.cite(article, language, now)) is not None
        ]
        reply = {**base, "text": service.message_of(decided), "confidence": decided.confidence,
                 "articles": cited[:1], "alternatives": cited[1:]}  # fmt: skip
        return reply, [decided.article_id], False
    if isinstance(decided, ProcedureReply):
        return _procedure(decided, conversation, cmd.token, base, ports, traceparent), [], False
    return _handover(decided, conversation, cmd.option, base), [], signed_in


def _procedure(
    decided: ProcedureReply,
    conversation: Conversation,
    token: str | None,
    base: dict[str, Any],
    ports: AssistantPorts,
    traceparent: str | None,
) -> dict[str, Any]:
    """What the citizen owes, or how their cases are going, read through the platform's own API as them."""
    reply = {**base, "procedure": decided.procedure, "requires_authentication": decided.requires_authentication}
    if decided.requires_authentication or conversation.citizen_id is None or token is None:
        return {**reply, "requires_authentication": True, "text": service.sign_in_text(conversation, decided)}
    call = ports.platform.debts if decided.procedure == "debts" else ports.platform.cases
    try:
        found = call(conversation.citizen_id, token, traceparent or "")
    except PicError as refused:  # the platform refused or did not answer: say so, a person is one tap away
        return {**reply, "text": service.text("procedure-failed", decided.language), "error": refused.slug}
    return {**reply, "text": service.message_of(decided), "result": service.procedure_result(decided, found)}


def _handover(
    decided: Handover, conversation: Conversation, option: Option | None, base: dict[str, Any]
) -> dict[str, Any]:
    signed_in = conversation.citizen_id is not None
    text = service.message_of(decided)
    if not signed_in:
        text = service.text("handover-whatsapp" if conversation.channel == "whatsapp" else "handover-sign-in",
                            decided.language)  # fmt: skip
    elif option == CALLBACK:
        text = service.text("callback-requested", decided.language)
    else:
        text = f"{text} {service.text('handover-requested', decided.language)}"
    return {
        **base,
        "text": text,
        "handover": {
            "reason": decided.reason,
            "requested": signed_in,
            "request_id": conversation.id if signed_in else None,
            "sign_in": not signed_in,
            "callback": option == CALLBACK,
            "open_now": decided.open_now,
            "next_opening": decided.next_opening.isoformat() if decided.next_opening else None,
        },
    }


def handover_request(conversation: Conversation, callback: bool) -> CaseRequested:
    """The case a hand-over asks for: level 1 general attention, the transcript and the articles used; the
    conversation's id is the request's, so asking twice (or a retry) opens one case."""
    assert conversation.citizen_id is not None
    lines = [line for line in conversation.lines if line.text.strip()][-200:]
    first = next((line.text for line in lines if line.speaker == "citizen"), "")
    subject = f"Asistente virtual {conversation.id}: {first}"[:200]
    description = f"Conversación {conversation.id} en el canal {conversation.channel}, pasada a una persona."
    if callback:
        description += " La persona pide que la llamen (fuera de horario)."
    return CaseRequested(
        request_id=conversation.id,
        citizen_id=conversation.citizen_id,
        area=service.HANDOVER_AREA,
        category=service.HANDOVER_CATEGORY,
        channel="assistant",
        subject=subject,
        description=description,
        transcript=[TranscriptLine(at=line.at, speaker=line.speaker, text=line.text[:2000]) for line in lines],
        kb_articles=list(conversation.articles)[:20],
    )


def transcript_view(
    conversation: Conversation, ports: AssistantPorts, token: str | None, traceparent: str
) -> dict[str, Any]:
    """The conversation as its owner reads it back, with the hand-over's case once the case domain opened it
    (found through the case API, with the citizen's credentials)."""
    case = None
    if conversation.handed_over_at is not None and conversation.citizen_id and token:
        try:
            cases = ports.platform.cases(conversation.citizen_id, token, traceparent)
        except PicError:
            cases = []
        case = next((c for c in cases if conversation.id in str(c.get("subject", ""))), None)
    return service.conversation_view(conversation, case)


# ---- the knowledge base's projection ----------------------------------------------------------------------------


def project_article(data: ArticleUpdated, ports: AssistantPorts) -> UnitOfWork:
    """Keep the highest revision of an article (an older or repeated snapshot changes nothing), with the vectors
    of its texts embedded now, once."""
    uow = UnitOfWork()
    found = ports.store.fetch_article(data.article_id)
    current, kept = found if found is not None else (None, {})
    if not knowledge.newer(data, current):
        return uow
    embedder = ports.embedder() if ports.embedder is not None else None
    vectors = knowledge.vectors_for(data, kept, embedder)
    ports.store.stage_article(uow, data, vectors, current.revision if current else None)
    return uow


# ---- data-subject rights ----------------------------------------------------------------------------------------


def answer_rights(data: RgpdRequestOpened, ports: AssistantPorts, traceparent: str | None) -> UnitOfWork:
    result = rights.answer(data, ports.store, ports.policy, ports.clock.now())
    return result.unit(
        traceparent, lambda uow, plan: plan.stage(uow, lambda u, gone: ports.store.stage_erasure(u, gone))
    )
