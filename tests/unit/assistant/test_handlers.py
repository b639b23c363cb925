"""The assistant's use cases on in-memory ports (BM25 alone, the real policy engine): the knowledge base projected
from its snapshots (latest revision wins, scheduled publication and archive, internal articles unseen), answers with
their article, procedures through the platform's API with the citizen's credentials, hand-overs that ask for one case
with the transcript, anonymous conversations reached by their key and taken over on signing in, races, redeliveries
and the RGPD answers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest

from events.case import CaseRequested
from events.kb import ArticleUpdated
from events.rgpd import RgpdRequestOpened
from functions.assistant import handlers, service
from functions.assistant.handlers import AssistantPorts, OpenConversation, Say
from functions.assistant.knowledge import ProjectedKnowledge
from functions.core.calendar import BusinessCalendar
from functions.core.errors import LostRaceError
from functions.core.policy import EmbeddedPolicy
from tests.unit.assistant.fakes import FakeAssistantStore, FakePlatform
from tests.unit.fakes import FixedClock, event_models, events_in

MONDAY = datetime(2026, 12, 14, 9, 0, tzinfo=UTC)  # 10:00 in Madrid, a working Monday
HOURS = BusinessCalendar.from_hours({d: ["08:30-21:00"] for d in ("mon", "tue", "wed", "thu", "fri")})


def article(article_id: str, revision: int = 1, **changes: Any) -> ArticleUpdated:
    texts = {
        "padron-alta": ("Alta en el Padrón municipal", "Para empadronarte pide cita previa en una oficina de atención "
                        "y lleva tu documento de identidad y el contrato de la vivienda.", ["empadronarse", "padron"]),
        "recogida-muebles": ("Recogida de muebles y enseres", "El servicio de recogida de muebles viejos es gratuito: "
                             "pide cita en la web o en el 010 y déjalos en el portal.", ["muebles", "enseres"]),
    }[article_id]  # fmt: skip
    version = {"version": 1, "publish_at": MONDAY - timedelta(days=1), "audiences": ["public", "assistant"],
               "areas": ["atencion-ciudadania"], "source": f"https://www.madrid.es/{article_id}",
               "texts": {"es": {"title": texts[0], "body": texts[1], "keywords": texts[2]}}}  # fmt: skip
    version.update(changes.pop("version", {}))
    data = {"article_id": article_id, "revision": revision, "updated_at": MONDAY - timedelta(days=1),
            "versions": [version], **changes}  # fmt: skip
    return ArticleUpdated.model_validate(data)


class CountingEmbedder:
    """A stand-in for the model: a vector per text, counting the texts embedded."""

    def __init__(self) -> None:
        self.embedded = 0

    def passages(self, texts: list[str]) -> np.ndarray:
        self.embedded += len(texts)
        return np.stack([self.query(t) for t in texts])

    def query(self, text: str) -> np.ndarray:
        rng = np.random.default_rng(abs(hash(text)) % 2**32)
        vector = rng.normal(size=8).astype(np.float32)
        return vector / np.linalg.norm(vector)


@pytest.fixture
def store() -> FakeAssistantStore:
    return FakeAssistantStore()


@pytest.fixture
def platform() -> FakePlatform:
    return FakePlatform()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(MONDAY)


@pytest.fixture
def ports(
    store: FakeAssistantStore, platform: FakePlatform, clock: FixedClock, policy: EmbeddedPolicy
) -> AssistantPorts:
    p = AssistantPorts(store=store, knowledge=ProjectedKnowledge(store, None), platform=platform, calendar=HOURS,
                       clock=clock, policy=policy, embedder=None)  # fmt: skip
    for found in (article("padron-alta"), article("recogida-muebles")):
        store.commit(handlers.project_article(found, p))
    return p


def opened(ports: AssistantPorts, store: FakeAssistantStore, citizen: str | None = None) -> handlers.Opened:
    staged = handlers.open_conversation(OpenConversation("web", "es", citizen), ports)
    store.commit(staged.unit)
    return staged.result


def say(
    ports: AssistantPorts,
    store: FakeAssistantStore,
    conversation_id: str,
    text: str = "",
    *,
    citizen: str | None = None,
    key: str | None = None,
    option: Any = None,
) -> tuple[handlers.Turn, Any]:
    staged = handlers.converse(Say(conversation_id, text, option, citizen, key, "tok-" + str(citizen)), ports, None)
    store.commit(staged.unit)
    return staged.result, staged.unit


# ---- the knowledge base's projection --------------------------------------------------------------------------


def test_the_highest_revision_wins_and_a_redelivery_changes_nothing(
    ports: AssistantPorts, store: FakeAssistantStore
) -> None:
    # GIVEN revision 3 of an article projected
    newer = article("padron-alta", 3, version={"texts": {"es": {"title": "Empadronamiento", "body": "x" * 30}}})
    store.commit(handlers.project_article(newer, ports))
    # WHEN revision 2 arrives late, and revision 3 again
    late = handlers.project_article(article("padron-alta", 2), ports)
    again = handlers.project_article(newer, ports)
    # THEN neither stages anything: revision 3 stays
    assert len(late) == 0 and len(again) == 0
    assert store.articles["padron-alta"][0].revision == 3


def test_scheduled_archived_and_internal_articles_are_seen_only_when_visible(
    ports: AssistantPorts, store: FakeAssistantStore, clock: FixedClock
) -> None:
    # GIVEN the removal article archived in an hour, and an internal-only version of the Padrón's
    store.commit(
        handlers.project_article(article("recogida-muebles", 2, archive_at=MONDAY + timedelta(hours=1)), ports)
    )
    store.commit(handlers.project_article(article("padron-alta", 2, version={"audiences": ["internal"]}), ports))
    # WHEN asked now THEN the removal article answers; the internal one is not seen
    view = ports.knowledge.at(MONDAY)
    assert [c.article_id for c in view.retriever.rank("recogida de muebles viejos", "es")][:1] == ["recogida-muebles"]
    assert all(c.article_id != "padron-alta" for c in view.retriever.rank("empadronarse padron", "es"))
    # WHEN the archive instant passes THEN the article is no longer answered, with no event
    later = ports.knowledge.at(MONDAY + timedelta(hours=2))
    assert all(c.article_id != "recogida-muebles" for c in later.retriever.rank("recogida de muebles viejos", "es"))


def test_vectors_are_embedded_once_on_projection_and_reused(
    store: FakeAssistantStore, platform: FakePlatform, policy: EmbeddedPolicy
) -> None:
    embedder = CountingEmbedder()
    p = AssistantPorts(store=store, knowledge=ProjectedKnowledge(store, lambda: embedder), platform=platform,
                       calendar=HOURS, clock=FixedClock(MONDAY), policy=policy, embedder=lambda: embedder)  # fmt: skip
    # GIVEN an article projected (its one text embedded, the vector stored with it)
    store.commit(handlers.project_article(article("padron-alta"), p))
    assert embedder.embedded == 1 and len(store.articles["padron-alta"][1]) == 1
    # WHEN a new revision with the same texts arrives, and the retriever is built
    store.commit(handlers.project_article(article("padron-alta", 2), p))
    p.knowledge.at(MONDAY)
    # THEN nothing is embedded again
    assert embedder.embedded == 1


def test_the_retriever_is_rebuilt_only_when_the_projection_moved(
    ports: AssistantPorts, store: FakeAssistantStore
) -> None:
    ports.knowledge.at(MONDAY)
    reads = store.article_reads
    ports.knowledge.at(MONDAY + timedelta(minutes=1))
    assert store.article_reads == reads
    store.commit(handlers.project_article(article("padron-alta", 5), ports))
    ports.knowledge.at(MONDAY + timedelta(minutes=2))
    assert store.article_reads == reads + 1


# ---- answers, procedures, hand-overs ------------------------------------------------------------------------------


def test_a_question_is_answered_with_its_article_and_a_person_is_offered(
    ports: AssistantPorts, store: FakeAssistantStore
) -> None:
    # GIVEN an anonymous conversation
    conv = opened(ports, store)
    # WHEN the citizen asks how to register
    turn, unit = say(ports, store, conv.conversation.id, "como me empadrono en madrid padron", key=conv.key)
    # THEN the answer cites the Padrón article with its link, offers a person, and asks for no case
    reply = turn.reply.reply
    assert reply["kind"] == "answer" and reply["articles"][0]["article_id"] == "padron-alta"
    assert reply["articles"][0]["link"] == "/v1/kb/public/articles/padron-alta"
    assert {"id": "talk-to-person", "label": "Hablar con una persona"} in reply["options"]
    assert events_in(unit) == []
    assert store.conversations[conv.conversation.id].articles == ("padron-alta",)


def test_an_anonymous_conversation_is_reached_with_its_key_only(
    ports: AssistantPorts, store: FakeAssistantStore
) -> None:
    conv = opened(ports, store)
    with pytest.raises(service.NotYourConversationError):
        handlers.converse(Say(conv.conversation.id, "hola", None, None, "wrong-key", None), ports, None)
    with pytest.raises(service.NotYourConversationError):
        handlers.converse(Say(conv.conversation.id, "hola", None, None, None, None), ports, None)


def test_a_citizens_conversation_is_theirs_alone(ports: AssistantPorts, store: FakeAssistantStore) -> None:
    conv = opened(ports, store, "c-123")
    with pytest.raises(service.NotYourConversationError):
        handlers.converse(Say(conv.conversation.id, "hola", None, "c-456", None, None), ports, None)


def test_asking_for_a_person_signed_in_asks_for_one_case_with_the_transcript(
    ports: AssistantPorts, store: FakeAssistantStore
) -> None:
    # GIVEN a signed-in citizen who asked a question
    conv = opened(ports, store, "c-123")
    say(ports, store, conv.conversation.id, "como me empadrono padron", citizen="c-123")
    # WHEN they ask for a person, twice
    turn, unit = say(ports, store, conv.conversation.id, "quiero hablar con una persona", citizen="c-123")
    _, again = say(ports, store, conv.conversation.id, "", citizen="c-123", option="talk-to-person")
    # THEN each asks case.requested with the conversation's id (the case domain opens one), level 1, the transcript
    (request,) = event_models(unit)
    assert isinstance(request, CaseRequested)
    assert (request.request_id, request.citizen_id, request.channel) == (conv.conversation.id, "c-123", "assistant")
    assert (request.area, request.category) == (service.HANDOVER_AREA, service.HANDOVER_CATEGORY)
    assert [line.speaker for line in request.transcript] == ["citizen", "assistant", "citizen", "assistant"]
    assert request.kb_articles == ["padron-alta"]
    assert [m.request_id for m in event_models(again)] == [conv.conversation.id]
    assert turn.reply.reply["handover"]["requested"] is True


def test_an_anonymous_person_is_asked_to_sign_in_and_takes_the_conversation_with_them(
    ports: AssistantPorts, store: FakeAssistantStore
) -> None:
    conv = opened(ports, store)
    # WHEN an anonymous person asks for a person THEN no case is asked for: they are asked to sign in
    turn, unit = say(ports, store, conv.conversation.id, "quiero hablar con una persona", key=conv.key)
    assert events_in(unit) == [] and turn.reply.reply["handover"]["sign_in"] is True
    # WHEN they sign in and press "talk to a person" with the conversation's key
    turn, unit = say(ports, store, conv.conversation.id, citizen="c-777", key=conv.key, option="talk-to-person")
    # THEN the conversation is theirs and one case is asked with the whole transcript
    (request,) = event_models(unit)
    assert isinstance(request, CaseRequested) and request.citizen_id == "c-777" and len(request.transcript) == 4
    assert store.conversations[conv.conversation.id].citizen_id == "c-777"


def test_out_of_hours_the_hand_over_says_when_it_opens_and_offers_a_call_back(
    ports: AssistantPorts, store: FakeAssistantStore, clock: FixedClock
) -> None:
    clock.at = datetime(2026, 12, 12, 22, 0, tzinfo=UTC)  # Saturday night in Madrid
    conv = opened(ports, store, "c-123")
    turn, _ = say(ports, store, conv.conversation.id, "operador", citizen="c-123")
    handover = turn.reply.reply["handover"]
    assert handover["open_now"] is False and handover["next_opening"].startswith("2026-12-14T08:30")
    assert [o["id"] for o in turn.reply.reply["options"]] == ["talk-to-person", "callback"]
    turn, unit = say(ports, store, conv.conversation.id, citizen="c-123", option="callback")
    (request,) = event_models(unit)
    assert isinstance(request, CaseRequested) and "llamen" in request.description


def test_what_do_i_owe_goes_through_the_payment_api_with_the_citizens_token(
    ports: AssistantPorts, store: FakeAssistantStore, platform: FakePlatform
) -> None:
    platform.debts_of["c-123"] = [{"id": "fine-1", "kind": "fine", "status": "pending", "concept": "Multa",
                                   "due": {"amount_due_cents": 4500, "until": "2027-01-10"}},
                                  {"id": "fine-0", "kind": "fine", "status": "paid", "due": {}}]  # fmt: skip
    conv = opened(ports, store, "c-123")
    turn, _ = say(ports, store, conv.conversation.id, "que debo al ayuntamiento", citizen="c-123")
    assert platform.calls == [("debts", "c-123", "tok-c-123")]
    assert turn.reply.reply["result"]["items"] == [{"id": "fine-1", "kind": "fine", "concept": "Multa",
                                                    "amount_due_cents": 4500, "until": "2027-01-10"}]  # fmt: skip


def test_a_procedure_asks_an_anonymous_person_to_sign_in_and_calls_nothing(
    ports: AssistantPorts, store: FakeAssistantStore, platform: FakePlatform
) -> None:
    conv = opened(ports, store)
    turn, _ = say(ports, store, conv.conversation.id, "como va mi expediente", key=conv.key)
    assert turn.reply.reply["requires_authentication"] is True and platform.calls == []


def test_a_refused_procedure_is_said_in_the_reply_not_raised(
    ports: AssistantPorts, store: FakeAssistantStore, platform: FakePlatform
) -> None:
    platform.refuse = True
    conv = opened(ports, store, "c-123")
    turn, _ = say(ports, store, conv.conversation.id, "que debo", citizen="c-123")
    assert turn.reply.reply["error"] == "micro-app-off"
    assert "talk-to-person" in [o["id"] for o in turn.reply.reply["options"]]


def test_two_messages_at_once_the_second_loses_and_is_decided_again(
    ports: AssistantPorts, store: FakeAssistantStore
) -> None:
    conv = opened(ports, store, "c-123")
    first = handlers.converse(Say(conv.conversation.id, "padron", None, "c-123", None, None), ports, None)
    second = handlers.converse(Say(conv.conversation.id, "muebles", None, "c-123", None, None), ports, None)
    store.commit(first.unit)
    with pytest.raises(LostRaceError):
        store.commit(second.unit)
    again = handlers.converse(Say(conv.conversation.id, "muebles", None, "c-123", None, None), ports, None)
    store.commit(again.unit)
    assert [line.text for line in store.conversations[conv.conversation.id].lines][::2] == ["padron", "muebles"]


def test_a_redelivered_whatsapp_message_is_answered_once(ports: AssistantPorts, store: FakeAssistantStore) -> None:
    opening = OpenConversation("whatsapp", "es", None, "34600111222", "conv-wa-0123456789abcdef01234567")
    store.commit(handlers.open_whatsapp(opening, ports).unit)
    assert len(handlers.open_whatsapp(opening, ports).unit) == 0
    said = Say(opening.conversation_id or "", "recogida de muebles", None, None, None, None, ref="wamid.1")
    store.commit(handlers.converse(said, ports, None).unit)
    again = handlers.converse(said, ports, None)
    assert again.result.repeated and len(again.unit) == 0
    assert len(store.conversations[opening.conversation_id or ""].lines) == 2


def test_a_conversation_holds_a_bounded_transcript(ports: AssistantPorts, store: FakeAssistantStore) -> None:
    conv = opened(ports, store, "c-123")
    full = service.Line(MONDAY, "citizen", "x")
    store.conversations[conv.conversation.id] = service.with_lines(conv.conversation, *[full] * service.MAX_LINES)
    with pytest.raises(service.ConversationFullError):
        handlers.converse(Say(conv.conversation.id, "padron", None, "c-123", None, None), ports, None)


# ---- data-subject rights -------------------------------------------------------------------------------------------


def test_access_exports_and_erasure_erases_the_citizens_conversations(
    ports: AssistantPorts, store: FakeAssistantStore
) -> None:
    conv = opened(ports, store, "c-123")
    say(ports, store, conv.conversation.id, "padron", citizen="c-123")
    request = RgpdRequestOpened(request_id="rgpd-1", citizen_id="c-123", right="access", opened_at=MONDAY,
                                due_at=MONDAY)  # fmt: skip
    ((_, answer),) = events_in(handlers.answer_rights(request, ports, None))
    assert answer["export"]["conversations"][0]["messages"][0]["text"] == "padron"
    erase = handlers.answer_rights(request.model_copy(update={"right": "erasure"}), ports, None)
    ((_, answered),) = events_in(erase)
    assert "erased" in {a["result"] for a in answered["actions"]}
    store.commit(erase)
    assert conv.conversation.id not in store.conversations
