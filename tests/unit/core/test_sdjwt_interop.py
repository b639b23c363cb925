"""PIC's SD-JWT VC against an independent implementation (issue 17, "Tests with an independent implementation"):
the OpenWallet Foundation's TypeScript libraries (``@sd-jwt/sd-jwt-vc``, ``@sd-jwt/crypto-nodejs``,
``@sd-jwt/jwt-status-list``, pinned in ``tests/interop/package.json``), driven by ``tests/interop/sdjwt.mjs``.

Both directions: what PIC issues and presents, the independent verifier accepts (and refuses when it should,
so its acceptance means something); what the independent side issues and presents, PIC's verifier accepts —
and refuses the independent side's tampered, wrong-nonce and expired presentations. PIC's status list token is
decoded by the independent side with the same statuses at the same indexes (the bit order). ``make setup``
installs the Node packages (``npm ci`` in tests/interop); without Node the tests are skipped, saying so.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from functions.core.errors import CredentialRefusedError
from functions.core.jose import KeyRing, LocalSigner, epoch, keys_from_jwks
from functions.core.sdjwt import issue, present, verify
from functions.core.statuslist import StatusList, status_lookup, status_token
from tests.interop_support import NEEDS_NODE, batch

pytestmark = NEEDS_NODE

NOW = datetime.now(UTC).replace(microsecond=0)  # the Node side reads its own clock for the KB-JWT's iat
ISSUER = "https://api.pic.example/v1/wallet"
VCT = "https://api.pic.example/v1/wallet/vct/madrid-mayor"
AUD = "redirect_uri:https://api.pic.example/v1/verifications/v-1/response"
NONCE = "n-interop-4242"
STATUS_URI = "https://api.pic.example/v1/wallet/status/madrid-mayor-1"
CLAIMS = {
    "given_name": "Ana",
    "birthdate": "1950-03-01",
    "age_equal_or_over": {"18": True, "65": True},
    "nationalities": ["ES", "FR"],
    "district": "Centro",
}


def _status_token(issuer: LocalSigner, statuses: StatusList) -> str:
    return status_token(STATUS_URI, statuses.encode(), 2, iat=NOW, exp=NOW + timedelta(days=1), ttl=300, signer=issuer)


def _pic_presentation(issuer: LocalSigner, reveal: list[str], *, idx: int = 7, nonce: str = NONCE) -> str:
    holder = LocalSigner.generate()
    credential = issue(
        CLAIMS,
        [
            "given_name",
            "birthdate",
            "age_equal_or_over.18",
            "age_equal_or_over.65",
            "nationalities.0",
            "nationalities.1",
        ],
        vct=VCT,
        issuer=ISSUER,
        holder_jwk=holder.public_jwk(),
        status={"status_list": {"idx": idx, "uri": STATUS_URI}},
        iat=NOW - timedelta(minutes=1),
        exp=NOW + timedelta(days=365),
        signer=issuer,
    )
    return present(credential, reveal, holder_key=holder, aud=AUD, nonce=nonce, iat=NOW)


def _verify_request(issuer: LocalSigner, statuses: StatusList, presentation: str) -> tuple[str, dict[str, Any]]:
    return (
        "verify",
        {
            "presentation": presentation,
            "jwks": KeyRing(issuer).jwks(),
            "aud": AUD,
            "nonce": NONCE,
            "now": epoch(NOW),
            "status_tokens": {STATUS_URI: _status_token(issuer, statuses)},
        },
    )


STATUS_SET = {0: 1, 3: 2, 4: 1, 131_071: 2}
STATUS_READ = [0, 1, 2, 3, 4, 5, 131_070, 131_071]


@pytest.fixture(scope="module")
def independent_verdicts() -> dict[str, dict[str, Any]]:
    """The independent side's answers to PIC's presentations and status list (one Node start)."""
    issuer = LocalSigner.generate()
    valid, revoked, listed = StatusList(2, 131_072), StatusList(2, 131_072), StatusList(2, 131_072)
    revoked.set(7, 1)
    for index, value in STATUS_SET.items():
        listed.set(index, value)
    requests = {
        "accepted": _verify_request(
            issuer, valid, _pic_presentation(issuer, ["age_equal_or_over.65", "nationalities.1"])
        ),
        "wrong-nonce": _verify_request(issuer, valid, _pic_presentation(issuer, ["given_name"], nonce="other")),
        "stranger": _verify_request(LocalSigner.generate(), valid, _pic_presentation(issuer, ["given_name"])),
        "revoked": _verify_request(issuer, revoked, _pic_presentation(issuer, ["given_name"], idx=7)),
        "neighbour": _verify_request(issuer, revoked, _pic_presentation(issuer, ["given_name"], idx=8)),
        "status": (
            "status",
            {
                "token": _status_token(issuer, listed),
                "jwks": KeyRing(issuer).jwks(),
                "now": epoch(NOW),
                "indexes": STATUS_READ,
            },
        ),
    }
    return dict(zip(requests, batch(list(requests.values())), strict=True))


def test_pic_presentation_verified_by_the_independent_implementation(independent_verdicts: dict[str, Any]) -> None:
    answer = independent_verdicts["accepted"]
    assert answer["ok"], answer
    assert answer["claims"] == {"age_equal_or_over": {"65": True}, "nationalities": ["FR"], "district": "Centro"}
    assert (answer["vct"], answer["iss"], answer["header"]["typ"]) == (VCT, ISSUER, "dc+sd-jwt")
    assert answer["kb"]["aud"] == AUD and answer["kb"]["nonce"] == NONCE


def test_the_independent_implementation_refuses_what_pic_refuses(independent_verdicts: dict[str, Any]) -> None:
    # its acceptance above means something: the same verifier refuses a wrong nonce, another issuer's key and,
    # reading PIC's status list with its own bit order, the revoked index 7 (and not its neighbour 8)
    wrong_nonce, stranger = independent_verdicts["wrong-nonce"], independent_verdicts["stranger"]
    assert not wrong_nonce["ok"] and "nonce" in wrong_nonce["error"].lower(), wrong_nonce
    assert not stranger["ok"] and "kid" in stranger["error"], stranger
    revoked, neighbour = independent_verdicts["revoked"], independent_verdicts["neighbour"]
    assert not revoked["ok"] and "status" in revoked["error"].lower(), revoked
    assert neighbour["ok"], neighbour


def test_pic_status_list_decoded_by_the_independent_implementation(independent_verdicts: dict[str, Any]) -> None:
    answer = independent_verdicts["status"]
    assert answer["ok"], answer
    assert (answer["bits"], answer["sub"], answer["header"]["typ"]) == (2, STATUS_URI, "statuslist+jwt")
    assert answer["statuses"] == {str(index): STATUS_SET.get(index, 0) for index in STATUS_READ}


def _issue_request(idx: int = 3, **overrides: Any) -> tuple[str, dict[str, Any]]:
    return (
        "issue",
        {
            "claims": CLAIMS,
            "frame": {
                "_sd": ["given_name", "birthdate"],
                "age_equal_or_over": {"_sd": ["18", "65"]},
                "nationalities": {"_sd": [0, 1]},
                "_sd_decoy": 2,
            },
            "present_frame": {"age_equal_or_over": {"65": True}, "nationalities": {"0": True}},
            "vct": VCT,
            "iss": "https://interop.example/issuer",
            "iat": epoch(NOW - timedelta(minutes=1)),
            "exp": epoch(NOW + timedelta(days=30)),
            "status": {"status_list": {"idx": idx, "uri": STATUS_URI}},
            "aud": AUD,
            "nonce": NONCE,
            "kb_iat": epoch(NOW),
            **overrides,
        },
    )


BAD = {
    "tampered": ({"tamper": True}, "disclosure-tampered"),
    "wrong-nonce": ({"nonce": "another-request"}, "nonce-mismatch"),
    "wrong-aud": ({"aud": "redirect_uri:https://evil.example/cb"}, "audience-mismatch"),
    "expired": ({"iat": epoch(NOW - timedelta(days=40)), "exp": epoch(NOW - timedelta(days=1))}, "expired"),
    "stale-kb": ({"kb_iat": epoch(NOW - timedelta(minutes=10))}, "key-binding-invalid"),
}


@pytest.fixture(scope="module")
def independent_issued() -> dict[str, dict[str, Any]]:
    """Credentials the independent side issued and presented, honest and not (one Node start)."""
    requests = {
        "honest": _issue_request(),
        **{name: _issue_request(**overrides) for name, (overrides, _) in BAD.items()},
    }
    answers = dict(zip(requests, batch(list(requests.values())), strict=True))
    for name, answer in answers.items():
        assert answer["ok"], (name, answer)
    return answers


def _pic_verify(answer: dict[str, Any], statuses: StatusList | None = None) -> Any:
    return verify(
        answer["presentation"],
        issuer_keys=keys_from_jwks(answer["jwks"]),
        aud=AUD,
        nonce=NONCE,
        now=NOW,
        status_of=status_lookup({STATUS_URI: statuses or StatusList(2, 131_072)}),
        vct=VCT,
    )


def test_independent_presentation_verified_by_pic(independent_issued: dict[str, Any]) -> None:
    verified = _pic_verify(independent_issued["honest"])
    assert verified.claims == {"age_equal_or_over": {"65": True}, "nationalities": ["ES"], "district": "Centro"}
    assert (verified.iss, verified.status) == ("https://interop.example/issuer", 0)


def test_pic_refuses_the_independent_sides_revoked_credential(independent_issued: dict[str, Any]) -> None:
    statuses = StatusList(2, 131_072)
    statuses.set(3, 1)
    with pytest.raises(CredentialRefusedError) as caught:
        _pic_verify(independent_issued["honest"], statuses)
    assert caught.value.reason == "revoked"


@pytest.mark.parametrize("case", list(BAD))
def test_pic_refuses_the_independent_sides_bad_presentations(case: str, independent_issued: dict[str, Any]) -> None:
    with pytest.raises(CredentialRefusedError) as caught:
        _pic_verify(independent_issued[case])
    assert caught.value.reason == BAD[case][1], caught.value.detail
