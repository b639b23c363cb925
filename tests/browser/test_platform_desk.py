"""The platform administrator's desk pages of issue 19 in a real browser, at a phone's and a desktop's width: the
API's consumers (ADR 0035) — a kiosk that called the API, went over its quota and was refused a route outside its
scope, its use by day and hour — and the data platform's catalogue (ADR 0036), each table's schema with its
pseudonymised columns. axe-core (WCAG 2.1 AA) and visible focus on every page, both languages."""

from __future__ import annotations

import time

import requests
from playwright.sync_api import Page, expect

from local.harness import Platform
from tests.browser.citizen import t
from tests.browser.support import check_page

KIOSK = "quiosco-pruebas"  # 3 requests per 5-second window, scope api:verifier.types (functions/core/data)
WINDOW = 5


def kiosk_calls(platform: Platform) -> None:
    """The kiosk's own traffic through the gateway: admitted, over its quota, and outside its scope."""
    secret = platform.http.post(platform.url("/dev/client-secret"), json={"client_id": KIOSK}, timeout=10)
    granted = platform.http.post(platform.url("/token"), data={"grant_type": "client_credentials"},
                                 auth=(KIOSK, secret.json()["client_secret"]), timeout=10)  # fmt: skip
    headers = {"Authorization": f"Bearer {granted.json()['access_token']}"}
    time.sleep(WINDOW - time.time() % WINDOW + 0.05)  # a window of its own (the other width's test used the last)
    answers = [requests.get(platform.url("/v1/verifier/card-types"), headers=headers, timeout=10) for _ in range(5)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429, 429], [a.text for a in answers]
    assert requests.get(platform.url("/v1/zbe/plates"), headers=headers, timeout=10).status_code in (403, 429)


def sign_in_admin(page: Page, base: str) -> None:
    page.goto(base + "/desk/")
    page.click("#desk-signin")
    page.select_option("#idp-role", "admin")
    page.fill("#idp-sub", "adm-plataforma")
    page.click("#idp-signin")
    expect(page.locator("#nav-consumers")).to_be_visible()


def test_an_administrator_reads_a_consumers_use_and_the_lake_catalogue(page: Page, platform: Platform) -> None:
    # GIVEN the kiosk used the API (admitted, then refused), and an administrator signed in on the desk
    kiosk_calls(platform)
    sign_in_admin(page, platform.base)
    # WHEN they open the consumers from the navigation, THEN each consumer with its quota, the kiosk among them
    page.click("#nav-consumers")
    expect(page.locator("h1")).to_have_text(t("es", "consumers.title"))
    expect(page.locator(f"#consumer-{KIOSK}")).to_contain_text("3 peticiones cada 5 s")
    check_page(page, "desk-consumers")
    # WHEN they open the kiosk's page, THEN today's use by day and by hour
    page.click(f"#consumer-{KIOSK} a")
    expect(page.locator("#consumer-quota")).to_contain_text("3 peticiones cada 5 s")
    expect(page.locator("#usage-by-day tbody tr").first).to_be_visible()
    expect(page.locator("#usage-by-hour tbody tr").first).to_be_visible()
    check_page(page, "desk-consumer")
    # WHEN they open the lake's catalogue, THEN each exported table with its schema and legal basis
    page.click("#nav-lake")
    expect(page.locator("h1")).to_have_text(t("es", "lake.title"))
    expect(page.locator("section.card table").first).to_be_visible()
    expect(page.locator("#lake-special")).to_be_visible()
    check_page(page, "desk-lake")
    # AND in English, the same page
    page.goto(platform.url("/app/lang/en?next=/desk/lake"))
    expect(page.locator("h1")).to_have_text(t("en", "lake.title"))
    expect(page.locator("html")).to_have_attribute("lang", "en")
    check_page(page, "desk-lake-en")
