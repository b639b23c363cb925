"""The command-line holder (``local.wallet_holder``) against stand-ins of the issuer and the verifier (a session
whose answers a test writes): it redeems an offer through the metadata's endpoints, and answers an OpenID4VP
request by value with only the DCQL-asked claims, bound to the request's client_id and nonce, by direct_post."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from functions.core import jose, sdjwt
from local import wallet_holder

ISSUER = "http://127.0.0.1:8080/v1/wallet"
VCT = "urn:es:madrid:pic:card:madrid-mayor:1"
RESPONSE_URI = "http://127.0.0.1:8080/v1/verifier/responses/req-1"
CLIENT_ID = f"redirect_uri:{RESPONSE_URI}"


class Answer:
    def __init__(self, body: Any, status: int = 200) -> None:
        self.status_code, self._body = status, body
        self.content, self.text = json.dumps(body).encode(), json.dumps(body)

    def json(self) -> Any:
        return self._body


class Issuer:
    """The issuer's endpoints as ``requests.Session`` sees them: it signs one credential per proof it is sent."""

    def __init__(self) -> None:
        self.key = jose.LocalSigner.generate()
        self.posted: list[tuple[str, Any]] = []

    def get(self, url: str, timeout: float) -> Answer:
        if url.endswith("/.well-known/openid-credential-issuer/v1/wallet"):
            return Answer({"credential_issuer": ISSUER, "nonce_endpoint": f"{ISSUER}/oid4vci/nonce",
                           "credential_endpoint": f"{ISSUER}/oid4vci/credential",
                           "credential_configurations_supported": {"madrid-mayor": {"vct": VCT}}})  # fmt: skip
        assert url.endswith("/.well-known/oauth-authorization-server/v1/wallet")
        return Answer({"token_endpoint": f"{ISSUER}/oid4vci/token"})

    def post(self, url: str, timeout: float, **sent: Any) -> Answer:
        self.posted.append((url, sent))
        if url.endswith("/token"):
            assert sent["data"]["tx_code"] == "123456"
            return Answer({"access_token": "at", "token_type": "Bearer", "expires_in": 300})
        if url.endswith("/nonce"):
            return Answer({"c_nonce": "cn"})
        if url == RESPONSE_URI:  # the verifier's direct_post
            return Answer({})
        now = datetime.now(UTC)
        holders = [sdjwt.read_key_proof(p, audience=ISSUER, nonce="cn", now=now) for p in sent["json"]["proofs"]["jwt"]]
        claims = {"card_number": "X-1", "age_equal_or_over": {"65": True}, "birth_date": "1950-03-01"}
        disclosable = [("card_number",), ("age_equal_or_over", "65"), ("birth_date",)]
        return Answer({"credentials": [{"credential": sdjwt.issue(
            claims, disclosable, vct=VCT, issuer=ISSUER, holder_jwk=h, status=None, iat=now,
            exp=now.replace(year=now.year + 1), signer=self.key)} for h in holders]})  # fmt: skip


def offer_link() -> str:
    offer = {"credential_issuer": ISSUER, "credential_configuration_ids": ["madrid-mayor"],
             "grants": {wallet_holder.PRE_AUTHORIZED_GRANT: {"pre-authorized_code": "code"}}}  # fmt: skip
    return "openid-credential-offer://?credential_offer=" + quote(json.dumps(offer))


def request_link(claims: list[list[str]]) -> str:
    dcql = {"credentials": [{"id": "card", "format": "dc+sd-jwt", "meta": {"vct_values": [VCT]},
                             "claims": [{"path": p} for p in claims]}]}  # fmt: skip
    parts = {"client_id": CLIENT_ID, "response_type": "vp_token", "response_mode": "direct_post",
             "response_uri": RESPONSE_URI, "nonce": "vn", "state": "req-1", "dcql_query": json.dumps(dcql)}  # fmt: skip
    return "openid4vp://?" + "&".join(f"{k}={quote(v, safe='')}" for k, v in parts.items())


def test_the_holder_accepts_two_copies_and_presents_only_the_asked_claim_bound_to_the_request(tmp_path: Path) -> None:
    issuer, wallet = Issuer(), wallet_holder.Wallet(tmp_path)
    held = wallet_holder.accept(offer_link(), "123456", 2, wallet, issuer)  # type: ignore[arg-type]
    assert len(held) == 2 and len({e["kid"] for e in held}) == 2
    answered = wallet_holder.present(request_link([["age_equal_or_over", "65"]]), wallet, issuer)  # type: ignore[arg-type]
    url, sent = issuer.posted[-1]
    assert url == RESPONSE_URI and sent["data"]["state"] == "req-1" and answered["answer"] == {}
    (presentation,) = json.loads(sent["data"]["vp_token"])["card"]
    verified = sdjwt.verify(presentation, issuer_keys={issuer.key.kid: issuer.key.public_jwk()}, aud=CLIENT_ID,
                            nonce="vn", now=datetime.now(UTC), status_of=None, vct=VCT)  # fmt: skip
    assert verified.claims["age_equal_or_over"] == {"65": True} and "birth_date" not in verified.claims
    assert [e["presented"] for e in wallet.held()].count(True) == 1  # the next request gets the other copy


def test_a_request_for_a_card_not_held_is_said_plainly(tmp_path: Path) -> None:
    with pytest.raises(wallet_holder.HolderError, match="no credential"):
        wallet_holder.present(request_link([["age_equal_or_over", "65"]]), wallet_holder.Wallet(tmp_path), Issuer())  # type: ignore[arg-type]
