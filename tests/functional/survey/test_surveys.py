"""Functional: surveys (SURV) through the real platform — the gateway and the kernel's policy decision, DynamoDB
Local, the broker and the outbox relay. A CSAT survey triggered by a real ``case.updated`` (closed) CloudEvent
through the broker (binary, then re-announced structured: one invitation), the invitation as a
``notification.batch.requested`` at the broker, answered from its link without signing in, a second new answer
refused, an edit taken, two new answers at once (one written), results as JSON, CSV and PNG; and bad input as
problems."""

from __future__ import annotations

import json
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from local.harness import Platform
from tests.functional.consent_support import assert_problem, field_names, wait_for_events
from tests.functional.notification_support import send_event

pytestmark = pytest.mark.functional

BATCH = "es.madrid.pic.notification.batch.requested.v1"
ANSWERED = "es.madrid.pic.survey.answered.v1"
CASE_UPDATED = "es.madrid.pic.case.updated.v1"


ACCEPTED = "es.madrid.pic.notification.accepted.v1"


def editor(platform: Platform) -> dict[str, str]:
    return platform.as_("editora-encuestas", role="agent", level=2, area="atencion-ciudadania")


def call(platform: Platform, method: str, path: str, headers: dict[str, str] | None = None, **kw: Any) -> Any:
    return platform.http.request(method, platform.url(path), headers=headers or {}, timeout=15, **kw)


def text(es: str, en: str) -> dict[str, str]:
    return {"es": es, "en": en}


def csat(area: str, mode: str = "identified") -> dict[str, Any]:
    return {
        "title": text("Su opinión sobre la atención", "Your view of our service"),
        "mode": mode,
        "questions": [
            {"id": "csat", "kind": "scale", "min": 1, "max": 5, "text": text("¿Satisfecho?", "Satisfied?")},
            {"id": "why", "kind": "text", "text": text("¿Qué falló?", "What went wrong?"), "max_length": 300,
             "show_if": {"question": "csat", "at_least": 1}, "required": False},
        ],
        "triggers": [{"on": "case.closed", "area": area}],
    }  # fmt: skip


def open_survey(platform: Platform, body: dict[str, Any]) -> str:
    survey_id = f"csat-{uuid.uuid4().hex[:8]}"
    created = call(platform, "POST", "/v1/surveys", editor(platform), json={"id": survey_id, **body})
    assert created.status_code == 201, created.text
    opened = call(platform, "POST", f"/v1/surveys/{survey_id}/open", editor(platform), json={"revision": 1})
    assert opened.status_code == 200 and opened.json()["state"] == "open", opened.text
    return survey_id


def case_closed(citizen_id: str, area: str) -> dict[str, Any]:
    now = datetime.now(UTC).isoformat()
    return {"case_id": "case-" + uuid.uuid4().hex[:24], "reference": "EXP-2026-7F3A9C", "citizen_id": citizen_id,
            "area": area, "category": "ibi", "level": 1, "state": "closed", "channel": "web", "subject": "IBI",
            "opened_at": now, "updated_at": now, "version": 4}  # fmt: skip


def invitation_token(platform: Platform, citizen_id: str) -> tuple[str, dict[str, Any]]:
    (event,) = wait_for_events(platform, BATCH, citizen_id)
    (recipient,) = event["data"]["recipients"]
    url = recipient["personalisation"]["survey_url"]
    return parse_qs(urlsplit(url).query)["t"][0], event["data"]


def test_a_csat_survey_after_a_closed_case_answered_from_its_link_with_results(
    platform: Platform, citizen_id: str
) -> None:
    area = f"area-{uuid.uuid4().hex[:6]}"
    survey_id = open_survey(platform, csat(area))
    # WHEN the case closes (case.updated through the broker), and the same closure is announced again (structured)
    case = case_closed(citizen_id, area)
    send_event(platform, CASE_UPDATED, case, source="/pic/case", event_id=str(uuid.uuid4()))
    send_event(platform, CASE_UPDATED, case, source="/pic/case", event_id=str(uuid.uuid4()), mode="structured")
    # THEN one invitation leaves for NOT: the survey's template, a personal link, tagged with the survey
    token, batch = invitation_token(platform, citizen_id)
    assert batch["template"] == "pic-survey-invitation" and batch["campaign_id"] is None
    assert batch["recipients"][0]["tags"] == {"survey": survey_id}
    platform.settle(citizen_id)
    assert len(platform.events(BATCH, citizen_id)) == 1
    # AND the person reads the form from the link, in English, without signing in
    form = call(platform, "GET", f"/v1/surveys/{survey_id}/form", params={"t": token, "language": "en"})
    assert form.status_code == 200, form.text
    assert [q["text"] for q in form.json()["questions"]] == ["Satisfied?", "What went wrong?"]
    assert form.json()["response"] is None
    # AND answers: a new response (201), announced
    path = f"/v1/surveys/{survey_id}/responses"
    first = call(platform, "PUT", path, params={"t": token}, json={"answers": {"csat": 2, "why": "La espera"}})
    assert first.status_code == 201, first.text
    # AND a second new response is refused; an edit with the revision read is taken
    assert_problem(call(platform, "PUT", path, params={"t": token}, json={"answers": {"csat": 5}}), 409,
                   "response-exists")  # fmt: skip
    edit = call(platform, "PUT", path, params={"t": token}, json={"answers": {"csat": 4}, "revision": 1})
    assert edit.status_code == 200 and edit.json()["revision"] == 2, edit.text
    answered = wait_for_events(platform, ANSWERED, citizen_id, count=2)
    assert sorted(e["data"]["first"] for e in answered) == [False, True]
    # AND the results: 1 invited, 1 responded, CSAT 100 % (a 4), as JSON, CSV and a PNG plot
    results = call(platform, "GET", f"/v1/surveys/{survey_id}/results", editor(platform))
    assert results.status_code == 200, results.text
    found = results.json()
    assert (found["invited"], found["responded"], found["response_rate"]) == (1, 1, 100.0)
    assert found["headline"] == {"measure": "csat", "question": "csat", "value": 100.0}
    png = call(platform, "GET", f"/v1/surveys/{survey_id}/results", editor(platform), params={"format": "png"})
    assert png.status_code == 200 and png.headers["Content-Type"] == "image/png" and png.content[:4] == b"\x89PNG"
    csv = call(platform, "GET", f"/v1/surveys/{survey_id}/results", editor(platform), params={"format": "csv"})
    assert csv.status_code == 200 and "csat,scale,4,1" in csv.text


