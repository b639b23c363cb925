"""Functional: the knowledge base (KB) through the real platform — the gateway and the kernel's policy decision,
DynamoDB Local, the outbox relay and the broker. The shipped articles published at start; an article written,
translated side by side, published, changed and scheduled, archived, each step announced as kb.article.updated;
two editors saving at once; the public search in Spanish and English with typos; "was this useful" once per
voter; a draft from a solved case without its personal data; every refusal a problem."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from local.harness import Platform
from tests.functional.consent_support import assert_problem, field_names, wait_for_events

pytestmark = pytest.mark.functional

UPDATED = "es.madrid.pic.kb.article.updated.v1"


def editor(platform: Platform, name: str = "editora-kb") -> dict[str, str]:
    return platform.as_(name, role="agent", level=2, area="atencion-ciudadania")


def proposal(word: str) -> dict[str, Any]:
    return {
        "areas": ["medio-ambiente", "atencion-ciudadania"],
        "audiences": ["public", "assistant", "internal"],
        "categories": ["residuos"],
        "translations": {
            "es": {"title": f"Recogida de {word}", "body": f"El servicio de {word} recoge a domicilio los martes.",
                   "keywords": [word]},
            "en": {"title": f"Collection of {word}", "body": f"The {word} service collects at home on Tuesdays.",
                   "keywords": [word]},
        },
    }  # fmt: skip


def new_word() -> str:
    return "trastos" + uuid.uuid4().hex[:6]


def call(platform: Platform, method: str, path: str, headers: dict[str, str] | None = None, **kw: Any) -> Any:
    return platform.http.request(method, platform.url(path), headers=headers or {}, timeout=15, **kw)


def create(platform: Platform, word: str, headers: dict[str, str]) -> dict[str, Any]:
    response = call(platform, "POST", "/v1/kb/articles", headers, json={"id": word, **proposal(word)})
    assert response.status_code == 201, response.text
    return dict(response.json())


def publish(platform: Platform, article: dict[str, Any], headers: dict[str, str], at: str | None = None) -> Any:
    body = {"revision": article["revision"], **({"at": at} if at else {})}
    return call(platform, "POST", f"/v1/kb/articles/{article['id']}/publication", headers, json=body)


def test_the_shipped_articles_are_searchable_by_the_public_in_spanish_and_english(platform: Platform) -> None:
    # WHEN anyone searches, as citizens type (no accents, a typo), without a token
    es = call(platform, "GET", "/v1/kb/search", params={"q": "darse de alta en el padron", "language": "es"})
    en = call(platform, "GET", "/v1/kb/search", params={"q": "register in the census", "language": "en"})
    typo = call(platform, "GET", "/v1/kb/search", params={"q": "alta en el padrom", "language": "es"})
    # THEN the Padrón article is first in each
    for response in (es, en, typo):
        assert response.status_code == 200, response.text
        assert response.json()["results"][0]["id"] == "padron-alta", response.json()
    assert en.json()["results"][0]["language"] == "en"
    # AND the article reads in full for the public
    article = call(platform, "GET", "/v1/kb/public/articles/padron-alta", params={"language": "en"})
    assert article.status_code == 200 and article.json()["state"] == "published" and article.json()["source"]


def test_an_article_from_draft_to_archive_each_published_step_announced(platform: Platform) -> None:
    headers, word = editor(platform), new_word()
    # GIVEN a new article: a draft nobody outside the desk sees
    article = create(platform, word, headers)
    assert article["state"] == "draft" and article["latest"]["languages"]["en"]["stale"] is False
    assert_problem(call(platform, "GET", f"/v1/kb/public/articles/{word}"), 404, "not-found")
    # WHEN it is published
    response = publish(platform, article, headers)
    assert response.status_code == 200, response.text
    article = response.json()
    # THEN the public finds it, and the assistant is told (kb.article.updated with both languages)
    hits = call(platform, "GET", "/v1/kb/search", params={"q": word}).json()["results"]
    assert [h["id"] for h in hits] == [word]
    (event,) = wait_for_events(platform, UPDATED, word)
    assert [v["version"] for v in event["data"]["versions"]] == [1]
    assert set(event["data"]["versions"][0]["texts"]) == {"es", "en"}
    # WHEN the Spanish text changes in a new draft, THEN the English one is flagged stale beside it
    changed = proposal(word)
    changed["translations"]["es"]["body"] = f"El servicio de {word} recoge a domicilio los martes y los jueves."
    draft = call(platform, "PUT", f"/v1/kb/articles/{word}/draft", headers,
                 json={"revision": article["revision"], "article": changed})  # fmt: skip
    assert draft.status_code == 200, draft.text
    side = draft.json()["latest"]
    assert side["version"] == 2 and side["languages"]["en"]["stale"] is True and side["warnings"]
    # WHEN it is scheduled for tomorrow, THEN version 1 stays public and both travel in the snapshot
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    scheduled = publish(platform, draft.json(), headers, at=tomorrow)
    assert scheduled.status_code == 200, scheduled.text
    assert call(platform, "GET", f"/v1/kb/public/articles/{word}").json()["version"] == 1
    events = wait_for_events(platform, UPDATED, word, count=2)
    assert [v["version"] for v in events[0]["data"]["versions"]] == [1, 2]
    # WHEN it is archived, THEN nobody outside the desk sees it, and agents still read version 1
    archived = call(platform, "POST", f"/v1/kb/articles/{word}/archive", headers,
                    json={"revision": scheduled.json()["revision"]})  # fmt: skip
    assert archived.status_code == 200, archived.text
    assert_problem(call(platform, "GET", f"/v1/kb/public/articles/{word}"), 404, "not-found")
    assert call(platform, "GET", "/v1/kb/search", params={"q": word}).json()["results"] == []
    old = call(platform, "GET", f"/v1/kb/articles/{word}/versions/1", headers)
    assert old.status_code == 200 and old.json()["state"] == "archived"
    assert wait_for_events(platform, UPDATED, word, count=3)[0]["data"]["archive_at"]


@pytest.mark.units_of_work
def test_two_editors_saving_the_same_revision_one_wins_the_other_must_reload(platform: Platform) -> None:
    word = new_word()
    article = create(platform, word, editor(platform))

    def save(name: str) -> requests.Response:
        body = proposal(word)
        body["categories"] = [name]
        return call(platform, "PUT", f"/v1/kb/articles/{word}/draft", editor(platform, name),
                    json={"revision": article["revision"], "article": body})  # fmt: skip

    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(save, ["editor-a", "editor-b", "editor-c", "editor-d"]))
    assert sorted(r.status_code for r in answers) == [200, 409, 409, 409], [r.text for r in answers]
    stale = next(r for r in answers if r.status_code == 409)
    assert assert_problem(stale, 409, "kb-stale-edit")["current_revision"] == article["revision"] + 1


@pytest.mark.units_of_work
def test_was_this_useful_counts_once_per_voter(platform: Platform) -> None:
    path = "/v1/kb/public/articles/padron-alta/feedback"
    voter = f"session-{uuid.uuid4().hex}"
    first = call(platform, "POST", path, json={"version": 1, "language": "es", "useful": True, "voter": voter})
    again = call(platform, "POST", path, json={"version": 1, "language": "es", "useful": False, "voter": voter})
    assert first.status_code == 201 and first.json()["counted"] is True, first.text
    assert again.status_code == 200 and again.json()["counted"] is False
    assert again.json()["useful"] == first.json()["useful"]
    assert_problem(call(platform, "POST", path, json={"version": 99, "language": "es", "useful": True}), 404)


def test_a_solved_case_proposes_a_draft_without_its_personal_data(platform: Platform) -> None:
    case_id = "case-" + uuid.uuid4().hex[:24]
    body = {"case_id": case_id, "area": "hacienda", "category": "recibo-ibi", "subject": "Recibo del IBI duplicado",
            "resolution": "Se anuló el recibo duplicado; el titular con DNI 12345678Z y correo ana@example.org "
                          "recibirá la devolución en la cuenta ES91 2100 0418 4502 0005 1332."}  # fmt: skip
    response = call(platform, "POST", "/v1/kb/drafts-from-cases", editor(platform), json=body)
    assert response.status_code == 201, response.text
    text = str(response.json()["latest"])
    assert "12345678Z" not in text and "ana@example.org" not in text and "ES91" not in text
    assert response.json()["state"] == "draft" and response.json()["from_case"] == case_id
    again = call(platform, "POST", "/v1/kb/drafts-from-cases", editor(platform), json=body)
    assert again.status_code == 200 and again.json()["id"] == response.json()["id"]


def test_who_may_do_what_and_bad_input(platform: Platform) -> None:
    word = new_word()
    citizen = platform.as_(f"c-kb-{uuid.uuid4().hex[:8]}")
    # a citizen may not write the knowledge base, nor read its internal side
    assert_problem(call(platform, "POST", "/v1/kb/articles", citizen, json={"id": word, **proposal(word)}), 403)
    assert_problem(call(platform, "GET", "/v1/kb/internal/search", citizen, params={"q": "ibi"}), 403)
    assert_problem(call(platform, "GET", "/v1/kb/articles"), 401)
    # an invalid article is refused with every error named
    bad = proposal(word)
    del bad["translations"]["es"]
    bad["areas"] = ["Hacienda!"]
    problem = assert_problem(call(platform, "POST", "/v1/kb/articles", editor(platform), json={"id": word, **bad}), 422)
    assert {"areas.0"} <= field_names(problem), problem
    # a query parameter that does not exist, or a language the base does not have, is told
    assert_problem(call(platform, "GET", "/v1/kb/search", params={"q": "ibi", "lang": "es"}), 422)
    assert_problem(call(platform, "GET", "/v1/kb/search", params={"q": "ibi", "language": "fr"}), 422)
    assert_problem(call(platform, "GET", "/v1/kb/search"), 422)
    # publishing with no draft, or over a stale revision
    article = create(platform, word, editor(platform))
    assert publish(platform, article, editor(platform)).status_code == 200
    assert_problem(publish(platform, {**article, "revision": article["revision"] + 1}, editor(platform)), 409,
                   "kb-wrong-state")  # fmt: skip
    assert_problem(publish(platform, article, editor(platform)), 409, "kb-stale-edit")
    assert_problem(call(platform, "GET", f"/v1/kb/articles/{word}/versions/x1", editor(platform)), 404)
