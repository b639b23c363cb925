"""The desk's contacts screen (CCAAS) in a real browser against the whole local platform: an agent sets their
routing profile (an invalid proficiency refused at its field), is offered a connector's chat without reloading
(htmx polling; the polite live region tells it), accepts it and ends it with its topic (required), declines a
call, is told in words that a contact whose caller hung up can no longer be accepted, and reads the queue's day
as a table and a CSV. axe-core (WCAG 2.1 AA) and visible focus on every state, at both widths."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import requests
from playwright.sync_api import Page, Route, expect

from local.harness import Platform
from tests.browser.citizen import t
from tests.browser.support import check_page
from tests.browser.test_agent_desk import sign_in_agent

POLLED = 15_000  # the page polls its offers every 5 s


@pytest.fixture(autouse=True)
def _patient() -> Iterator[None]:
    """Each step waits up to 15 s for the platform (2 shared cores run it all), then back to Playwright's 5 s."""
    expect.set_options(timeout=15_000)
    yield
    expect.set_options(timeout=5_000)


def _queue(platform: Platform, queue: str, skill: str) -> None:
    config = {"area": "atencion-ciudadania", "level": 1, "skill": skill, "steps": [{"min_proficiency": 3}],
              "then": "callback", "offer_seconds": 600}  # fmt: skip
    admin = platform.as_("adm", role="admin")
    answer = requests.put(platform.url(f"/v1/routing/queues/{queue}"), json=config, headers=admin, timeout=30)
    assert answer.status_code == 200, answer.text


def _offer(platform: Platform, queue: str, channel: str) -> str:
    """A connector (the PBX, the web chat) offers a contact to the queue: its id."""
    body = {"request_id": f"req-{uuid.uuid4().hex[:12]}", "channel": channel, "queue": queue}
    pbx = platform.as_("pbx", role="system")
    answer = requests.post(platform.url("/v1/contacts"), json=body, headers=pbx, timeout=30)
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


def test_an_agent_is_offered_contacts_accepts_ends_declines_and_reads_the_queues_day(
    page: Page, platform: Platform
) -> None:
    run = uuid.uuid4().hex[:8]
    queue, skill = f"prueba-{run}", f"tramites-{run}"
    _queue(platform, queue, skill)

    # WHEN an agent opens their contacts and sends a proficiency of 9, THEN it is refused at its field
    sign_in_agent(page, platform.base, check=False)
    page.click("#nav-contacts")
    expect(page.locator("#nav-contacts")).to_have_attribute("aria-current", "page")
    expect(page.locator("#no-offers")).to_be_visible()
    check_page(page, "desk-contacts")
    page.select_option("#presence", "online")
    page.fill("#skills", f"{skill}:9")
    page.fill("#queues", queue)
    page.click("#profile-button")
    expect(page.locator("#skills-error")).to_have_text(t("es", "desk.contacts.skills_invalid"))
    expect(page.locator("#skills")).to_have_attribute("aria-invalid", "true")
    check_page(page, "desk-contacts-invalid")

    # WHEN they come online for the queue with the skill, THEN a connector's chat is offered to them, shown without
    # a reload and told by the polite live region
    page.fill("#skills", f"{skill}:4")
    page.click("#profile-button")
    expect(page.locator("#done")).to_have_text(t("es", "desk.contacts.done_profile"))
    chat = _offer(platform, queue, "chat")
    expect(page.locator(f"#offer-{chat}")).to_be_visible(timeout=POLLED)
    expect(page.locator("#offers-news")).to_contain_text(queue)
    expect(page.locator(f"#offer-{chat}")).to_contain_text(t("es", "desk.contacts.channel.chat"))
    check_page(page, "desk-contacts-offered")

    # WHEN they accept it and end it without a topic, THEN the topic is asked for; with it, the contact ends
    page.click(f"#accept-{chat}")
    expect(page.locator("#done")).to_have_text(t("es", "desk.contacts.done_accepted"))
    expect(page.locator(f"#active-{chat}")).to_be_visible()
    page.click(f"#end-{chat}")
    expect(page.locator(f"#topic-{chat}-error")).to_have_text(t("es", "desk.contacts.topic_missing"))
    check_page(page, "desk-contacts-end-invalid")
    page.fill(f"#topic-{chat}", "Alta en el padrón")
    page.click(f"#end-{chat}")
    expect(page.locator("#done")).to_have_text(t("es", "desk.contacts.done_ended"))
    expect(page.locator("#no-active")).to_be_visible()

    # WHEN a call is offered, THEN they decline it
    call = _offer(platform, queue, "call")
    expect(page.locator(f"#offer-{call}")).to_be_visible(timeout=POLLED)
    page.click(f"#reject-{call}")
    expect(page.locator("#done")).to_have_text(t("es", "desk.contacts.done_rejected"))
    expect(page.locator("#no-offers")).to_be_visible()

    # WHEN the caller of an offered chat hangs up before they accept, THEN the page says so in words
    lost = _offer(platform, queue, "chat")
    expect(page.locator(f"#offer-{lost}")).to_be_visible(timeout=POLLED)

    def unchanged(route: Route) -> None:  # the list on screen stays as it is until they click
        route.fulfill(status=204)

    page.route("**/desk/contacts/offers*", unchanged)
    pbx = platform.as_("pbx", role="system")
    answer = requests.post(platform.url(f"/v1/contacts/{lost}/abandon"), headers=pbx, timeout=30)
    assert answer.status_code == 200, answer.text
    page.click(f"#accept-{lost}")
    expect(page.locator("#refusal")).to_have_text(t("es", "problem.contact-state"))
    page.unroute("**/desk/contacts/offers*", unchanged)
    check_page(page, "desk-contacts-lost")

    # WHEN they open the queue's day, THEN the figures are a table and the CSV is the API's
    page.click(f"#stats-{queue}")
    expect(page.locator("#stats-table caption")).to_contain_text(queue, timeout=POLLED)
    expect(page.locator("#stat-offered td")).to_have_text("3")
    expect(page.locator("#stat-answered td")).to_have_text("1")
    expect(page.locator("#stat-abandoned td")).to_have_text("1")
    check_page(page, "desk-contacts-stats")
    href = page.locator("#stats-csv").get_attribute("href")
    assert href is not None
    csv = page.request.get(platform.base + href)
    assert csv.ok and csv.headers["content-type"].startswith("text/csv"), csv.status
    assert csv.text().splitlines()[0].startswith("queue,date,offered") and queue in csv.text()