def test_two_new_answers_at_once_only_one_is_written(platform: Platform, citizen_id: str) -> None:
    area = f"area-{uuid.uuid4().hex[:6]}"
    survey_id = open_survey(platform, csat(area, mode="anonymous"))
    send_event(platform, CASE_UPDATED, case_closed(citizen_id, area), source="/pic/case", event_id=str(uuid.uuid4()))
    token, _ = invitation_token(platform, citizen_id)
    path = platform.url(f"/v1/surveys/{survey_id}/responses")

    def put(score: int) -> int:
        return requests.put(path, params={"t": token}, json={"answers": {"csat": score}}, timeout=15).status_code

    # WHEN the same link answers twice at the same instant
    with ThreadPoolExecutor(2) as pool:
        statuses = sorted(pool.map(put, [1, 5]))
    # THEN one new response and one refusal: never two
    assert statuses == [201, 409]
    # AND the stored answer (anonymous) holds no citizen id
    items = [i for i in platform.scan_tables().get("pic-survey", []) if str(i["id"]).startswith(f"resp#{survey_id}#")]
    assert len(items) == 1 and citizen_id not in str(items)


def test_bad_input_is_a_problem_naming_what(platform: Platform, citizen_id: str) -> None:
    headers = editor(platform)
    # an invalid survey: each error named
    bad = {"id": "mala-encuesta", "title": text("M", "B"), "questions": [
        {"id": "a", "kind": "scale", "min": 5, "max": 1, "text": text("A", "A")},
        {"id": "b", "kind": "text", "text": text("B", "B"), "show_if": {"question": "c", "equals": "x"}},
    ]}  # fmt: skip
    problem = assert_problem(call(platform, "POST", "/v1/surveys", headers, json=bad), 422, "survey-invalid")
    assert {"questions[0].max", "questions[1].show_if"} <= {e["field"] for e in problem["errors"]}
    # an answer outside the scale names the question; a changed link is not valid; an unknown survey is 404
    area = f"area-{uuid.uuid4().hex[:6]}"
    survey_id = open_survey(platform, csat(area))
    send_event(platform, CASE_UPDATED, case_closed(citizen_id, area), source="/pic/case", event_id=str(uuid.uuid4()))
    token, _ = invitation_token(platform, citizen_id)
    path = f"/v1/surveys/{survey_id}/responses"
    out = assert_problem(call(platform, "PUT", path, params={"t": token}, json={"answers": {"csat": 9}}), 422,
                         "answer-invalid")  # fmt: skip
    assert field_names(out) == {"csat"} or {e["field"] for e in out["errors"]} == {"answers.csat"}
    assert_problem(call(platform, "PUT", path, params={"t": token[:-3] + "AAA"}, json={"answers": {"csat": 3}}), 404,
                   "link-invalid")  # fmt: skip
    assert_problem(call(platform, "GET", "/v1/surveys/no-such-survey/form", params={"t": token}), 404)
    # a citizen may not edit surveys; an agent may not answer; a results format that does not exist is named
    assert_problem(call(platform, "POST", "/v1/surveys", platform.as_(citizen_id), json=bad), 403)
    assert_problem(call(platform, "GET", f"/v1/surveys/{survey_id}/results", headers, params={"format": "xls"}), 422)
    assert_problem(call(platform, "PUT", path, headers, params={"t": token}, json={"answers": {"csat": 3}}), 403)


def test_a_campaigns_invitations_count_as_invited_once_each_when_not_accepts_them(platform: Platform) -> None:
    # GIVEN an open survey that a campaign invites a segment to (NOT accepts each recipient's invitation)
    survey_id = open_survey(platform, csat(f"area-{uuid.uuid4().hex[:6]}"))
    notification = f"n-{uuid.uuid4().hex}"
    accepted = {
        "notification_id": notification, "status": "accepted", "template": "pic-survey-invitation",
        "template_version": 1, "purpose": "surveys", "channel": "email", "campaign_id": "cmp-0a1b2c:1",
        "tags": {"survey": survey_id}, "changed_at": datetime.now(UTC).isoformat(),
    }  # fmt: skip
    # WHEN NOT's event arrives twice (a redelivery, and a second copy under another id) in both modes
    for mode in ("binary", "structured"):
        sent = platform.send_event(ACCEPTED, accepted, source="/pic/notification", subject=notification, mode=mode)
        assert sent.status_code == 202, sent.text
    # (NOT's own delivery of this made-up notification retries apart: wait for the survey trigger's deliveries only)
    platform.wait_for(
        lambda: not [
            d for d in platform.http.get(platform.url("/dev/pending"), timeout=10).json()["deliveries"]
            if d["trigger"] == "survey-notification-accepted" and notification in json.dumps(d["event"])
        ],
        what="the survey's deliveries",
    )  # fmt: skip
    # THEN the survey counts one invited
    results = call(platform, "GET", f"/v1/surveys/{survey_id}/results", editor(platform))
    assert results.status_code == 200 and results.json()["invited"] == 1, results.text
