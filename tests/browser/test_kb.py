"""The knowledge base (KB) in a real browser against the whole local platform: an agent writes an article with its
Spanish and English texts side by side, is told of a missing field where it is, saves, changes the Spanish text
and sees the English one flagged to check, publishes; anyone finds it on the help pages and says it was useful; a
solved case's resolution becomes a draft without the case's personal data. axe-core (WCAG 2.1 AA) and visible focus
on every state."""

from __future__ import annotations

import uuid

from playwright.sync_api import Page, expect

from local.harness import Platform
from tests.browser.citizen import t
from tests.browser.support import check_page
from tests.browser.test_agent_desk import sign_in_agent
from tests.browser.test_cases import PURPOSE, _post, open_case


def test_an_agent_writes_translates_and_publishes_an_article_that_the_public_then_finds(
    page: Page, platform: Platform
) -> None:
    word = "cachivaches" + uuid.uuid4().hex[:5]
    sign_in_agent(page, platform.base, "2", check=False)
    page.click("#nav-kb")
    expect(page.locator("#kb-articles")).to_contain_text("Empadronarse")  # the shipped articles
    check_page(page, "kb-list")
    # WHEN the agent searches the internal side
    page.fill("#q", "recibo del ibi")
    page.click("#kb-search-button")
    expect(page.locator("#kb-results li").first).to_be_visible()
    # WHEN they create an article without its Spanish text, THEN the field says so
    page.click("#new-article")
    page.fill("#id", word)
    page.fill("#areas", "medio-ambiente")
    page.check("#audience_public")
    page.fill("#en_title", f"Collecting {word}")
    page.fill("#en_body", f"The {word} collection service comes on Tuesdays.")
    page.click("#save-button")
    expect(page.locator("#form-error, [id$='-error']").first).to_be_visible()
    check_page(page, "kb-new-invalid")
    # WHEN they write both languages side by side and save
    page.fill("#es_title", f"Recogida de {word}")
    page.fill("#es_body", f"El servicio de recogida de {word} pasa los martes por la mañana.")
    page.click("#save-button")
    expect(page.locator("#done")).to_have_text(t("es", "desk.kb.done_created"))
    expect(page.locator("#kb-state")).to_have_text(t("es", "kb.state.draft"))
    check_page(page, "kb-editor")
    page.click("#publish-button")
    expect(page.locator("#done")).to_have_text(t("es", "desk.kb.done_published"))
    # WHEN the Spanish text changes (a new draft), THEN the English one is flagged to check beside it
    page.fill("#es_body", f"El servicio de recogida de {word} pasa los martes y los jueves por la mañana.")
    page.click("#save-button")
    expect(page.locator("#stale-en")).to_have_text(t("es", "desk.kb.stale"))
    expect(page.locator("#stale-warning-1")).to_be_visible()
    check_page(page, "kb-stale")
    # WHEN they check the English text against it, THEN the warning goes; and they publish the new version
    page.fill("#en_body", f"The {word} collection service comes on Tuesdays and Thursdays in the morning.")
    page.check("#en_translated_from")
    page.click("#save-button")
    expect(page.locator("#stale-en")).to_have_count(0)
    page.click("#publish-button")
    expect(page.locator("#done")).to_have_text(t("es", "desk.kb.done_published"))
    expect(page.locator("#version-2")).to_contain_text(t("es", "kb.state.published"))
    check_page(page, "kb-published")

    # WHEN anyone looks for it on the help pages
    page.goto(platform.base + "/app/help")
    page.fill("#q", f"recogida {word}")
    page.click("#help-search-button")
    page.click(f"#hit-{word} a")
    expect(page.locator("#help-article h1")).to_have_text(f"Recogida de {word}")
    check_page(page, "help-article")
    page.click("#useful-yes")
    expect(page.locator("#done")).to_have_text(t("es", "help.thanks"))


def test_a_solved_case_becomes_a_draft_without_its_personal_data(page: Page, platform: Platform) -> None:
    citizen = f"c-{uuid.uuid4().hex[:12]}"
    case = open_case(platform, citizen)
    agent = {**platform.as_(f"ag-{uuid.uuid4().hex[:6]}", role="agent", level=2, area="hacienda"), **PURPOSE}
    resolution = "Se anuló el recibo duplicado del titular con DNI 12345678Z; la devolución llega en diez días."
    _post(platform, f"/v1/cases/{case['id']}/state", {"state": "resolved", "reason": resolution}, agent)
    sign_in_agent(page, platform.base, "2", check=False)
    page.goto(platform.base + f"/desk/cases/{case['id']}")
    page.click("#kb-draft-button")
    expect(page.locator("#done")).to_have_text(t("es", "desk.kb.done_proposed"))
    expect(page.locator("#es_body")).to_have_value(resolution.replace("12345678Z", "[documento]"))
    check_page(page, "kb-from-case")
