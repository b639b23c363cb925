"""Functional: the virtual assistant (BOT) through the real platform — the knowledge base's snapshots sent to the
broker as the KB relay sends them and projected by ``pic-assistant-events`` (with their vectors), conversations on the
gateway (anonymous with their key, and a signed-in citizen's), the hand-over as ``case.requested`` through the
assistant's own relay into ``pic-case`` (the case read back by an agent with its transcript), WhatsApp's signed
webhook with the reply in the local Cloud API stand-in; every refusal a problem, a bad event dead-lettered with its
reason."""

from __future__ import annotations

import json
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from functions.assistant import whatsapp
from functions.core.settings import get_settings
from local.harness import Platform
from tests.functional.consent_support import assert_problem

pytestmark = pytest.mark.functional

UPDATED = "es.madrid.pic.kb.article.updated.v1"
BASE = "/v1/assistant/conversations"
SUFFIX = uuid.uuid4().hex[:6]
HUERTOS, COLMENAS = f"huertos-urbanos-{SUFFIX}", f"apicultura-urbana-{SUFFIX}"  # topics the seed lacks


def snapshot(article_id: str, title: str, body: str, keywords: list[str], revision: int = 1) -> dict[str, Any]:
    published = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    return {"article_id": article_id, "revision": revision, "updated_at": published, "archive_at": None,
            "versions": [{"version": revision, "publish_at": published, "audiences": ["public", "assistant"],
                          "areas": ["atencion-ciudadania"], "source": "https://www.madrid.es/",
                          "texts": {"es": {"title": title, "body": body, "keywords": keywords}}}]}  # fmt: skip


def post(platform: Platform, path: str, body: Any, headers: dict[str, str] | None = None) -> requests.Response:
    return platform.http.post(platform.url(path), json=body, headers=headers or {}, timeout=30)


@pytest.fixture(scope="module")
def knowledge(platform: Platform) -> None:
    """GIVEN two articles published by the knowledge base (sent as its relay does) and projected"""
    for data in (
        snapshot(HUERTOS, "Huertos urbanos comunitarios", "Para cultivar una parcela en un huerto urbano comunitario "
                 "apúntate en la asociación vecinal que lo gestiona; los huertos urbanos se reparten por sorteo.",
                 ["huerto", "huertos", "parcela", "cultivar", "hortalizas"]),
        snapshot(COLMENAS, "Apicultura urbana: colmenas en azoteas", "Instalar colmenas de abejas en una azotea exige "
                 "registrar el colmenar y mantenerlo a distancia de colegios; la miel es para consumo propio.",
                 ["colmenas", "abejas", "apicultura", "miel", "colmenar"]),
    ):  # fmt: skip
        sent = platform.send_event(UPDATED, data, source="/pic/kb", subject=data["article_id"])
        assert sent.status_code in (200, 202), sent.text
    question = "como consigo una parcela en un huerto urbano para cultivar"
    platform.wait_for(lambda: _answers(platform, question, HUERTOS), timeout=120, what="the projected articles")


def _answers(platform: Platform, question: str, article_id: str) -> bool:
    opened = post(platform, BASE, {"channel": "web", "language": "es"}).json()
    said = post(platform, f"{BASE}/{opened['id']}/messages", {"text": question}, {"X-Conversation-Key": opened["key"]})
    reply = said.json().get("reply") or {}
    return reply.get("kind") == "answer" and reply["articles"][0]["article_id"] == article_id


def test_an_anonymous_question_is_answered_from_the_knowledge_base(platform: Platform, knowledge: None) -> None:
    # GIVEN an anonymous conversation
    opened = post(platform, BASE, {"channel": "web", "language": "es"})
    assert opened.status_code == 201, opened.text
    conversation, key = opened.json()["id"], opened.json()["key"]
    # WHEN the person asks about old furniture
    said = post(platform, f"{BASE}/{conversation}/messages", {"text": "puedo tener colmenas de abejas en mi azotea?"},
                {"X-Conversation-Key": key})  # fmt: skip
    # THEN the answer is the removal article with its link, and a person is offered
    assert said.status_code == 201, said.text
    reply = said.json()["reply"]
    assert reply["kind"] == "answer" and reply["articles"][0]["article_id"] == COLMENAS
    assert reply["articles"][0]["link"] == f"/v1/kb/public/articles/{COLMENAS}"
    assert "talk-to-person" in [o["id"] for o in reply["options"]]
    # AND the transcript reads back with the key, and not without it
    back = platform.http.get(platform.url(f"{BASE}/{conversation}"), headers={"X-Conversation-Key": key}, timeout=15)
    assert back.status_code == 200 and [m["speaker"] for m in back.json()["messages"]] == ["citizen", "assistant"]
    assert_problem(platform.http.get(platform.url(f"{BASE}/{conversation}"), timeout=15), 403)


