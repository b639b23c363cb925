"""The tax folder and direct debits in a real browser against the whole local platform (issue 14, screens): a
citizen with an IBI receipt opens the folder from Pay, sees the receipt by tax and year and what the Sistema Especial
de Pago would save; a mistyped IBAN is refused at its field, said in words and announced to assistive technology;
the right one signs the SEPA mandate (its text shown before the signature), the account shown masked and the bonus
applied; one button cancels it. axe-core (WCAG 2.1 AA) and visible focus are checked on every state of the page."""

from __future__ import annotations

import uuid

from playwright.sync_api import Page, expect

from local.harness import Platform
from tests.browser.citizen import open_app, sign_in, t
from tests.browser.support import check_page
from tests.functional.notification_support import send_event
from tests.functional.payment.test_debts import RECEIPT, receipt, wait_for_debts

HOME = "9872023VH5797S0001WX"


def test_a_citizen_signs_and_cancels_the_direct_debit_of_their_ibi(page: Page, platform: Platform) -> None:
    citizen = f"c-{uuid.uuid4().hex[:12]}"
    send_event(platform, RECEIPT, {**receipt(citizen), "direct_debit": {"status": "none"}}, source="/legacy/tributos",
               event_id=str(uuid.uuid4()))  # fmt: skip
    wait_for_debts(platform, citizen, 1)
    sign_in(page, platform.base, citizen, check=False)

    # WHEN they open the tax folder from Pay
    open_app(page, "pay")
    page.click("#taxes-link")
    expect(page.locator("h1")).to_have_text(t("es", "taxes.title"))
    expect(page.locator("#tax-IBI")).to_be_visible()
    expect(page.locator(f"#bonus-{HOME}")).to_contain_text("14,85 €")  # 3.25 % of 456.78 €
    expect(page.locator(f"#mandate-text-{HOME}")).to_contain_text("ES92000P2807900B")
    check_page(page, "taxes")

    # WHEN they mistype the IBAN: the field says why, and nothing is signed
    page.fill(f"#iban-{HOME}", "ES79 2100 0813 6101 2345 6780")
    page.fill(f"#holder-{HOME}", "Lola Ruiz Martín")
    page.check(f"#modality-{HOME}-fraccionado-bonificado")
    page.check(f"#authorise-{HOME}")
    page.click(f"#sign-button-{HOME}")
    expect(page.locator("#iban-error")).to_have_text(t("es", "problem.iban-invalid"))
    expect(page.locator(f"#iban-{HOME}")).to_have_attribute("aria-invalid", "true")
    check_page(page, "taxes-invalid-iban")

    # WHEN they type it right and sign
    page.fill(f"#iban-{HOME}", "ES79 2100 0813 6101 2345 6789")
    page.fill(f"#holder-{HOME}", "Lola Ruiz Martín")
    page.check(f"#modality-{HOME}-fraccionado-bonificado")
    page.check(f"#authorise-{HOME}")
    page.click(f"#sign-button-{HOME}")

    # THEN the folder shows the mandate with the account masked and the bonus applied
    expect(page.locator("#done")).to_have_text(t("es", "taxes.done_signed"))
    expect(page.locator(f"#debit-{HOME}")).to_contain_text("ES79 **** **** **** **** 6789")
    expect(page.locator(f"#bonus-{HOME}")).to_contain_text("se ahorra 14,85 €")
    assert "0813" not in page.content()
    check_page(page, "taxes-signed")

    # WHEN they cancel it: one button
    page.click(f"#cancel-button-{HOME}")
    expect(page.locator("#done")).to_have_text(t("es", "taxes.done_cancelled"))
    expect(page.locator(f"#debit-{HOME}")).to_have_text(t("es", "taxes.not_debited"))
