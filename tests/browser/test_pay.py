"""The "Pay" micro-app in a real browser, at a phone's and a desktop's width, against the whole local platform
(issue 14, screens): a citizen with a traffic fine sees what is due today and until when, with the notice to
read before paying; pays it by Bizum; the browser goes on to the local Redsys (make run's stand-in) and back;
the app shows the outcome the gateway's notification stored. A declined card, in English, leaves nothing
charged and the fine payable again. axe-core (WCAG 2.1 AA), visible focus and the CSP are checked on every page
reached, the gateway's page included."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from playwright.sync_api import Page, expect

from local.harness import Platform
from tests.browser.citizen import open_app, sign_in, t
from tests.browser.support import check_page
from tests.functional.citizen.test_citizen import padron_person
from tests.functional.notification_support import send_event

FINE = "es.madrid.pic.fine.issued.v1"


def a_fine_for(platform: Platform, citizen: str) -> str:
    """Multas notifies a 200 EUR parking fine two days ago (50 % off today); its debt id."""
    fine_id = f"MUL-{uuid.uuid4().hex[:10]}"
    data = {
        "fine_id": fine_id,
        "citizen_id": citizen,
        "plate": "1234KLM",
        "infraction": {"article": "RGC art. 94.2.e", "description": "Estacionar en zona de carga y descarga"},
        "severity": "grave",
        "regime": "traffic",
        "amount_cents": 20000,
        "notified_at": (datetime.now(UTC) - timedelta(days=2)).isoformat(),
    }
    send_event(platform, FINE, data, source="/legacy/multas", event_id=str(uuid.uuid4()))
    platform.wait_for(
        lambda: platform.http.get(platform.url(f"/v1/citizens/{citizen}/debts"), headers=platform.as_(citizen),
                                  timeout=10).json()["debts"],
        what="the fine",
    )  # fmt: skip
    return f"fine-{fine_id}"


def test_a_citizen_pays_a_fine_by_bizum_through_the_gateway_and_sees_it_paid(page: Page, platform: Platform) -> None:
    citizen = f"c-{uuid.uuid4().hex[:12]}"
    debt = a_fine_for(platform, citizen)
    sign_in(page, platform.base, citizen, check=False)

    # WHEN they open Pay: the fine at half, until when, the full amount after, and the notice before paying
    open_app(page, "pay")
    expect(page.locator("h1")).to_have_text(t("es", "pay.title"))
    expect(page.locator(f"#due-{debt} .due")).to_contain_text("100,00 €")
    expect(page.locator(f"#due-{debt} .notice")).to_be_visible()
    check_page(page, "pay")
    # AND its payment letter, to pay at a bank instead, downloads as a PDF
    with page.expect_download() as letter:
        page.click(f"#letter-{debt}")
    assert letter.value.suggested_filename == f"carta-de-pago-{debt}.pdf"
    assert Path(letter.value.path()).read_bytes().startswith(b"%PDF-")

    # WHEN they choose the fine and Bizum and pay
    page.check(f"#pay-{debt}")
    page.check("#method-bizum")
    page.click("#pay")

    # THEN the browser is at the gateway's page (the local Redsys), for 100,00 € by Bizum
    expect(page.locator("h1")).to_have_text("Pago con tarjeta o Bizum (entorno de pruebas)")
    expect(page.locator("dl")).to_contain_text("100,00 €")
    expect(page.locator("dl")).to_contain_text("Bizum")
    check_page(page, "redsys")

    # WHEN they pay there
    page.click("button[value=approve]")

    # THEN they are back in the app, which shows what the notification stored: paid
    expect(page.locator("#payment-success")).to_contain_text("100,00 €")
    assert "/app/payments/pay-" in page.url
    check_page(page, "paid")
    # AND its receipt downloads as a PDF
    with page.expect_download() as receipt:
        page.click("#receipt")
    assert receipt.value.suggested_filename.startswith("justificante-pay-")
    page.click("#back-to-pay")
    expect(page.locator(f"#paid-{debt}")).to_be_visible()
    expect(page.locator("#nothing-due")).to_be_visible()


def test_a_declined_card_in_english_charges_nothing_and_the_fine_can_be_paid_again(
    page: Page, platform: Platform
) -> None:
    citizen = f"c-{uuid.uuid4().hex[:12]}"
    debt = a_fine_for(platform, citizen)
    sign_in(page, platform.base, citizen, check=False)
    page.click("#lang-en")
    open_app(page, "pay")
    expect(page.locator("h1")).to_have_text(t("en", "pay.title"))

    # WHEN they pay by card without choosing anything first: told what to do, next to the list
    page.click("#pay")
    expect(page.locator("#debt-error")).to_have_text(t("en", "pay.choose_one"))
    check_page(page, "pay-nothing-chosen")

    # WHEN they pay the fine by card and the bank declines it
    page.check(f"#pay-{debt}")
    page.click("#pay")
    expect(page.locator("button[value=decline]")).to_be_visible()
    page.click("button[value=decline]")

    # THEN the app says nothing was charged and offers to try again; the fine is payable again
    expect(page.locator("#payment-failed")).to_have_text(t("en", "pay.failed"))
    check_page(page, "declined")
    page.click("#pay-again")
    expect(page.locator(f"#pay-{debt}")).to_be_enabled()


def test_an_agent_takes_a_phone_payment_with_a_purpose_and_the_payment_records_the_agent(
    page: Page, platform: Platform
) -> None:
    # GIVEN a person the Padrón knows, with a fine, on the phone to an agent of Hacienda (level 2)
    person = padron_person(platform)
    debt = a_fine_for(platform, person["citizen_id"])
    page.goto(platform.url("/desk/"))
    page.click("#desk-signin")
    page.fill("#idp-sub", f"ag-{uuid.uuid4().hex[:8]}")
    page.select_option("#idp-level", "2")
    page.fill("#idp-area", "hacienda")
    page.click("#idp-signin")
    expect(page.locator("#agent-badge")).to_be_visible()

    # WHEN they find the person with the call's purpose and open them
    page.fill("#purpose", "LLAMADA-010-2026-31")
    page.check("#kind-document")
    page.select_option("#document_type", "DNI")
    page.fill("#document_number", person["dni"])
    page.click("#search-submit")
    page.click(f"#attend-{person['citizen_id']}")

    # THEN the 360 view lists the fine to pay, with its notice
    expect(page.locator(f"#phone-pay-{debt}")).to_be_enabled()
    check_page(page, "desk-debts")

    # WHEN the agent pays it by card for the person, and the card is approved at the gateway
    page.check(f"#phone-pay-{debt}")
    page.click("#phone-pay")
    expect(page.locator("button[value=approve]")).to_be_visible()
    page.click("button[value=approve]")

    # THEN the desk shows the payment done, taken by that agent, and the person's fine is paid
    expect(page.locator("#payment-success")).to_contain_text("100,00 €")
    expect(page.locator("#taken-by")).to_contain_text("agent:ag-")
    check_page(page, "desk-paid")
    page.click("#back-to-citizen")
    expect(page.locator("#no-debts")).to_be_visible()
