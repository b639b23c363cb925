"""The desk's verification page in a real browser against the whole local platform, at a phone's and a desktop's
width: an agent chooses the Madrid Mayor card and only "Aged 65 or over", states the purpose, sees the QR code; a
Python holder (``functions.core.sdjwt``, a credential of the stand-in issuer served over HTTP) presents it by
direct_post; the page's status part (htmx, every 2 s) turns to the verdict naming each check and exactly the claim
disclosed ("Mayor de 65: sí"). axe-core (WCAG 2.1 AA) and visible focus on every state."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from playwright.sync_api import Page, expect

from functions.core.clock import SYSTEM_CLOCK
from local.harness import Platform
from tests.browser.citizen import t
from tests.browser.support import check_page
from tests.browser.test_agent_desk import sign_in_agent
from tests.verifier_issuer import STAND_IN_ISSUER, Holder, StandInIssuer


@pytest.fixture(scope="module")
def issuer() -> Iterator[StandInIssuer]:
    served = StandInIssuer(STAND_IN_ISSUER, SYSTEM_CLOCK)
    with served.serve():
        yield served


def test_an_agent_verifies_over_65_only(page: Page, platform: Platform, issuer: StandInIssuer) -> None:
    holder = Holder()
    credential, _ = issuer.issue(holder.key)
    sign_in_agent(page, platform.base, "1", check=False)
    # GIVEN the verification page, a card type chosen (a GET form: its claims without JavaScript)
    page.click("#nav-verify")
    expect(page.locator("h1")).to_have_text(t("es", "verify.title"))
    page.select_option("#card_type", "madrid-mayor")
    page.click("#verify-choose")
    expect(page.locator("#claim-age_equal_or_over-65")).to_be_visible()
    check_page(page, "verify-choose")
    # WHEN no purpose is given, THEN it is named at its field
    page.check("#claim-age_equal_or_over-65")
    page.click("#verify-ask")
    expect(page.locator("#purpose-error")).to_be_visible()
    # WHEN only "over 65" is asked for a purpose, THEN the QR code and the link wait for the person
    page.fill("#purpose", "Taquilla 3 descuento mayores")
    page.click("#verify-ask")
    expect(page.locator("h1")).to_have_text(t("es", "verify.result_title"))  # the whole page (a boosted navigation)
    expect(page.locator("#verify-state")).to_have_text(t("es", "verify.state.pending"))
    expect(page.locator("#verify-qr svg")).to_be_visible()
    check_page(page, "verify-waiting")
    link = page.locator("#verify-link").get_attribute("href")
    assert link and link.startswith("openid4vp://")
    # WHEN the holder's wallet presents the card, disclosing only what was asked
    answered = holder.present(credential, link, datetime.now(UTC))
    assert answered.json() == {"state": "verified"}, answered.text
    # THEN the page turns to the verdict by itself: each check, and "Mayor de 65: sí" and nothing else
    expect(page.locator("#verify-state")).to_have_text(t("es", "verify.state.verified"), timeout=15_000)
    expect(page.locator("#disclosed-age_equal_or_over-65")).to_have_text(t("es", "verify.yes"))
    expect(page.locator("#verify-disclosed tbody tr")).to_have_count(1)
    expect(page.locator("#verify-checks tbody tr")).to_have_count(8)
    expect(page.locator("#check-status td")).to_have_text(t("es", "verify.passed"))
    expect(page.locator("h1")).to_have_text(t("es", "verify.result_title"))  # the part swapped, the page kept
    expect(page.locator("#verify-new")).to_be_visible()
    check_page(page, "verify-verdict")