@pytest.mark.units_of_work
def test_asking_for_a_person_opens_one_case_in_level_1_with_the_transcript(platform: Platform, knowledge: None) -> None:
    citizen = f"c-bot-{uuid.uuid4().hex[:8]}"
    me = platform.as_(citizen)
    opened = post(platform, BASE, {"channel": "web", "language": "es"}, me).json()
    assert opened["key"] is None and opened["citizen_id"] == citizen
    conversation = opened["id"]
    post(platform, f"{BASE}/{conversation}/messages", {"text": "quiero una parcela en un huerto urbano"}, me)
    # WHEN the citizen asks for a person (and presses the button again)
    handed = post(platform, f"{BASE}/{conversation}/messages", {"text": "quiero hablar con una persona"}, me)
    again = post(platform, f"{BASE}/{conversation}/messages", {"option": "talk-to-person"}, me)
    assert handed.status_code == 201 and again.status_code == 201, handed.text
    assert handed.json()["reply"]["handover"]["requested"] is True
    # THEN one case opens in general attention's level 1, which the conversation then names
    found = platform.wait_for(
        lambda: (r := platform.http.get(platform.url(f"{BASE}/{conversation}"), headers=me, timeout=15)).ok
        and r.json()["handover"]["case"], timeout=30, what="the hand-over's case")  # fmt: skip
    cases = platform.http.get(platform.url(f"/v1/citizens/{citizen}/cases"), headers=me, timeout=15).json()["cases"]
    assert len(cases) == 1 and (cases[0]["area"], cases[0]["level"]) == ("atencion-ciudadania", 1)
    assert found["reference"] == cases[0]["reference"]
    # AND an agent reads the case with the whole transcript and the article used
    agent = {**platform.as_("ana-bot", role="agent", level=1, area="atencion-ciudadania"), "Access-Purpose": "CHAT-1"}
    case = platform.http.get(platform.url(f"/v1/cases/{found['id']}"), headers=agent, timeout=15).json()
    assert [line["speaker"] for line in case["transcript"]][:3] == ["citizen", "assistant", "citizen"]
    assert "quiero hablar con una persona" in [line["text"] for line in case["transcript"]]


def test_hostile_input_is_answered_with_problems(platform: Platform, knowledge: None) -> None:
    citizen = f"c-bot-{uuid.uuid4().hex[:8]}"
    opened = post(platform, BASE, {"channel": "web"}, platform.as_(citizen)).json()
    mine = f"{BASE}/{opened['id']}/messages"
    anonymous = post(platform, BASE, {}).json()
    # empty, oversized, unknown fields: 422 naming the field
    assert_problem(post(platform, mine, {"text": "   "}, platform.as_(citizen)), 422)
    assert_problem(post(platform, mine, {"text": "x" * 1001}, platform.as_(citizen)), 422)
    assert_problem(post(platform, mine, {"text": "hola", "admin": True}, platform.as_(citizen)), 422)
    # a body far too large: 413 before it is read
    too_big = platform.http.post(platform.url(mine), data=b"x" * 70_000, timeout=15,
                                 headers={**platform.as_(citizen), "Content-Type": "application/json"})  # fmt: skip
    assert_problem(too_big, 413)
    # another person's conversation, signed in or not; an anonymous one with a wrong key
    assert_problem(post(platform, mine, {"text": "hola"}, platform.as_("c-someone-else")), 403)
    assert_problem(post(platform, mine, {"text": "hola"}), 403)
    wrong = post(platform, f"{BASE}/{anonymous['id']}/messages", {"text": "hola"}, {"X-Conversation-Key": "guess"})
    assert_problem(wrong, 403)
    # no such conversation: nobody learns whether it exists
    assert_problem(post(platform, f"{BASE}/conv-{'0' * 24}/messages", {"text": "hola"}), 403)
    # an agent does not talk as the assistant's citizen
    agent = {**platform.as_("ana-bot", role="agent", level=1, area="atencion-ciudadania"), "Access-Purpose": "X-1"}
    assert_problem(post(platform, BASE, {}, agent), 403)


