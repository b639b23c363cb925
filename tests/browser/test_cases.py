"""Cases (CASE) in a real browser against the whole local platform: the citizen follows a case in "My cases",
adds the information the agent asked for (the case goes back to the agent), and rates it once resolved — a
missing score refused at its field; the agent at the desk comes online for a queue, takes the next case, replies,
is refused an escalation above their level (the refusal in words where they acted) and escalates one level, after
which they see the case's summary only. axe-core (WCAG 2.1 AA) and visible focus on every state."""

from __future__ import annotations

import re
import uuid
from typing import Any

import requests
from playwright.sync_api import Page, expect

from local.harness import Platform
from tests.browser.citizen import open_app, sign_in, t
from tests.browser.support import check_page
from tests.browser.test_agent_desk import sign_in_agent

PURPOSE = {"Access-Purpose": "LLAMADA-010-0001"}


def _post(platform: Platform, path: str, body: Any, headers: dict[str, str]) -> dict[str, Any]:
    answer = requests.post(platform.url(path), json=body, headers=headers, timeout=15)
    assert answer.status_code < 300, answer.text
    return dict(answer.json())


def open_case(platform: Platform, citizen: str, area: str = "hacienda", category: str = "recibo-ibi") -> dict[str, Any]:
    body = {"citizen_id": citizen, "area": area, "category": category, "channel": "web",
            "subject": "No me ha llegado el recibo del IBI"}  # fmt: skip
    return _post(platform, "/v1/cases", body, platform.as_(citizen))


def test_a_citizen_follows_adds_to_and_rates_their_case(page: Page, platform: Platform) -> None:
    citizen = f"c-{uuid.uuid4().hex[:12]}"
    case = open_case(platform, citizen)
    agent = {**platform.as_(f"ag-{uuid.uuid4().hex[:6]}", role="agent", level=1, area="atencion-ciudadania"), **PURPOSE}
    url = f"/v1/cases/{case['id']}"
    _post(platform, f"{url}/messages", {"text": "¿Nos indica la referencia catastral?"}, agent)
    _post(platform, f"{url}/state", {"state": "waiting-on-citizen", "reason": "Falta la referencia"}, agent)

    # WHEN the citizen opens My cases
    sign_in(page, platform.base, citizen, check=False)
    open_app(page, "cases")
    expect(page.locator(f"#case-{case['id']}")).to_contain_text(t("es", "case.state.waiting-on-citizen"))
    check_page(page, "cases")
    page.click(f"#case-{case['id']} a")
    expect(page.locator("#history")).to_contain_text("¿Nos indica la referencia catastral?")
    check_page(page, "case-waiting")

    # WHEN they send nothing, THEN the field says so; WHEN they send the reference, the case is in progress again
    page.click("#add-button")
    expect(page.locator("#text-error")).to_have_text(t("es", "cases.text_missing"))
    expect(page.locator("#text")).to_have_attribute("aria-invalid", "true")
    check_page(page, "case-add-invalid")
    page.fill("#text", "Es 9872023VH5797S0001WX")
    page.click("#add-button")
    expect(page.locator("#done")).to_have_text(t("es", "cases.done_added"))
    expect(page.locator("#case-state")).to_have_text(t("es", "case.state.open"))

    # WHEN the agent resolves it, THEN the citizen may rate it: a missing score is refused, then it is rated once
    _post(platform, f"{url}/state", {"state": "resolved", "reason": "Recibo reenviado"}, agent)
    page.reload()
    expect(page.locator("#rate-form")).to_be_visible()
    page.click("#rate-button")
    expect(page.locator("#score-error")).to_have_text(t("es", "cases.score_missing"))
    check_page(page, "case-rate-invalid")
    page.check("#score-5")
    page.fill("#comment", "Rápido y claro")
    page.click("#rate-button")
    expect(page.locator("#done")).to_have_text(t("es", "cases.done_rated"))
    expect(page.locator("#rated")).to_be_visible()
    check_page(page, "case-rated")


def test_an_agent_takes_the_next_case_replies_and_escalates(page: Page, platform: Platform) -> None:
    citizen = f"c-{uuid.uuid4().hex[:12]}"
    queue = f"prueba{uuid.uuid4().hex[:6]}"
    admin = platform.as_("root", role="admin")
    config = {
        "office_hours": {d: ["00:00-24:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
        "open_on_holidays": True,
        "sla_policies": {"prueba": {"first_response_minutes": 60}},
        "categories": {"consulta": {"title": {"es": "Consulta", "en": "Question"}, "level": 1, "sla": "prueba"}},
    }
    answer = requests.put(platform.url(f"/v1/case-areas/{queue}/config"), json=config, headers=admin, timeout=15)
    assert answer.status_code == 200, answer.text
    case = open_case(platform, citizen, area=queue, category="consulta")

    # WHEN an agent of level 1 comes online for the queue and takes the next case
    sign_in_agent(page, platform.base)
    page.click("#nav-cases")
    check_page(page, "desk-cases")
    page.select_option("#presence", "online")
    page.fill("#queues", "no es una cola")
    page.click("#presence-button")
    expect(page.locator("#queues-error")).to_have_text(t("es", "desk.cases.queues_invalid"))
    check_page(page, "desk-cases-invalid")
    page.fill("#queues", f"{queue}-l1")
    page.click("#presence-button")
    expect(page.locator("#done")).to_have_text(t("es", "desk.cases.done_presence"))
    page.click("#next-button")

    # THEN the case opens with its SLA clocks; a reply is saved
    expect(page.locator("h1")).to_contain_text(case["reference"])
    expect(page.locator("#sla-first-response")).to_be_visible()
    check_page(page, "desk-case")
    page.fill("#text", "Le llamamos mañana por la mañana.")
    page.click("#reply-button")
    expect(page.locator("#done")).to_have_text(t("es", "desk.cases.done_replied"))
    expect(page.locator("#history")).to_contain_text("Le llamamos mañana")

    # WHEN they escalate to level 3: refused, in words; to level 2: done, and they now see a summary only
    page.select_option("#level", "3")
    page.fill("#escalation_reason", "Necesita a un experto")
    page.click("#escalate-button")
    expect(page.locator("#refusal-level")).to_have_text(t("es", "problem.escalation-refused"))
    check_page(page, "desk-case-refused")
    page.select_option("#level", "2")
    page.fill("#escalation_reason", "Necesita al área")
    page.click("#escalate-button")
    expect(page.locator("#done")).to_have_text(t("es", "desk.cases.done_escalated"))
    expect(page.locator("#summary-only")).to_be_visible()
    check_page(page, "desk-case-escalated")

    # WHEN the area's level-2 agent resolves it, THEN the SLA report counts it: the table, its plot and the CSV
    expert = {**platform.as_(f"ag-{uuid.uuid4().hex[:6]}", role="agent", level=2, area=queue), **PURPOSE}
    _post(platform, f"/v1/cases/{case['id']}/state", {"state": "resolved", "reason": "Resuelto"}, expert)
    page.click("#nav-cases")
    page.click("#report-link")
    page.select_option("#by", "area")
    page.click("#report-button")
    expect(page.locator("#report-table")).to_contain_text(queue)
    plot = page.locator("#report-plot img")
    expect(plot).to_be_visible()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=plot.element_handle())
    expect(page.locator("#report-csv")).to_have_attribute("href", re.compile(r"report\.csv\?month=20\d\d-\d\d&by=area"))
    check_page(page, "desk-sla-report")
