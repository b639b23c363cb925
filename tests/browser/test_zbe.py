"""The ZBE micro-app and the desk's review screen (issue 18) in a real browser against the whole local platform:
Movilidad has announced two vehicles; the citizen opens "Zonas de bajas emisiones", a plate in no Spanish format is
refused at its field, in words; as a resident of Centro with their own car they are granted at once and pointed to
the wallet; as a guest with a borrowed car the application waits; an agent states a purpose on the desk's review
screen and approves it with a reason; the citizen sees it granted. axe-core (WCAG 2.1 AA), visible focus and no CSP
refusal on every state, at both widths."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from playwright.sync_api import Page, expect

from local.harness import Platform
from tests.browser.citizen import open_app, sign_in, t
from tests.browser.support import check_page, watch
from tests.browser.test_agent_desk import sign_in_agent

REGISTERED = "es.madrid.pic.vehicle.registered.v1"


def fresh_plate() -> str:
    n = uuid.uuid4().int
    return f"{n % 10_000:04d}" + "".join("BCDFGHJKLMNPRSTVWXYZ"[(n >> (14 + 5 * i)) % 20] for i in range(3))


def register(platform: Platform, plate: str, label: str, holder: str, district: str) -> None:
    data = {"plate": plate, "label": label, "citizen_id": holder, "district": district,
            "as_of": datetime.now(UTC).isoformat()}  # fmt: skip
    assert platform.send_event(REGISTERED, data, source="/legacy/movilidad", subject=plate).status_code == 202


def applications(platform: Platform, citizen: str) -> dict[str, str]:
    """The citizen's applications' ids by plate (newest first), as the API shows them."""
    url = platform.url(f"/v1/citizens/{citizen}/zbe/applications")
    found = platform.http.get(url, headers=platform.as_(citizen), timeout=15).json()["applications"]
    return {a["plate"]: a["id"] for a in reversed(found)}


def apply(page: Page, plate: str, category: str, note: str = "") -> None:
    page.fill("#plate", plate)
    page.select_option("#zone", "distrito-centro")
    page.select_option("#category", category)
    page.fill("#note", note)
    page.click("#apply-button")


def test_a_resident_is_granted_at_once_and_a_guest_after_the_desks_review(page: Page, platform: Platform) -> None:
    citizen = f"c-{uuid.uuid4().hex[:12]}"
    own, borrowed = fresh_plate(), fresh_plate()
    register(platform, own, "B", citizen, "01")
    register(platform, borrowed, "C", "c-host", "05")
    platform.settle(own, borrowed)
    sign_in(page, platform.base, citizen, check=False)
    open_app(page, "zbe")
    expect(page.locator("#no-applications")).to_be_visible()

    # WHEN the plate is not in a Spanish format THEN it is refused at its field, in words
    apply(page, "1234 AEI", "residente")
    expect(page.locator("#plate-error")).to_have_text(t("es", "zbe.problem.zbe-invalid-plate"))
    expect(page.locator("#plate")).to_have_attribute("aria-invalid", "true")
    check_page(page, "bad-plate")

    # WHEN they apply as a resident with their own car THEN granted at once, with the reason, and the wallet offered
    apply(page, f"{own[:4]} {own[4:].lower()}", "residente")
    expect(page.locator("#done")).to_have_text(t("es", "zbe.done.applied"))
    granted = applications(platform, citizen)[own]
    expect(page.locator(f"#app-{granted}-state")).to_contain_text(t("es", "zbe.state.granted"))
    expect(page.locator(f"#app-{granted}-reason-automatic")).to_be_visible()
    expect(page.locator(f"#app-{granted}-wallet")).to_have_attribute("href", "/app/wallet#card-zbe")
    check_page(page, "granted")

    # WHEN they apply as a guest with a borrowed car THEN it waits for an agent's review
    apply(page, borrowed, "invitado", "Invitado por c-host, Lavapiés")
    expect(page.locator("#applications > li")).to_have_count(2)
    pending = applications(platform, citizen)[borrowed]
    expect(page.locator(f"#app-{pending}-state")).to_contain_text(t("es", "zbe.state.pending-review"))

    # WHEN an agent opens the review screen, states a purpose and approves it with a reason
    browser = page.context.browser
    assert browser is not None
    office = browser.new_context(viewport=page.viewport_size, locale="es-ES")  # the agent's own cookies
    office.set_default_timeout(10_000)
    desk = office.new_page()
    watch(desk)
    sign_in_agent(desk, platform.base, "2", check=False)
    desk.click("#nav-zbe")
    expect(desk.locator("#zbe-purpose-form")).to_be_visible()  # the search page has a #purpose too
    desk.fill("#purpose", "REVISION-ZBE-1")
    desk.click("#zbe-show")
    expect(desk.locator(f"#app-{pending}-note")).to_have_text("Invitado por c-host, Lavapiés")
    check_page(desk, "desk-queue")
    desk.check(f"#decide-{pending}-approve")
    desk.fill(f"#decide-{pending}-reason", "Invitación de residente comprobada")
    desk.click(f"#decide-{pending}-button")
    expect(desk.locator("#done")).to_have_text(t("es", "zbe.desk.done.approve"))
    expect(desk.locator(f"#app-{pending}")).to_have_count(0)
    office.close()

    # THEN the citizen sees it granted, with the agent's reason
    page.reload()
    expect(page.locator(f"#app-{pending}-state")).to_contain_text(t("es", "zbe.state.granted"))
    expect(page.locator(f"#app-{pending}-reasons")).to_contain_text("Invitación de residente comprobada")