@pytest.mark.units_of_work
def test_concurrent_messages_to_one_conversation_are_all_answered(platform: Platform, knowledge: None) -> None:
    citizen = f"c-bot-{uuid.uuid4().hex[:8]}"
    me = platform.as_(citizen)
    conversation = post(platform, BASE, {}, me).json()["id"]
    texts = ["huertos urbanos", "colmenas de abejas", "parcela para cultivar", "miel de azotea"]
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda t: post(platform, f"{BASE}/{conversation}/messages", {"text": t}, me), texts))
    assert [a.status_code for a in answers] == [201] * 4, [a.text for a in answers]
    back = platform.http.get(platform.url(f"{BASE}/{conversation}"), headers=me, timeout=15).json()
    assert sorted(m["text"] for m in back["messages"] if m["speaker"] == "citizen") == sorted(texts)


def test_a_redelivered_snapshot_changes_nothing_and_a_bad_one_is_dead_lettered(
    platform: Platform, knowledge: None
) -> None:
    # GIVEN the Padrón's article at revision 1, delivered again with the same id and as an older revision
    old_text = "Texto antiguo que no debe ganar nunca a la revisión vigente."
    data = snapshot(HUERTOS, "Huertos urbanos comunitarios", old_text, ["huerto"], revision=1)
    event_id = str(uuid.uuid4())
    for _ in range(2):
        assert platform.send_event(UPDATED, data, source="/pic/kb", event_id=event_id).status_code in (200, 202)
    # WHEN a snapshot that breaks the contract arrives
    bad_id = str(uuid.uuid4())
    bad = {**data, "revision": 0}
    sent = platform.send_event(UPDATED, bad, source="/pic/kb", event_id=bad_id)
    # THEN it is refused: at the broker's door, or dead-lettered with the reason
    if sent.status_code in (200, 202):
        letter = platform.wait_for(lambda: [d for d in platform.deadletters() if d["event"]["id"] == bad_id],
                                   timeout=30, what="the dead letter")  # fmt: skip
        assert "revision" in json.dumps(letter[0])
    else:
        assert sent.status_code == 400
    # AND the article still answers as before
    assert _answers(platform, "como consigo una parcela en un huerto urbano para cultivar", HUERTOS)


def test_whatsapp_messages_come_in_signed_and_replies_go_out_through_the_provider(
    platform: Platform, knowledge: None
) -> None:
    settings = get_settings()
    hook = platform.url("/v1/assistant/whatsapp/webhook")
    # the verification handshake: the challenge back with our token, 403 without
    good = platform.http.get(hook, params={"hub.mode": "subscribe", "hub.verify_token": settings.whatsapp_verify_token,
                                           "hub.challenge": "1158201444"}, timeout=15)  # fmt: skip
    assert good.status_code == 200 and good.text == "1158201444"
    assert_problem(platform.http.get(hook, params={"hub.mode": "subscribe", "hub.verify_token": "no"}, timeout=15), 403)
    number = f"3460{uuid.uuid4().int % 10**7:07d}"
    message = {"from": number, "id": f"wamid.{uuid.uuid4().hex}", "timestamp": str(int(datetime.now(UTC).timestamp())),
               "type": "text", "text": {"body": "puedo tener colmenas de abejas en la azotea"}}  # fmt: skip
    value = {"messaging_product": "whatsapp", "messages": [message]}
    entry = {"id": "1", "changes": [{"field": "messages", "value": value}]}
    body = json.dumps({"object": "whatsapp_business_account", "entry": [entry]}).encode()
    headers = {"Content-Type": "application/json"}
    # unsigned and forged: refused, nothing answered
    assert_problem(platform.http.post(hook, data=body, headers=headers, timeout=15), 403)
    forged = {**headers, whatsapp.SIGNATURE_HEADER: whatsapp.sign("not-the-app-secret-at-all", body)}
    assert_problem(platform.http.post(hook, data=body, headers=forged, timeout=15), 403)
    # signed: answered, and the reply is in the provider's outbox
    signed = {**headers, whatsapp.SIGNATURE_HEADER: whatsapp.sign(settings.whatsapp_app_secret, body)}
    answered = platform.http.post(hook, data=body, headers=signed, timeout=30)
    assert answered.status_code == 200, answered.text
    assert answered.json()["answered"][0]["reply"] == "answer"
    outbox = platform.http.get(platform.url("/dev/whatsapp"), params={"to": number}, timeout=15).json()
    assert outbox["count"] == 1 and "colmenas" in outbox["messages"][0]["body"].lower()
    # a redelivery is not decided again (the same reply goes out once more: at least once)
    again = platform.http.post(hook, data=body, headers=signed, timeout=30)
    assert again.status_code == 200 and again.json()["answered"][0]["repeated"] is True
