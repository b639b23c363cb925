"""Avisos (incidents on the public way, issue 18) in a real browser against the whole local platform: a citizen
reports a broken streetlight near one already reported — the open report is offered first ("me too"), she sends her
own anyway with a photo, the desk's agent resolves it, and she reopens it; a missing point and an empty note refused
at their fields. axe-core (WCAG 2.1 AA), visible focus and the CSP on every state, at both widths."""

from __future__ import annotations

import io
import uuid

import requests
from PIL import Image
from playwright.sync_api import Page, expect

from local.harness import Platform
from tests.browser.citizen import open_app, sign_in, t
from tests.browser.support import check_page

LIGHT = "alumbrado-farola-apagada"


def photo() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (640, 480), (250, 200, 40)).save(out, "JPEG")
    return out.getvalue()


def test_a_citizen_reports_a_streetlight_sees_the_near_one_adds_a_photo_and_reopens(
    page: Page, platform: Platform
) -> None:
    lat, lon = 40.44 + (uuid.uuid4().int % 5000) * 1e-5, -3.66
    other = platform.as_(f"c-{uuid.uuid4().hex[:10]}")
    near = requests.post(platform.url("/v1/incidents"), headers=other, timeout=15, json={
        "service_code": LIGHT, "lat": lat, "long": lon, "attributes": {"tipo-averia": "parpadea"}}).json()  # fmt: skip

    # WHEN the citizen opens Avisos and chooses the streetlight
    citizen = f"c-{uuid.uuid4().hex[:12]}"
    sign_in(page, platform.base, citizen, check=False)
    open_app(page, "avisos")
    expect(page.locator("#no-incidents")).to_be_visible()
    check_page(page, "avisos-home")
    page.click(f"#service-{LIGHT}")
    page.click("#send")  # THEN a missing point is refused at its fields
    expect(page.locator("#lat-error")).to_have_text(t("es", "avisos.number_invalid"))
    expect(page.locator("#lat")).to_have_attribute("aria-invalid", "true")
    check_page(page, "avisos-new-invalid")

    # WHEN she gives a point 10 m from the open report, THEN it is offered before hers is sent
    page.fill("#lat", f"{lat + 0.00009:.6f}")
    page.fill("#long", f"{lon}")
    page.select_option("#attribute-tipo-averia", "apagada")
    page.fill("#description", "Farola apagada frente al portal 3")
    page.click("#send")
    expect(page.locator(f"#near-{near['service_request_id']}")).to_be_visible()
    check_page(page, "avisos-suggestions")
    page.click("#send")  # it is not that one: hers is sent
    expect(page.locator("#done")).to_have_text(t("es", "done.avisos-reported"))
    expect(page.locator("#stage")).to_have_text(t("es", "avisos.stage.received"))
    incident_id = page.locator("h1").inner_text().split()[-1]

    # WHEN she adds a photo, THEN it is listed
    page.set_input_files("#photo", files=[{"name": "farola.jpg", "mimeType": "image/jpeg", "buffer": photo()}])
    page.click("#add-photo-button")
    expect(page.locator("#done")).to_have_text(t("es", "done.avisos-photo"))
    expect(page.locator("#photos li")).to_have_count(1)
    check_page(page, "avisos-detail")

    # WHEN the area resolves it, THEN she may reopen it: an empty note refused, then reopened
    agent = {**platform.as_("ag-alumbrado", role="agent", level=1, area="atencion-ciudadania"),
             "Access-Purpose": "AVISO-0001"}  # fmt: skip
    moved = requests.post(platform.url(f"/v1/incidents/{incident_id}/stage"), headers=agent, timeout=15,
                          json={"stage": "resolved", "note": "Lámpara cambiada"})  # fmt: skip
    assert moved.status_code == 200, moved.text
    page.reload()
    expect(page.locator("#notes")).to_have_text("Lámpara cambiada")
    page.click("#reopen-button")
    expect(page.locator("#note-error")).to_have_text(t("es", "avisos.note_invalid"))
    check_page(page, "avisos-reopen-invalid")
    page.fill("#note", "Sigue apagada por la noche")
    page.click("#reopen-button")
    expect(page.locator("#done")).to_have_text(t("es", "done.avisos-reopened"))
    expect(page.locator("#stage")).to_have_text(t("es", "avisos.stage.reopened"))
    open_app(page, "avisos")
    expect(page.locator(f"#incident-{incident_id}-stage")).to_have_text(t("es", "avisos.stage.reopened"))
