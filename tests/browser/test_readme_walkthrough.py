"""The README's browser walk-through ("The citizen app and the agent desk"), followed as written: its shell
block run verbatim with bash (a fresh person, a notice in their inbox), then each numbered step clicked in
Chromium (the administrator in a window of their own), with the README's screenshots taken on the way.
``make screenshots`` writes them to ``docs/screenshots/`` (the README's images); in ``make test`` they go to
``.pic-data/screenshots/readme/``, so a step the README describes and the app no longer does fails here."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from local.harness import ROOT, Platform
from tests.browser.citizen import t
from tests.browser.support import check_page, watch
from tests.functional.core.test_readme_walkthroughs import README_BASE, run_bash, walkthroughs

TITLE = "The citizen app and the agent desk: a walk-through in the browser"
SHOTS = Path(os.environ.get("PIC_README_SHOTS") or ROOT / ".pic-data" / "screenshots" / "readme")
PRINTED = re.compile(r"^citizen: (\S+)\s+DNI: (\S+)", re.M)
PURPOSE = "CITA-2026-0042"


@pytest.fixture(params=["desktop"])
def width(request: pytest.FixtureRequest) -> str:
    """One width: the README's screenshots are a desktop's (the other tests cover the phone's)."""
    return str(request.param)


def section() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return text.split(f"## {TITLE}\n", 1)[1].split("\n## ", 1)[0]


def shot(page: Page, name: str, *, full_page: bool = False) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full_page)


@pytest.fixture
def prepared(platform: Platform, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """The README's shell block, verbatim against this platform: the person's citizen id and DNI it printed;
    the alerts micro-app switched on again afterwards whatever happened (the platform is shared)."""
    result = run_bash(walkthroughs()[TITLE].replace(README_BASE, platform.base), tmp_path)
    assert result.returncode == 0 and "gave up" not in result.stderr, result.stdout[-2000:] + result.stderr[-2000:]
    printed = PRINTED.search(result.stdout)
    assert printed, result.stdout[-2000:]
    yield printed.group(1), printed.group(2)
    admin = platform.as_("admin-teardown", role="admin")
    flag = platform.http.get(platform.url("/v1/flags"), timeout=10).json()["flags"]["alerts"]
    if not flag["enabled"]:
        body = {"enabled": True, "reason": "the walk-through is over", "version": flag["version"]}
        platform.http.put(platform.url("/v1/flags/alerts"), json=body, headers=admin, timeout=10)


def test_the_readme_walk_through_in_the_browser(
    page: Page, context: BrowserContext, platform: Platform, prepared: tuple[str, str]
) -> None:
    citizen, dni = prepared
    # 1. sign in as the citizen: the position, personalised (mode b)
    page.goto(platform.url("/app/"))
    page.click("#signin")
    page.fill("#idp-sub", citizen)
    page.click("#idp-signin")
    expect(page.locator("#mode")).to_contain_text(t("es", "home.mode_b"))
    expect(page.locator("#position")).to_be_visible()
    check_page(page, "position")
    shot(page, "01-position")

    # 2. give and withdraw the location consent
    page.click("#nav-consents")
    page.click("#give-location")
    expect(page.locator("#purpose-location-state")).to_have_text(t("es", "consents.given"))
    page.click("#withdraw-location")
    expect(page.locator("#purpose-location-state")).to_have_text(t("es", "consents.not_given"))
    page.locator("#purpose-location").scroll_into_view_if_needed()
    shot(page, "02-consents")

    # 3. alerts in a barrio: Palacio (011)
    page.click("#nav-alerts")
    page.select_option("#alert-zone", "011")
    page.click("#subscribe")
    expect(page.locator("#subscriptions li")).to_have_count(1)
    shot(page, "03-alerts")

    # 4. the inbox: the notice, marked read
    page.click("#nav-inbox")
    expect(page.locator("#unread")).to_have_text(t("es", "inbox.unread", count="1"))
    page.locator("[id^=mark-read-]").first.click()
    expect(page.locator("#unread")).to_have_text(t("es", "inbox.unread", count="0"))
    shot(page, "04-inbox")

    # 5. the access request and its download
    page.click("#nav-my-data")
    page.click("#right-access")
    page.click("#send-request")
    expect(page.locator("#request-due")).not_to_be_empty()
    for _ in range(60):
        if page.locator("#download-export").count():
            break
        page.wait_for_timeout(1000)
        page.reload()
    with page.expect_download() as download:
        page.click("#download-export")
    assert download.value.suggested_filename.endswith(".zip")
    shot(page, "05-my-data")

    # 6. an administrator, in a window of their own, switches the alerts micro-app off with a reason
    private = context.browser.new_context(viewport=page.viewport_size, locale="es-ES")  # type: ignore[union-attr]
    admin = private.new_page()
    watch(admin)
    admin.goto(platform.url("/desk/"))
    admin.click("#desk-signin")
    admin.select_option("#idp-role", "admin")
    admin.fill("#idp-sub", "admin-1")
    admin.click("#idp-signin")
    expect(admin.locator("h1")).to_have_text(t("es", "admin.apps_title"))
    admin.uncheck("#enabled-alerts")
    admin.fill("#reason-alerts", "Mantenimiento del servicio de alertas")
    admin.click("#save-alerts")
    expect(admin.locator("#done")).to_have_text(t("es", "done.flag-changed"))
    expect(admin.locator("#app-alerts-state")).to_contain_text(t("es", "admin.off"))
    check_page(admin, "admin-apps")
    shot(admin, "06-admin-apps")
    private.close()

    # the alerts micro-app leaves the citizen's navigation (within the flags' poll) and its address is a 404
    for _ in range(20):
        page.click("#brand")
        if page.locator("#nav-alerts").count() == 0:
            break
        page.wait_for_timeout(500)
    expect(page.locator("#nav-alerts")).to_have_count(0)
    shot(page, "07-app-off")
    assert page.goto(platform.url("/app/alerts")).status == 404  # type: ignore[union-attr]
    page.goto(platform.url("/app/"))
    page.click("#signout")

    # 7. a level 1 agent finds that citizen by DNI, with a purpose
    page.goto(platform.url("/desk/"))
    page.click("#desk-signin")
    expect(page.locator("#idp-role")).to_have_value("agent")
    expect(page.locator("#idp-area")).to_have_value("atencion-ciudadania")
    page.fill("#idp-sub", "ag-0001")
    page.select_option("#idp-level", "1")
    page.click("#idp-signin")
    page.fill("#purpose", PURPOSE)
    page.check("#kind-document")
    page.fill("#document_number", dni)
    page.click("#search-submit")
    expect(page.locator(f"#attend-{citizen}")).to_be_visible()
    check_page(page, "desk-search")
    shot(page, "08-desk-search")

    # 8. what level 1 may see: summaries, with the purpose stated
    page.click(f"#attend-{citizen}")
    expect(page.locator("#attention")).to_contain_text(PURPOSE)
    for text in page.locator("#position-sections > li").all_inner_texts():
        assert t("es", "desk.view_detail") not in text and t("es", "desk.view_full") not in text, text
    expect(page.locator("section[aria-busy=true]")).to_have_count(0)  # the later panels, loaded as fragments
    check_page(page, "desk-citizen")
    shot(page, "09-desk-citizen", full_page=True)
