"""The verifier against credentials an independent implementation made (issue 17, "Tests with an independent
implementation"): the OpenWallet Foundation's ``@sd-jwt/sd-jwt-vc`` (``tests/interop/sdjwt.mjs``) issues a Madrid
Mayor credential with the stand-in issuer's key and presents "over 65" for a request of PIC's verifier; the
verifier reads that issuer's keys and status list through its caches and answers — verified with exactly that
claim; refused, naming the reason, when the independent side's presentation is tampered, for another request's
nonce, expired, or its card revoked. Skipped without Node (``make setup`` installs it)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec

from functions.core.jose import LocalSigner, b64url, epoch
from functions.verifier import handlers, trust
from functions.verifier.handlers import VerifierPorts
from tests.interop_support import NEEDS_NODE, batch
from tests.unit.fakes import FixedClock
from tests.unit.verifier.fakes import FakeVerifierStore
from tests.verifier_issuer import MAYOR, StandInIssuer

pytestmark = NEEDS_NODE

NOW = datetime.now(UTC).replace(microsecond=0)  # the Node side reads its own clock
BASE = "https://pic.example"
ISSUER = "https://interop.example/v1/wallet"
CLAIMS = {"given_name": "Carmen", "birth_date": "1952-03-14", "age_equal_or_over": {"18": True, "65": True}}
KID = "interop-issuer-1"  # the kid the independent side names in its header
CASES = {"honest": ({}, None), "tampered": ({"tamper": True}, "disclosure-tampered"),
         "other-nonce": ({"nonce": "another-request"}, "nonce-mismatch"),
         "expired": ({"iat": epoch(NOW - timedelta(days=40)), "exp": epoch(NOW - timedelta(days=1))}, "expired"),
         "revoked": ({"idx": 9}, "revoked")}  # fmt: skip


class InteropIssuer(StandInIssuer):
    """The stand-in issuer publishing its key also under the kid the independent side's credentials name."""

    def metadata(self) -> dict[str, Any]:
        published = super().metadata()
        published["jwks"]["keys"].append({**self.signer.public_jwk(), "kid": KID})
        return published


def _private_jwk(key: ec.EllipticCurvePrivateKey) -> dict[str, str]:
    public = LocalSigner(key).public_jwk()
    d = b64url(key.private_numbers().private_value.to_bytes(32, "big"))
    return {"kty": "EC", "crv": "P-256", "x": public["x"], "y": public["y"], "d": d}


def _issued(private_jwk: dict[str, str], asked: dict[str, handlers.Asked]) -> dict[str, dict[str, Any]]:
    """One Node start: each case's credential, presented for its own request of PIC's verifier."""
    requests = []
    for name, (overrides, _) in CASES.items():
        request = asked[name]
        requests.append(("issue", {
            "claims": CLAIMS,
            "frame": {"_sd": ["given_name", "birth_date"], "age_equal_or_over": {"_sd": ["18", "65"]}, "_sd_decoy": 2},
            "present_frame": {"age_equal_or_over": {"65": True}}, "vct": MAYOR, "iss": ISSUER,
            "iat": overrides.get("iat", epoch(NOW - timedelta(minutes=1))),
            "exp": overrides.get("exp", epoch(NOW + timedelta(days=30))),
            "status": {"status_list": {"idx": overrides.get("idx", 3), "uri": f"{ISSUER}/status/madrid-mayor"}},
            "issuer_jwk": private_jwk, "aud": request.client_id,
            "nonce": overrides.get("nonce", request.request.nonce), "kb_iat": epoch(NOW),
            **({"tamper": True} if overrides.get("tamper") else {}),
        }))  # fmt: skip
    return dict(zip(CASES, batch(requests), strict=True))


def test_the_verifier_on_the_independent_sides_credentials() -> None:
    clock = FixedClock(NOW)
    key = ec.generate_private_key(ec.SECP256R1())
    issuer = InteropIssuer(ISSUER, clock, signer=LocalSigner(key))
    issuer.issue(LocalSigner.generate())  # the card type's status list (the stand-in's own credential, index 0)
    issuer.set_status("madrid-mayor", 9, 1)
    directory = trust.IssuerDirectory(trust.trusted_issuers(ISSUER, BASE), issuer, clock)
    store = FakeVerifierStore()
    ports = VerifierPorts(store, clock, directory, trust.StatusCache(directory, issuer, clock), BASE)
    asked = {}
    for name in CASES:
        staged = handlers.ask(handlers.Ask("madrid-mayor", [["age_equal_or_over", "65"]], "agent:ana", "t"), ports)
        store.commit(staged.unit)
        asked[name] = staged.result
    issued = _issued(_private_jwk(key), asked)
    for name, (_, reason) in CASES.items():
        assert issued[name]["ok"], (name, issued[name])
        vp_token = json.dumps({"card": [issued[name]["presentation"]]})
        staged = handlers.respond(asked[name].request.id, vp_token, None, ports)
        store.commit(staged.unit)
        verdict = staged.result
        if reason is None:
            assert (verdict.state, verdict.disclosed) == ("verified", {"age_equal_or_over": {"65": True}}), verdict
        else:
            assert (verdict.state, verdict.reason) == ("refused", reason), (name, verdict.detail)
