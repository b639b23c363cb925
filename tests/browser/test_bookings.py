"""The bookings micro-app (issue 18) in a real browser against the whole local platform, at both widths: a person
opens "Reservas", finds the table-tennis table at CDM Moratalaz, books its first free slot, sees it confirmed in
their bookings, is told in words to confirm before cancelling, and cancels it. axe-core (WCAG 2.1 AA), visible
focus and no CSP refusal on every state."""

from __future__ import annotations

import uuid

from playwright.sync_api import Page, expect

from local.harness import Platform
from tests.browser.citizen import open_app, sign_in, t
from tests.browser.support import check_page

RESOURCE = "tenis-de-mesa-moratalaz"


def test_a_person_books_a_table_sees_it_confirmed_and_cancels_it(page: Page, platform: Platform) -> None:
    citizen = f"c-{uuid.uuid4().hex[:12]}"
    sign_in(page, platform.base, citizen, check=False)
    # WHEN they open their bookings, THEN none yet, and the catalogue (sample data, said so)
    open_app(page, "bookings")
    expect(page.locator("#no-bookings")).to_have_text(t("es", "bookings.none"))
    expect(page.locator(f"#resource-{RESOURCE}")).to_be_visible()
    check_page(page, "catalogue")

    # WHEN they open the table's slots, THEN each shows its free places
    page.click(f"#resource-{RESOURCE}-link")
    expect(page.locator("#slots")).to_be_visible()
    check_page(page, "slots")

    # WHEN they book the first free slot, THEN it is confirmed, said, and listed
    page.locator("#slots button", has_text=t("es", "bookings.book")).first.click()
    expect(page.locator("#done")).to_have_text(t("es", "bookings.done.booked"))
    row = page.locator("#bookings tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(t("es", "bookings.state.confirmed"))
    check_page(page, "booked")

    # WHEN they press "Cancel" without confirming, THEN they are asked to, at the booking, in words
    row.locator("button", has_text=t("es", "bookings.cancel")).click()
    expect(page.locator(".field-error")).to_have_text(t("es", "bookings.cancel_confirm_missing"))
    expect(page.locator("#bookings input[type=checkbox]")).to_have_attribute("aria-invalid", "true")
    check_page(page, "cancel-unconfirmed")

    # WHEN they confirm and cancel, THEN it is cancelled
    page.locator("#bookings input[type=checkbox]").check()
    page.locator("#bookings button", has_text=t("es", "bookings.cancel")).click()
    expect(page.locator("#done")).to_have_text(t("es", "bookings.done.cancelled"))
    expect(page.locator("#bookings tbody tr")).to_contain_text(t("es", "bookings.state.cancelled"))
    check_page(page, "cancelled")
