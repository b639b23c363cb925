"""The survey page in a real browser against the whole local platform, at a phone's and a desktop's width: a CSAT
survey invites after a case closes (a real ``case.updated`` through the broker); the person opens the link without
signing in, gives a low score and the follow-up question appears (no JavaScript needed: the page is the step),
answers it and sends; the saved answer shows with "save changes". axe-core (WCAG 2.1 AA) and visible focus on every
state; then the desk's results page with its plot."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from urllib.parse import urlsplit

from playwright.sync_api import Page, expect

from local.harness import Platform
from tests.browser.citizen import t
from tests.browser.support import check_page
from tests.browser.test_agent_desk import sign_in_agent

BATCH = "es.madrid.pic.notification.batch.requested.v1"


def _survey(platform: Platform, area: str) -> str:
    survey_id = f"csat-{uuid.uuid4().hex[:8]}"
    agent = platform.as_("editora-encuestas", role="agent", level=2, area="atencion-ciudadania")
    text = {"es": "¿Qué tal le atendimos?", "en": "How did we do?"}
    body = {"id": survey_id, "title": text, "questions": [
        {"id": "csat", "kind": "scale", "min": 1, "max": 5, "text": {"es": "Satisfacción", "en": "Satisfaction"},
         "min_label": {"es": "Nada", "en": "Not at all"}, "max_label": {"es": "Mucho", "en": "Very"}},
        {"id": "why", "kind": "text", "text": {"es": "¿Qué falló?", "en": "What went wrong?"}, "max_length": 300,
         "show_if": {"question": "csat", "one_of": [1, 2]}},
    ], "triggers": [{"on": "case.closed", "area": area}]}  # fmt: skip
    assert platform.http.post(platform.url("/v1/surveys"), json=body, headers=agent, timeout=15).status_code == 201
    opened = platform.http.post(platform.url(f"/v1/surveys/{survey_id}/open"), json={"revision": 1}, headers=agent,
                                timeout=15)  # fmt: skip
    assert opened.status_code == 200, opened.text
    return survey_id


def _invitation(platform: Platform, area: str) -> str:
    citizen = f"c-srv-{uuid.uuid4().hex[:10]}"
    now = datetime.now(UTC).isoformat()
    case = {"case_id": "case-" + uuid.uuid4().hex[:24], "reference": "EXP-2026-7F3A9C", "citizen_id": citizen,
            "area": area, "category": "ibi", "level": 1, "state": "closed", "channel": "web", "subject": "IBI",
            "opened_at": now, "updated_at": now, "version": 3}  # fmt: skip
    sent = platform.send_event("es.madrid.pic.case.updated.v1", case, source="/pic/case", event_id=str(uuid.uuid4()))
    assert sent.status_code == 202, sent.text
    found = platform.wait_for(lambda: platform.events(BATCH, citizen), what="the invitation")
    url = str(found[0]["data"]["recipients"][0]["personalisation"]["survey_url"])
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def test_a_survey_answered_from_its_link_with_a_question_that_appears(page: Page, platform: Platform) -> None:
    area = f"area-{uuid.uuid4().hex[:6]}"
    survey_id = _survey(platform, area)
    link = _invitation(platform, area)
    # GIVEN the invitation's link, opened without signing in
    page.goto(platform.base + link)
    expect(page.locator("h1")).to_have_text("¿Qué tal le atendimos?", timeout=30_000)
    expect(page.locator("#question-why")).to_have_count(0)
    check_page(page, "survey-form")
    # WHEN a low score is sent, THEN the follow-up question appears first, with a note (nothing sent yet)
    page.check("#q-csat-2")
    page.click("#survey-send")
    expect(page.locator("#survey-appeared")).to_have_text(t("es", "survey.appeared"))
    expect(page.locator("#q-why")).to_be_visible()
    expect(page.locator("#q-csat-2")).to_be_checked()
    check_page(page, "survey-question-appeared")
    # WHEN it is answered and sent, THEN the answer is saved and can be changed until the close
    page.fill("#q-why", "La espera fue larga")
    page.click("#survey-send")
    expect(page.locator("#done")).to_have_text(t("es", "survey.done_saved"))
    expect(page.locator("#q-why")).to_have_value("La espera fue larga")
    expect(page.locator("#survey-send")).to_have_text(t("es", "survey.save"))
    check_page(page, "survey-saved")
    # AND the desk shows the results with the plot
    sign_in_agent(page, platform.base, "2", check=False)
    # AND an agent creates a simple survey on the desk: an invalid id is named at its field, then the draft is listed
    page.click("#nav-surveys")
    page.click("#new-survey")
    page.fill("#id", "No Vale")
    for name, value in (
        ("title_es", "Oficinas"),
        ("title_en", "Offices"),
        ("question_es", "¿Satisfecho?"),
        ("question_en", "Satisfied?"),
        ("why_es", "¿Qué falló?"),
        ("why_en", "What went wrong?"),
    ):
        page.fill(f"#{name}", value)
    page.select_option("#trigger", "office.visit")
    page.click("#survey-create")
    expect(page.locator("#id-error")).to_be_visible()
    expect(page.locator("#id")).to_have_attribute("aria-invalid", "true")
    check_page(page, "survey-new-invalid")
    new_id = f"oac-{uuid.uuid4().hex[:8]}"
    page.fill("#id", new_id)
    page.click("#survey-create")
    expect(page.locator("#done")).to_have_text(t("es", "survey.desk.done_created"))
    expect(page.locator(f"#open-{new_id}")).to_be_visible()
    check_page(page, "survey-desk-list")
    page.goto(platform.base + f"/desk/surveys/{survey_id}/results")
    expect(page.locator("#responded")).to_have_text("1")
    expect(page.locator("#results-plot")).to_be_visible()
    check_page(page, "survey-results")


def test_an_agent_designs_a_survey_with_a_question_behind_a_condition(page: Page, platform: Platform) -> None:
    # GIVEN an agent at the desk's survey designer
    sign_in_agent(page, platform.base, "2", check=False)
    page.goto(platform.base + "/desk/surveys")
    page.click("#design-survey")
    survey_id = f"barrio-{uuid.uuid4().hex[:8]}"
    for name, value in (("id", survey_id), ("title_es", "Su barrio"), ("title_en", "Your neighbourhood"),
                        ("q1_es", "¿Cómo viene?"), ("q1_en", "How do you come?"),
                        ("q1_choices_es", "A pie\nEn coche"), ("q1_choices_en", "On foot"),
                        ("q2_es", "¿Por qué en coche?"), ("q2_en", "Why by car?"), ("q2_when", "2")):  # fmt: skip
        page.fill(f"#{name}", value)
    page.select_option("#q1_kind", "single")
    page.select_option("#q2_kind", "text")
    page.select_option("#q2_after", "1")
    # WHEN the choices do not pair up across the languages, THEN the form says so at the field, keeping the rest
    page.click("#survey-design-create")
    expect(page.locator("#q1_choices_es-error")).to_have_text(t("es", "survey.design.error_choices"))
    expect(page.locator("#q2_after")).to_have_value("1")
    check_page(page, "survey-design-invalid")
    # WHEN they are fixed, THEN the draft is listed and opens
    page.fill("#q1_choices_en", "On foot\nBy car")
    page.click("#survey-design-create")
    expect(page.locator("#done")).to_have_text(t("es", "survey.desk.done_created"))
    page.click(f"#open-{survey_id}")
    expect(page.locator("#done")).to_have_text(t("es", "survey.desk.done_opened"))
    # AND the survey is as designed: the second question shows only after "by car"
    agent = platform.as_("editora-encuestas", role="agent", level=2, area="atencion-ciudadania")
    found = platform.http.get(platform.url(f"/v1/surveys/{survey_id}"), headers=agent, timeout=15).json()
    first, second = found["questions"]
    assert [c["label"]["en"] for c in first["choices"]] == ["On foot", "By car"]
    assert (second["show_if"]["question"], second["show_if"]["one_of"]) == ("q1", ["c2"])
    # WHEN the agent invites citizens from its results page without a purpose, THEN the purpose is asked for
    page.goto(platform.base + f"/desk/surveys/{survey_id}/results")
    page.fill("#citizens", f"c-inv-{uuid.uuid4().hex[:8]}\nno es un id")
    page.click("#invite-send")
    expect(page.locator("#purpose-error")).to_be_visible()
    check_page(page, "survey-invite-invalid")
    # AND a line that is not a citizen id is named by its number; then the invitations go
    page.fill("#purpose", "Encuesta de barrio 2026")
    page.click("#invite-send")
    expect(page.locator("#citizens-error")).to_have_text(t("es", "survey.invite.wrong", lines="2"))
    page.fill("#citizens", f"c-inv-{uuid.uuid4().hex[:8]}\nc-inv-{uuid.uuid4().hex[:8]}")
    page.click("#invite-send")
    expect(page.locator("#done")).to_have_text(t("es", "survey.invite.done", count="2"))
