"""The agent desktop against the whole local platform (issue 13): an L1 agent signs in through the dev IdP,
finds a citizen by DNI (the blind index) with a purpose, opens them, sees what level 1 may see, records a
paper consent on their behalf; the citizen's access log names the agent and the purpose; no purpose, no
read. The pages go through the public API with the agent's token: the policies decide as for any client."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
import requests

from local.harness import Platform
from tests.functional.citizen.test_citizen import padron_person
from tests.functional.web.web_support import csrf_of, sign_in

PURPOSE = "CITA-2026-0042"


@pytest.fixture(scope="module")
def attended(platform: Platform) -> dict[str, Any]:
    """A person in the Padrón with a DNI: their golden record."""
    return padron_person(platform)


@pytest.fixture
def desk(platform: Platform) -> requests.Session:
    return sign_in(platform, f"ag-{uuid.uuid4().hex[:8]}", "agent", "/desk/", 1, "atencion-ciudadania")


def _search(platform: Platform, desk: requests.Session, **form: str) -> requests.Response:
    csrf = csrf_of(desk.get(platform.url("/desk/"), timeout=10))
    return desk.post(platform.url("/desk/search"), data={"csrf": csrf, **form}, allow_redirects=False, timeout=15)


def _attend(platform: Platform, desk: requests.Session, citizen_id: str, purpose: str) -> requests.Response:
    """The agent states the purpose of attending the citizen; the 360 view that opens."""
    page = desk.get(platform.url("/desk/"), timeout=10)
    desk.post(platform.url(f"/desk/citizens/{citizen_id}/attend"),
              data={"csrf": csrf_of(page), "purpose": purpose}, timeout=20)  # fmt: skip
    return desk.get(platform.url(f"/desk/citizens/{citizen_id}"), timeout=20)


def _access_log(platform: Platform, citizen_id: str) -> list[dict[str, Any]]:
    headers = platform.as_(citizen_id)
    answer = platform.http.get(platform.url(f"/v1/citizens/{citizen_id}/access-log"), headers=headers,
                               params={"limit": "200"}, timeout=10)  # fmt: skip
    assert answer.status_code == 200, answer.text
    return list(answer.json()["entries"])


def _agents_reads(platform: Platform, citizen_id: str) -> int:
    """How many reads agents made (the citizen's own reading of their log is recorded too)."""
    return sum(1 for e in _access_log(platform, citizen_id) if e["reader"]["role"] == "agent")


def test_an_l1_agent_finds_a_citizen_by_dni_with_a_purpose_and_sees_what_l1_may_see(
    platform: Platform, desk: requests.Session, attended: dict[str, Any]
) -> None:
    citizen_id = attended["citizen_id"]
    # WHEN the agent searches by the DNI, written as people say it, with a purpose
    number = f"{attended['dni'][:8]}-{attended['dni'][8].lower()}"
    found = _search(platform, desk, purpose=PURPOSE, kind="document", document_type="DNI", document_number=number)

    # THEN the citizen is the match
    assert found.status_code == 200, found.text
    assert f'id="attend-{citizen_id}"' in found.text and attended["first_surname"] in found.text

    # WHEN they attend that citizen for the purpose
    csrf = csrf_of(found)
    opened = desk.post(platform.url(f"/desk/citizens/{citizen_id}/attend"), data={"csrf": csrf, "purpose": PURPOSE},
                       allow_redirects=True, timeout=20)  # fmt: skip

    # THEN the 360 view for the stated purpose: the golden record and the position as level 1 sees them
    # (summaries: which systems know the person, not their data; counts and totals, not items)
    assert opened.status_code == 200, opened.text[:500]
    assert citizen_id in opened.text and PURPOSE in opened.text and 'id="record-summary"' in opened.text
    assert attended["first_surname"] not in opened.text
    assert 'id="panel-position"' in opened.text and 'id="refused-position"' not in opened.text
    views = set(re.findall(r'id="section-[a-z-]+">\s*<strong>[^<]+</strong> — ([^\n<]+)', opened.text))
    assert views and views <= {"solo resumen", "oculto"}, views

    # AND the citizen sees in their access log that this agent looked, and why
    entries = [
        e for e in _access_log(platform, citizen_id) if e["reader"]["role"] == "agent" and e["reader"]["level"] == 1
    ]
    assert entries and {e["purpose"] for e in entries} == {PURPOSE}
    assert {e["resource"] for e in entries} >= {"position", "citizen"}


def test_the_first_html_reads_the_record_and_the_position_and_each_later_panel_loads_alone(
    platform: Platform, desk: requests.Session, attended: dict[str, Any]
) -> None:
    citizen_id = attended["citizen_id"]
    view = _attend(platform, desk, citizen_id, "CITA-PANELES-1")
    # THEN the page shows the record and the position, and asks for each later panel (htmx, or a link without JS)
    for panel in ("consents", "interactions", "notifications", "rgpd", "debts", "zbe"):
        assert f'hx-get="/desk/citizens/{citizen_id}/panels/{panel}"' in view.text
        fragment = desk.get(platform.url(f"/desk/citizens/{citizen_id}/panels/{panel}"), headers={"HX-Request": "true"},
                            timeout=20)  # fmt: skip
        assert fragment.status_code == 200 and f'id="panel-{panel}"' in fragment.text, fragment.text[:300]
        assert "<html" not in fragment.text and 'aria-busy="true"' not in fragment.text
    assert desk.get(platform.url(f"/desk/citizens/{citizen_id}/panels/secrets"), timeout=10).status_code == 404


def test_without_a_purpose_nothing_is_searched_or_read(
    platform: Platform, desk: requests.Session, attended: dict[str, Any]
) -> None:
    citizen_id = attended["citizen_id"]
    before = _agents_reads(platform, citizen_id)
    refused = _search(platform, desk, purpose="", kind="document", document_type="DNI", document_number=attended["dni"])
    assert refused.status_code == 422 and 'id="purpose-error"' in refused.text
    asked = desk.get(platform.url(f"/desk/citizens/{citizen_id}"), timeout=10)
    assert asked.status_code == 428 and 'id="purpose-form"' in asked.text
    panel = desk.get(platform.url(f"/desk/citizens/{citizen_id}/panels/consents"), timeout=10)
    assert panel.status_code == 428 and 'id="purpose-form"' in panel.text
    assert _agents_reads(platform, citizen_id) == before


def test_a_paper_consent_is_recorded_on_the_citizens_behalf(
    platform: Platform, desk: requests.Session, attended: dict[str, Any]
) -> None:
    citizen_id = attended["citizen_id"]
    _attend(platform, desk, citizen_id, "REG-PAPEL-77")
    view = desk.get(platform.url(f"/desk/citizens/{citizen_id}/panels/consents"), timeout=20)  # as without JS
    assert view.status_code == 200 and 'id="back-to-citizen"' in view.text, view.text[:500]
    version = re.search(r'id="paper-personalisation".*?name="text_version" value="([^"]*)"', view.text, re.S)
    assert version, view.text[:500]
    given = desk.post(
        platform.url(f"/desk/citizens/{citizen_id}/consents/personalisation"),
        data={"csrf": csrf_of(view), "action": "give", "text_version": version.group(1), "language": "es"},
        allow_redirects=False, timeout=20,
    )  # fmt: skip
    assert given.status_code == 303, given.text[:500]
    history = platform.http.get(platform.url(f"/v1/citizens/{citizen_id}/consents/history"),
                                headers=platform.as_(citizen_id), timeout=10).json()  # fmt: skip
    (proof,) = [p for p in history["proofs"] if p["purpose"] == "personalisation"]
    assert proof["granted"] and proof["capture_channel"] == "paper" and proof["actor"]["kind"] == "agent"
    assert proof["access_purpose"] == "REG-PAPEL-77"


def test_an_objection_and_a_restriction_are_opened_on_the_citizens_behalf(
    platform: Platform, desk: requests.Session, attended: dict[str, Any]
) -> None:
    citizen_id = attended["citizen_id"]
    _attend(platform, desk, citizen_id, "REG-E-2026-991")
    view = desk.get(platform.url(f"/desk/citizens/{citizen_id}/panels/rgpd"), timeout=20)
    # GIVEN the published terms THEN only purposes resting on no legal obligation may be objected to
    assert 'id="object-campaigns"' in view.text and 'id="object-service-notifications"' not in view.text

    forms = (
        {"right": "objection", "purposes": ["campaigns", "surveys"], "note": "No quiero publicidad"},
        {"right": "restriction", "grounds": "accuracy-contested"},
    )
    for form in forms:
        opened = desk.post(platform.url(f"/desk/citizens/{citizen_id}/rgpd-requests"),
                           data={"csrf": csrf_of(view), **form}, allow_redirects=False, timeout=20)  # fmt: skip
        assert opened.status_code == 303, opened.text[:500]

    # THEN the citizen's own list shows both, each with its legal deadline
    mine = platform.http.get(platform.url(f"/v1/citizens/{citizen_id}/rgpd-requests"),
                             headers=platform.as_(citizen_id), timeout=10).json()["requests"]  # fmt: skip
    assert {r["right"] for r in mine} >= {"objection", "restriction"} and all(r["due_at"] for r in mine)

    # AND a restriction without its ground is the form again, the field named, nothing opened
    missing = desk.post(platform.url(f"/desk/citizens/{citizen_id}/rgpd-requests"),
                        data={"csrf": csrf_of(view), "right": "restriction"}, timeout=20)  # fmt: skip
    assert missing.status_code == 422 and 'id="grounds-error"' in missing.text
    again = platform.http.get(platform.url(f"/v1/citizens/{citizen_id}/rgpd-requests"),
                              headers=platform.as_(citizen_id), timeout=10).json()["requests"]  # fmt: skip
    assert len(again) == len(mine)


def test_a_citizen_in_the_desk_and_an_agent_in_the_app_are_refused(platform: Platform, desk: requests.Session) -> None:
    citizen = sign_in(platform, f"c-{uuid.uuid4().hex[:8]}")
    assert citizen.get(platform.url("/desk/reviews"), timeout=10).status_code == 403
    assert 'id="wrong-role"' in citizen.get(platform.url("/desk/"), timeout=10).text
    assert desk.get(platform.url("/app/inbox"), timeout=10).status_code == 403
