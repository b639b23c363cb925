"""Functional: the verifier (WAL, issue 17) through the real platform — the gateway, the kernel's policy decision,
DynamoDB Local — against a stand-in issuer served over real HTTP (its metadata and status list read by the
verifier's caches): an agent asks for "over 65", a holder answers by direct_post, the verdict names each check and
exactly the disclosed claim; the answer is taken once; once the card is revoked, the next verification says so;
bad input as problems; the desk's page without JavaScript (plain forms, the "check again" link); and, where the
wallet's issuer is in this tree, the whole story through it: a senior eligible, the offer accepted by the CLI
holder, "over 65" verified, the card revoked, the next verification refused "revoked"."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from functions.core.clock import SYSTEM_CLOCK
from local import wallet_holder
from local.harness import Platform
from tests.functional.consent_support import assert_problem
from tests.functional.web.web_support import csrf_of, sign_in
from tests.verifier_issuer import STAND_IN_ISSUER, Holder, StandInIssuer

pytestmark = pytest.mark.functional

OVER_65 = {"card_type": "madrid-mayor", "claims": [["age_equal_or_over", "65"]]}


@pytest.fixture(scope="module")
def issuer() -> Iterator[StandInIssuer]:
    served = StandInIssuer(STAND_IN_ISSUER, SYSTEM_CLOCK, ttl=0)  # ttl 0: every verification reads the list again
    with served.serve():
        yield served


def agent(platform: Platform, sub: str = "ag-verifier") -> dict[str, str]:
    return {**platform.as_(sub, role="agent", level=1, area="atencion-ciudadania"), "Access-Purpose": "MOSTRADOR-3"}


def ask(platform: Platform, headers: dict[str, str]) -> dict[str, Any]:
    response = platform.http.post(platform.url("/v1/verifier/requests"), json=OVER_65, headers=headers, timeout=15)
    assert response.status_code == 201, response.text
    return dict(response.json())


def verdict(platform: Platform, asked: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
    response = platform.http.get(platform.url(f"/v1/verifier/requests/{asked['request_id']}"), headers=headers,
                                 timeout=15)  # fmt: skip
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_over_65_is_verified_once_and_a_revoked_card_is_refused(platform: Platform, issuer: StandInIssuer) -> None:
    holder, headers = Holder(), agent(platform)
    credential, index = issuer.issue(holder.key)
    asked = ask(platform, headers)
    assert asked["request_link"].startswith("openid4vp://?") and asked["qr_svg"].startswith("<svg")
    assert asked["client_id"] == f"redirect_uri:{platform.url('/v1/verifier/responses/')}{asked['request_id']}"
    assert verdict(platform, asked, headers)["state"] == "pending"

    answered = holder.present(credential, asked["request_link"], datetime.now(UTC))
    assert (answered.status_code, answered.json()) == (200, {"state": "verified"}), answered.text
    assert_problem(holder.present(credential, asked["request_link"], datetime.now(UTC)), 409, "verification-answered")
    result = verdict(platform, asked, headers)
    assert result["state"] == "verified" and result["disclosed"] == {"age_equal_or_over": {"65": True}}
    assert [c["name"] for c in result["checks"] if c["passed"]] == [
        "issuer",
        "signature",
        "validity",
        "card-type",
        "disclosures",
        "key-binding",
        "status",
        "claims",
    ]
    other = platform.http.get(platform.url(f"/v1/verifier/requests/{asked['request_id']}"),
                              headers=agent(platform, "ag-verifier-2"), timeout=15)  # fmt: skip
    assert_problem(other, 403)

    issuer.set_status("madrid-mayor", index, 1)
    again = ask(platform, headers)
    refused = holder.present(credential, again["request_link"], datetime.now(UTC))
    assert refused.json() == {"state": "refused", "reason": "revoked", "detail": "the credential has been revoked"}
    result = verdict(platform, again, headers)
    assert (result["state"], result["reason"], result["disclosed"]) == ("refused", "revoked", {})


def test_bad_answers_are_problems_and_do_not_use_the_request_up(platform: Platform, issuer: StandInIssuer) -> None:
    headers = agent(platform)
    asked = ask(platform, headers)
    uri = platform.url(f"/v1/verifier/responses/{asked['request_id']}")
    problem = assert_problem(requests.post(uri, data={"state": asked["request_id"]}, timeout=15), 400,
                             "invalid-presentation-response")  # fmt: skip
    assert problem["error"] == "invalid_request"
    assert_problem(requests.post(uri, json={"vp_token": "x"}, timeout=15), 415)
    assert_problem(requests.post(platform.url("/v1/verifier/responses/none-such"), data={"vp_token": "{}"},
                                 timeout=15), 404, "verification-not-found")  # fmt: skip
    bad = platform.http.post(platform.url("/v1/verifier/requests"), headers=headers, timeout=15,
                             json={"card_type": "madrid-mayor", "claims": [["plate"]]})  # fmt: skip
    assert_problem(bad, 422, "verification-request-invalid")
    assert verdict(platform, asked, headers)["state"] == "pending"


def test_the_desk_page_without_javascript(platform: Platform, issuer: StandInIssuer) -> None:
    holder = Holder()
    credential, _ = issuer.issue(holder.key)
    desk = sign_in(platform, "ag-verify-desk", "agent", "/desk/", 1, "atencion-ciudadania")
    chosen = desk.get(platform.url("/desk/verify?card_type=madrid-mayor"), timeout=15)
    assert chosen.status_code == 200 and 'id="claim-age_equal_or_over-65"' in chosen.text
    asked = desk.post(platform.url("/desk/verify"), allow_redirects=False, timeout=15,
                      data={"csrf": csrf_of(chosen), "card_type": "madrid-mayor", "claims": "age_equal_or_over.65",
                            "purpose": "Taquilla 3"})  # fmt: skip
    assert asked.status_code == 303, asked.text
    waiting = desk.get(platform.url(asked.headers["Location"]), timeout=15)
    assert 'id="verify-refresh"' in waiting.text and "<svg" in waiting.text
    link = waiting.text.split('id="verify-link-text">', 1)[1].split("<", 1)[0].replace("&amp;", "&")
    assert holder.present(credential, link, datetime.now(UTC)).json() == {"state": "verified"}
    verdict = desk.get(platform.url(asked.headers["Location"]), timeout=15).text
    assert 'id="disclosed-age_equal_or_over-65">sí<' in verdict and 'id="verify-refresh"' not in verdict
    assert "Chamberí" not in verdict and "1952" not in verdict  # nothing but what was asked


def test_the_whole_story_through_the_real_issuer(platform: Platform, citizen_id: str, tmp_path: Path) -> None:
    # GIVEN a citizen born in 1950 registered in Madrid (the Padrón's link), as C360 announces them
    updated = {"citizen_id": citizen_id, "link": {"source": "/legacy/padron", "local_id": f"P{citizen_id}",
               "change": "added"}, "match": {"method": "new", "score": 1.0, "evidence": []},
               "updated_at": (datetime.now(UTC) - timedelta(minutes=1)).isoformat(),
               "profile": {"birth_date": "1950-03-01", "district": "02"}}  # fmt: skip
    sent = platform.send_event("es.madrid.pic.citizen.updated.v1", updated, source="/pic/citizen", subject=citizen_id)
    assert sent.status_code == 202, sent.text
    me = platform.as_(citizen_id)
    cards = platform.url(f"/v1/citizens/{citizen_id}/wallet/cards")

    def mayor() -> dict[str, Any] | None:
        found = platform.http.get(cards, headers=me, timeout=15).json()["cards"]
        card = next(c for c in found if c["type"] == "madrid-mayor")
        return card if card["eligible"] else None

    platform.wait_for(mayor, what="the Madrid Mayor card eligible")
    # WHEN they get the card and the CLI holder accepts the offer
    offered = platform.http.post(platform.url(f"/v1/citizens/{citizen_id}/wallet/offers"), headers=me, timeout=15,
                                 json={"card_type": "madrid-mayor", "copies": 2})  # fmt: skip
    assert offered.status_code == 201, offered.text
    wallet, http = wallet_holder.Wallet(tmp_path), requests.Session()
    wallet_holder.accept(offered.json()["offer_link"], offered.json()["tx_code"], 2, wallet, http)
    # THEN a counter's request for "over 65" is answered with exactly that
    headers = agent(platform)
    asked = ask(platform, headers)
    assert wallet_holder.present(asked["request_link"], wallet, http)["answer"] == {"state": "verified"}
    assert verdict(platform, asked, headers)["disclosed"] == {"age_equal_or_over": {"65": True}}
    # WHEN the card is revoked THEN the next verification (the other copy) is refused, naming why
    card = mayor()
    assert card is not None
    revoke = platform.url(f"/v1/citizens/{citizen_id}/wallet/cards/{card['held'][0]['card_id']}/revoke")
    assert platform.http.post(revoke, headers=me, json={"reason": "citizen-request"}, timeout=15).status_code == 200
    again = ask(platform, headers)
    assert wallet_holder.present(again["request_link"], wallet, http)["answer"]["reason"] == "revoked"
    assert verdict(platform, again, headers)["state"] == "refused"
