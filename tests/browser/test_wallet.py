"""The wallet micro-app (WAL, issue 17) in a real browser against the whole local platform: a senior citizen of
Madrid sees they may get the Madrid Mayor card and why, gets it into this browser's wallet (wallet.js: keys made
in the browser, OpenID4VCI with the code they type), sees it held with its claims, and presents it to a counter's
verifier request disclosing only "65 or over" (OpenID4VP, DCQL, key binding); the verifier's verdict is verified
with that one claim, and answering the same request again is refused in words. axe-core (WCAG 2.1 AA), visible
focus and no CSP refusal on every state."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from playwright.sync_api import Browser, Page, expect

from local.harness import Platform
from tests.browser.citizen import open_app, sign_in, t
from tests.browser.support import WIDTHS, check_page, watch
from tests.browser.test_agent_desk import sign_in_agent

UPDATED = "es.madrid.pic.citizen.updated.v1"


def senior(platform: Platform, citizen: str) -> None:
    """A person of 76 registered in Arganzuela (the Padrón's link), projected as C360 announces them."""
    updated = {
        "citizen_id": citizen,
        "link": {"source": "/legacy/padron", "local_id": f"P{citizen}", "change": "added"},
        "match": {"method": "new", "score": 1.0, "evidence": []},
        "updated_at": (datetime.now(UTC) - timedelta(minutes=1)).isoformat(),
        "contact": {"email": f"{citizen}@example.org", "phone": None},
        "profile": {"birth_date": "1950-03-01", "district": "02"},
    }
    assert platform.send_event(UPDATED, updated, source="/pic/citizen", subject=citizen).status_code == 202
    platform.settle(citizen)
    cards = platform.url(f"/v1/citizens/{citizen}/wallet/cards")

    def eligible() -> bool:
        found = platform.http.get(cards, headers=platform.as_(citizen), timeout=15)
        assert found.status_code == 200, found.text
        return any(c["type"] == "madrid-mayor" and c["eligible"] for c in found.json()["cards"])

    platform.wait_for(eligible, timeout=30, what="the Madrid Mayor card eligible")


def counter(platform: Platform) -> dict[str, str]:
    return {**platform.as_("ag-wallet-1", role="agent", level=1, area="atencion-ciudadania"),
            "Access-Purpose": "MOSTRADOR-MM-1"}  # fmt: skip


def ask_over_65(platform: Platform) -> dict[str, Any]:
    body = {"card_type": "madrid-mayor", "claims": [["age_equal_or_over", "65"]]}
    made = platform.http.post(platform.url("/v1/verifier/requests"), json=body, headers=counter(platform), timeout=15)
    assert made.status_code == 201, made.text
    return dict(made.json())


def test_a_senior_gets_the_madrid_mayor_card_in_the_browser_and_shows_only_over_65(
    page: Page, platform: Platform
) -> None:
    citizen = f"c-{uuid.uuid4().hex[:12]}"
    sign_in(page, platform.base, citizen, check=False)
    # a link that is not a verifier's request is refused at its field, in words (the browser's wallet alone)
    page.goto(platform.url("/app/wallet/present"))
    page.fill("#request-link", "https://example.org/not-a-request")
    page.click("#read-request")
    expect(page.locator("#request-link-error")).to_contain_text(t("es", "wallet.js.link_invalid", reason="")[:20])
    expect(page.locator("#request-link")).to_have_attribute("aria-invalid", "true")
    check_page(page, "bad-link")
    senior(platform, citizen)

    # WHEN the citizen opens their wallet, THEN the Madrid Mayor card says they may get it, and why
    open_app(page, "wallet")
    expect(page.locator("#card-madrid-mayor-eligible")).to_have_text(t("es", "wallet.eligible"))
    expect(page.locator("#card-madrid-mayor-reason-age")).to_contain_text(t("es", "wallet.met"))
    expect(page.locator("#browser-empty")).to_be_visible()
    check_page(page, "cards")

    # WHEN they get the card, THEN the offer is a QR code and a link for another wallet, with its code
    page.select_option("#copies-madrid-mayor", "2")
    page.click("#get-button-madrid-mayor")
    expect(page.locator("#offer-qr")).to_be_visible()
    assert (page.locator("#offer-link").get_attribute("href") or "").startswith("openid-credential-offer://?")
    code = page.locator("#tx-code-shown").inner_text().strip()
    assert code.isdigit() and len(code) == 6
    check_page(page, "offer")

    # WHEN they keep it in this browser typing the code, THEN two copies are kept, each with its own key
    page.fill("#tx-code", code)
    page.click("#accept-offer")
    expect(page.locator("#wallet-status")).to_have_text(t("es", "wallet.js.accepted", count="2"))
    check_page(page, "accepted")
    page.click("#to-wallet")
    held = page.locator("#browser-cards > li")
    expect(held).to_have_count(1)
    expect(held).to_contain_text(t("es", "wallet.claim.age_equal_or_over.65"))
    expect(held).to_contain_text(t("es", "wallet.js.copies_left", left="2", count="2"))
    expect(page.locator("#card-madrid-mayor-held")).to_contain_text(t("es", "wallet.state.valid"))
    check_page(page, "held")

    # WHEN a counter asks for "65 or over" and the person pastes its link, THEN they see who asks and what only
    asked = ask_over_65(platform)
    page.click("#to-present")
    page.fill("#request-link", asked["request_link"])
    page.click("#read-request")
    expect(page.locator("#request-claims li")).to_have_text([t("es", "wallet.claim.age_equal_or_over.65")])
    expect(page.locator("#request-verifier")).to_contain_text(platform.base.split("//", 1)[1])
    check_page(page, "request")

    # WHEN they send it, THEN the verifier verified the card and learnt that one claim, nothing else
    page.click("#share")
    expect(page.locator("#wallet-status")).to_have_text(t("es", "wallet.js.verified"))
    check_page(page, "sent")
    verdict = platform.http.get(
        platform.url(f"/v1/verifier/requests/{asked['request_id']}"), headers=counter(platform), timeout=15
    ).json()
    assert verdict["state"] == "verified", verdict
    assert verdict["disclosed"] == {"age_equal_or_over": {"65": True}}

    # WHEN they send the same request again (with the other copy), THEN the refusal is said in their words
    page.click("#read-request")
    page.click("#share")
    refused = t("es", "wallet.js.refused", reason=t("es", "wallet.refusal.verification-answered"))
    expect(page.locator("#wallet-status")).to_have_text(refused)


def test_the_issues_done_story_the_app_wallet_at_the_desks_verification_page_then_given_up(
    browser: Browser, platform: Platform
) -> None:
    """Issue 17's "Done", as two people do it at a desktop's width: the senior's wallet in the citizen app, the
    clerk's verification page on the desk; the card given up in the app; the clerk's next verification says so."""
    citizen = f"c-{uuid.uuid4().hex[:12]}"
    senior(platform, citizen)
    people = [browser.new_context(viewport=WIDTHS["desktop"], locale="es-ES") for _ in range(2)]  # type: ignore[arg-type]
    try:
        me, clerk = (context.new_page() for context in people)
        for opened in (me, clerk):
            watch(opened)
        # GIVEN the senior holds the Madrid Mayor card in the app's wallet (two copies)
        sign_in(me, platform.base, citizen, check=False)
        open_app(me, "wallet")
        me.select_option("#copies-madrid-mayor", "2")
        me.click("#get-button-madrid-mayor")
        me.fill("#tx-code", me.locator("#tx-code-shown").inner_text().strip())
        me.click("#accept-offer")
        expect(me.locator("#wallet-status")).to_have_text(t("es", "wallet.js.accepted", count="2"))
        # WHEN the clerk asks for "over 65" at the desk and the senior's wallet answers the page's link
        link = _clerk_asks_over_65(clerk, platform)
        _present(me, platform, link)
        expect(me.locator("#wallet-status")).to_have_text(t("es", "wallet.js.verified"))
        # THEN the clerk's page shows the verdict and "65 or over: yes", the only claim it learnt
        expect(clerk.locator("#verify-state")).to_have_text(t("es", "verify.state.verified"), timeout=15_000)
        expect(clerk.locator("#disclosed-age_equal_or_over-65")).to_have_text(t("es", "verify.yes"))
        expect(clerk.locator("#verify-disclosed tbody tr")).to_have_count(1)
        # WHEN the senior gives the card up in the app (it asks to confirm first)
        open_app(me, "wallet")
        give_up = me.locator("#card-madrid-mayor-held form")
        give_up.locator("button").click()
        expect(me.locator(".field-error").first).to_have_text(t("es", "wallet.give_up_confirm_missing"))
        check_page(me, "give-up-unconfirmed")
        me.locator("#card-madrid-mayor-held form input[type=checkbox]").check()
        me.locator("#card-madrid-mayor-held form button").click()
        expect(me.locator("#done")).to_have_text(t("es", "done.given-up"))
        expect(me.locator("#card-madrid-mayor-held")).to_contain_text(t("es", "wallet.state.revoked"))
        check_page(me, "given-up")
        # THEN the clerk's next verification, answered with the other copy, is refused: revoked
        link = _clerk_asks_over_65(clerk, platform, again=True)
        _present(me, platform, link)
        expect(clerk.locator("#verify-state")).to_contain_text(t("es", "verify.state.refused"), timeout=15_000)
        expect(clerk.locator("#verify-reason")).to_have_text(t("es", "verify.reason.revoked"))
        check_page(clerk, "verify-revoked")
    finally:
        for context in people:
            context.close()


def _clerk_asks_over_65(clerk: Page, platform: Platform, *, again: bool = False) -> str:
    """The desk's verification page: Madrid Mayor, only "65 or over", a purpose; the openid4vp:// link it shows."""
    if again:
        clerk.click("#verify-new")
    else:
        sign_in_agent(clerk, platform.base, "1", check=False)
        clerk.click("#nav-verify")
    clerk.select_option("#card_type", "madrid-mayor")
    clerk.click("#verify-choose")
    clerk.check("#claim-age_equal_or_over-65")
    clerk.fill("#purpose", "Taquilla 2 descuento mayores")
    clerk.click("#verify-ask")
    expect(clerk.locator("#verify-state")).to_have_text(t("es", "verify.state.pending"))
    link = clerk.locator("#verify-link").get_attribute("href")
    assert link and link.startswith("openid4vp://")
    return link


def _present(me: Page, platform: Platform, link: str) -> None:
    me.goto(platform.url("/app/wallet/present"))
    me.fill("#request-link", link)
    me.click("#read-request")
    expect(me.locator("#request-claims li")).to_have_text([t("es", "wallet.claim.age_equal_or_over.65")])
    me.click("#share")
