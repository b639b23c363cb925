"""The assistant's web chat on fakes: the transcript as the page shows it (pure), and the chat's pages — the
conversation opened on the first message and kept in the server-side session (its key never in the page), an
empty message refused at its field, the key and the token sent together after sign-in, start again."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from functions.web import assistant, service
from tests.unit.web.web_fakes import NOW, FakeHttp, FakeSessions, make_app, signed_session, visit

CONV = "conv-" + "a" * 24
KEY = "the-secret-key-of-the-conversation"
ANSWER = {
    "kind": "answer",
    "text": "Esto puede ayudarte:",
    "articles": [{"article_id": "padron-alta", "title": "Empadronarse", "body": "Pide cita.\nLleva tu DNI.",
                  "language": "es", "source": "https://sede.madrid.es/padron", "link": "/v1/kb/articles/padron-alta"}],
    "alternatives": [{"article_id": "Bad Id!", "title": "x"}],
    "options": [{"id": "talk-to-person", "label": "Hablar con una persona"}, {"id": "format-disk", "label": "?"}],
}  # fmt: skip
CLOSED = {
    "kind": "handover",
    "text": "Para pasarte con una persona necesito que te identifiques.",
    "options": [{"id": "talk-to-person"}, {"id": "callback"}],
    "handover": {"sign_in": True, "requested": False, "next_opening": "2026-12-07T08:30:00+00:00"},
}


def transcript(*replies: dict[str, Any], case: dict[str, Any] | None = None) -> dict[str, Any]:
    messages: list[dict[str, Any]] = []
    for reply in replies:
        messages.append({"at": "2026-12-04T15:00:00+00:00", "speaker": "citizen", "text": "¿cómo me empadrono?"})
        messages.append({"at": "2026-12-04T15:00:01+00:00", "speaker": "assistant", "text": reply["text"],
                         "reply": reply})  # fmt: skip
    handover = {"requested_at": "2026-12-04T15:00:01+00:00", "case": case} if case is not None else None
    return {"id": CONV, "messages": messages, "handover": handover}


def test_the_transcript_is_shown_with_help_links_known_buttons_and_madrid_times() -> None:
    citizen, answer, _, closed = assistant.lines(transcript(ANSWER, CLOSED)["messages"])
    assert citizen["speaker"] == "citizen" and citizen["at"] == "04/12/2026 16:00"  # Madrid, winter
    assert answer["articles"][0]["help"] == "/app/help/padron-alta"
    assert answer["articles"][0]["source"] == "https://sede.madrid.es/padron"
    assert answer["alternatives"] == [] and answer["options"] == ["talk-to-person"]  # no link or button made up
    assert closed["sign_in"] and closed["options"] == ["talk-to-person", "callback"]
    assert closed["next_opening"] == "07/12/2026 09:30"
    # AND when the reply's words already say when it opens, it is not said twice
    said = {**CLOSED, "text": "Ahora no hay nadie atendiendo. Volvemos el 07/12/2026 09:30 (hora de Madrid)."}
    assert assistant.lines(transcript(said)["messages"])[1]["next_opening"] == ""


def test_only_web_addresses_and_article_ids_become_links() -> None:
    assert assistant.official("javascript:alert(1)") is None and assistant.official(None) is None
    assert assistant.help_link("../../desk") is None and assistant.help_link("padron-alta") == "/app/help/padron-alta"
    assert assistant.madrid_time("not a time") == "" and assistant.madrid_time("2026-12-04T15:00:00") == ""
    case = {"id": "case-" + "b" * 24, "reference": "CAS-2026-000001", "state": "open"}
    assert assistant.handover_case(transcript(case=case)) == {**case}
    assert assistant.handover_case(transcript(case={"id": "x"})) is None and assistant.handover_case(None) is None


def test_an_anonymous_chat_opens_on_the_first_message_and_keeps_its_key_server_side() -> None:
    sessions = FakeSessions()
    http = FakeHttp({
        ("POST", "/v1/assistant/conversations"): (201, {"id": CONV, "key": KEY}),
        ("POST", f"/v1/assistant/conversations/{CONV}/messages"): (201, {"reply": ANSWER}),
        ("GET", f"/v1/assistant/conversations/{CONV}"): (200, transcript(ANSWER)),
    })  # fmt: skip
    app = make_app(sessions, http)
    empty = visit(app, "/app/assistant")
    assert empty.status_code == 200 and 'role="log"' in empty.get_data(as_text=True) and http.asked == []
    (anonymous,) = sessions.rows.values()
    # WHEN an empty message is sent, THEN it is refused at its field and nothing is asked
    refused = visit(app, "/app/assistant/messages", anonymous.id, "POST", {"csrf": anonymous.csrf, "text": "  "})
    assert refused.status_code == 422 and 'id="text-error"' in refused.get_data(as_text=True) and http.asked == []
    # WHEN a question is sent, THEN a conversation is opened without a token and the message goes with its key
    sent = visit(app, "/app/assistant/messages", anonymous.id, "POST", {"csrf": anonymous.csrf, "text": "padrón"})
    assert sent.status_code == 303
    (_, _, opened), (_, _, said) = http.asked
    assert "Authorization" not in opened and said["X-Conversation-Key"] == KEY
    assert sessions.rows[anonymous.id].chat == CONV and sessions.rows[anonymous.id].chat_key == KEY
    # AND the page reads the transcript back: the article's help page, a person offered, the key nowhere
    page = visit(app, "/app/assistant", anonymous.id).get_data(as_text=True)
    assert 'href="/app/help/padron-alta"' in page and 'id="talk-to-person-2"' in page and KEY not in page


def test_after_sign_in_the_token_and_the_key_go_together_then_the_key_is_forgotten() -> None:
    signed = replace(signed_session(), chat=CONV, chat_key=KEY)
    sessions = FakeSessions({signed.id: signed})
    case = {"id": "case-" + "c" * 24, "reference": "CAS-2026-000007", "state": "open"}
    http = FakeHttp({
        ("POST", f"/v1/assistant/conversations/{CONV}/messages"): (201, {"reply": CLOSED}),
        ("GET", f"/v1/assistant/conversations/{CONV}"): (200, transcript(CLOSED, case=case)),
    })  # fmt: skip
    app = make_app(sessions, http)
    page = visit(app, "/app/assistant", signed.id).get_data(as_text=True)
    assert 'id="continue-handover"' in page and 'id="handover-case"' in page and "CAS-2026-000007" in page
    assert f'href="/app/cases/{case["id"]}"' in page and 'id="callback-2"' in page
    form = {"csrf": signed.csrf, "option": "talk-to-person", "nonce": "f" * 32}
    assert visit(app, "/app/assistant/messages", signed.id, "POST", form).status_code == 303
    _, (_, _, headers) = http.asked
    assert headers["Authorization"] == "Bearer token-1" and headers["X-Conversation-Key"] == KEY
    assert headers["Idempotency-Key"] == f"{CONV}-{'f' * 32}"
    assert sessions.rows[signed.id].chat == CONV and sessions.rows[signed.id].chat_key == ""


def test_a_refusal_is_shown_at_the_field_and_start_again_forgets_the_conversation() -> None:
    anonymous = replace(service.anonymous(NOW, "es"), chat=CONV, chat_key=KEY)
    sessions = FakeSessions({anonymous.id: anonymous})
    full = {"type": "/problems/assistant-conversation-full", "title": "Full", "detail": "at most 200"}
    http = FakeHttp({("POST", f"/v1/assistant/conversations/{CONV}/messages"): (409, full)})
    app = make_app(sessions, http)
    sent = visit(app, "/app/assistant/messages", anonymous.id, "POST", {"csrf": anonymous.csrf, "text": "hola"})
    assert sent.status_code == 409 and "empieza una nueva" in sent.get_data(as_text=True)
    again = visit(app, "/app/assistant/restart", anonymous.id, "POST", {"csrf": anonymous.csrf})
    assert again.status_code == 303 and sessions.rows[anonymous.id].chat == ""
