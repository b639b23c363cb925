"""The wallet issuer on the real platform (DynamoDB Local, the broker, the functions over HTTP through the gateway
at PIC_BASE_URL): a senior citizen projected from a real ``citizen.updated`` sees Madrid Mayor eligible, asks for an
offer of 3 copies, and the command-line holder (``local.wallet_holder``: pure HTTP) runs OpenID4VCI's pre-authorized
code flow through the public routes and well-known metadata; the credentials verify with the keys of
``/.well-known/jwt-vc-issuer``; the used code is refused with OAuth's ``invalid_grant``; revoking sets every copy's
bit in the published status list."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from functions.core import jose, sdjwt, statuslist
from local import wallet_holder
from local.harness import Platform

pytestmark = pytest.mark.functional

UPDATED = "es.madrid.pic.citizen.updated.v1"
ISSUED = "es.madrid.pic.card.issued.v1"
VCT = "urn:es:madrid:pic:card:madrid-mayor:1"


def project_senior(platform: Platform, cid: str) -> None:
    updated = {
        "citizen_id": cid,
        "link": {"source": "/legacy/padron", "local_id": f"P{cid}", "change": "added"},
        "match": {"method": "new", "score": 1.0, "evidence": []},
        "updated_at": (datetime.now(UTC) - timedelta(minutes=1)).isoformat(),
        "profile": {"birth_date": "1950-03-01", "district": "02"},
    }
    assert platform.send_event(UPDATED, updated, source="/pic/citizen", subject=cid).status_code == 202


def cards(platform: Platform, cid: str) -> dict[str, Any]:
    found = platform.http.get(platform.url(f"/v1/citizens/{cid}/wallet/cards"), headers=platform.as_(cid), timeout=15)
    assert found.status_code == 200, found.text
    return {c["type"]: c for c in found.json()["cards"]}


def test_a_senior_gets_three_verifiable_madrid_mayor_credentials_and_revoking_sets_their_bits(
    platform: Platform, citizen_id: str, tmp_path: Path
) -> None:
    # GIVEN a citizen born in 1950 registered in district 02, as C360 announces them
    project_senior(platform, citizen_id)
    mayor = platform.wait_for(lambda: cards(platform, citizen_id)["madrid-mayor"]["eligible"] or None,
                              what="the senior's facts projected")  # fmt: skip
    assert mayor is True
    # WHEN they ask for an offer of 3 copies and the holder accepts it with the tx_code
    me = platform.as_(citizen_id)
    body = {"card_type": "madrid-mayor", "copies": 3}
    asked = platform.http.post(
        platform.url(f"/v1/citizens/{citizen_id}/wallet/offers"), headers=me, json=body, timeout=15
    )
    assert asked.status_code == 201, asked.text
    offer = asked.json()
    assert offer["credential_offer"]["credential_issuer"] == platform.url("/v1/wallet")
    http = requests.Session()
    held = wallet_holder.accept(offer["offer_link"], offer["tx_code"], 3, wallet_holder.Wallet(tmp_path), http)
    # THEN three credentials, each verifying with the issuer's published keys and disclosing only "over 65"
    assert len(held) == 3
    jwks = http.get(platform.url("/.well-known/jwt-vc-issuer/v1/wallet"), timeout=15).json()
    keys = jose.keys_from_jwks(jwks["jwks"])
    now = datetime.now(UTC)
    indexes = set()
    for entry in held:
        holder = wallet_holder.Wallet(tmp_path).key(entry["kid"])
        shown = sdjwt.present(entry["credential"], [("age_equal_or_over", "65")], holder_key=holder, aud="v", nonce="n",
                              iat=now)  # fmt: skip
        verified = sdjwt.verify(shown, issuer_keys=keys, aud="v", nonce="n", now=now, status_of=None, vct=VCT)
        assert verified.claims["age_equal_or_over"] == {"65": True} and "birth_date" not in verified.claims
        status = json.loads(jose.b64url_decode(entry["credential"].split("~")[0].split(".")[1]))["status"]
        indexes.add((status["status_list"]["uri"], status["status_list"]["idx"]))
    assert len(indexes) == 3
    # AND the pre-authorized code, used once, is refused with OAuth's error and a problem
    code = offer["credential_offer"]["grants"][wallet_holder.PRE_AUTHORIZED_GRANT]["pre-authorized_code"]
    again = http.post(
        platform.url("/v1/wallet/oid4vci/token"),
        timeout=15,
        data={
            "grant_type": wallet_holder.PRE_AUTHORIZED_GRANT,
            "pre-authorized_code": code,
            "tx_code": offer["tx_code"],
        },
    )
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    assert again.json()["type"] == "/problems/code-reused"
    # WHEN the citizen revokes the card THEN every copy's bit is set in the published list
    (card,) = cards(platform, citizen_id)["madrid-mayor"]["held"]
    revoke = platform.url(f"/v1/citizens/{citizen_id}/wallet/cards/{card['card_id']}/revoke")
    revoked = platform.http.post(revoke, headers=me, json={"reason": "citizen-request"}, timeout=15)
    assert revoked.status_code == 200, revoked.text
    for uri, index in indexes:
        served = http.get(uri, timeout=15)
        assert served.headers["Content-Type"].startswith("application/statuslist+jwt")
        lst = statuslist.read_status_token(served.text, keys, uri=uri, now=datetime.now(UTC))
        assert lst.get(index) == 1
    assert platform.wait_for(lambda: platform.events(ISSUED, subject=citizen_id), what="card.issued published")
    # AND the global position shows the card, revoked (it projects card.*)

    def shown() -> dict[str, Any] | None:
        found = platform.http.get(platform.url(f"/v1/citizens/{citizen_id}/position"), headers=me, timeout=15)
        assert found.status_code == 200, found.text
        wallet = next(s for s in found.json()["sections"] if s["section"] == "wallet")
        items = wallet.get("items") or []
        return wallet if any(i.get("status") == "revoked" for i in items) else None

    assert platform.wait_for(shown, what="the revoked card in the position")["summary"]["count"] == 1
