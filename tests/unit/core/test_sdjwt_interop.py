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

import json
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from functions.core.errors import CredentialRefusedError
from functions.core.jose import KeyRing, LocalSigner, epoch, keys_from_jwks
from functions.core.sdjwt import issue, present, verify
from functions.core.statuslist import StatusList, status_lookup, status_token

INTEROP = Path(__file__).resolve().parents[2] / "interop"
NODE = shutil.which("node")
pytestmark = [
    pytest.mark.skipif(NODE is None, reason="node is not installed: the independent SD-JWT implementation is Node's"),
    pytest.mark.skipif(
        not (INTEROP / "node_modules" / "@sd-jwt" / "sd-jwt-vc").is_dir(),
        reason="tests/interop/node_modules is missing: run `make setup` (npm ci in tests/interop)",
    ),
]

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


def _node(command: str, payload: dict[str, Any]) -> dict[str, Any]:
    assert NODE is not None
    done = subprocess.run(
        [NODE, str(INTEROP / "sdjwt.mjs"), command],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
        cwd=INTEROP,
    )
    answer: dict[str, Any] = json.loads(done.stdout)
    return answer


@pytest.fixture
def issuer() -> LocalSigner:
    return LocalSigner.generate()


@pytest.fixture
def statuses() -> StatusList:
    return StatusList(2, 131_072)


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


def _independent_verify(issuer: LocalSigner, statuses: StatusList, presentation: str, **overrides: Any) -> Any:
    return _node(
        "verify",
        {
            "presentation": presentation,
            "jwks": KeyRing(issuer).jwks(),
            "aud": AUD,
            "nonce": NONCE,
            "now": epoch(NOW),
            "status_tokens": {STATUS_URI: _status_token(issuer, statuses)},
            **overrides,
        },
    )


def test_pic_presentation_verified_by_the_independent_implementation(issuer: LocalSigner, statuses: StatusList) -> None:
    presentation = _pic_presentation(issuer, ["age_equal_or_over.65", "nationalities.1"])
    answer = _independent_verify(issuer, statuses, presentation)
    assert answer["ok"], answer
    assert answer["claims"] == {"age_equal_or_over": {"65": True}, "nationalities": ["FR"], "district": "Centro"}
    assert (answer["vct"], answer["iss"], answer["header"]["typ"]) == (VCT, ISSUER, "dc+sd-jwt")
    assert answer["kb"]["aud"] == AUD and answer["kb"]["nonce"] == NONCE


def test_the_independent_implementation_refuses_what_pic_refuses(issuer: LocalSigner, statuses: StatusList) -> None:
    # its acceptance above means something: the same verifier refuses a wrong nonce, another issuer's key and,
    # reading PIC's status list with its own bit order, the revoked index 7 (and not its neighbour 8)
    wrong_nonce = _independent_verify(issuer, statuses, _pic_presentation(issuer, ["given_name"], nonce="other"))
    assert not wrong_nonce["ok"] and "nonce" in wrong_nonce["error"].lower()
    stranger = _independent_verify(LocalSigner.generate(), statuses, _pic_presentation(issuer, ["given_name"]))
    assert not stranger["ok"]
    statuses.set(7, 1)
    revoked = _independent_verify(issuer, statuses, _pic_presentation(issuer, ["given_name"], idx=7))
    assert not revoked["ok"] and "status" in revoked["error"].lower(), revoked
    neighbour = _independent_verify(issuer, statuses, _pic_presentation(issuer, ["given_name"], idx=8))
    assert neighbour["ok"], neighbour


def test_pic_status_list_decoded_by_the_independent_implementation(issuer: LocalSigner, statuses: StatusList) -> None:
    for index, value in {0: 1, 3: 2, 4: 1, 131_071: 2}.items():
        statuses.set(index, value)
    answer = _node(
        "status",
        {
            "token": _status_token(issuer, statuses),
            "jwks": KeyRing(issuer).jwks(),
            "now": epoch(NOW),
            "indexes": [0, 1, 2, 3, 4, 5, 131_070, 131_071],
        },
    )
    assert answer["ok"], answer
    assert (answer["bits"], answer["sub"], answer["header"]["typ"]) == (2, STATUS_URI, "statuslist+jwt")
    assert answer["statuses"] == {"0": 1, "1": 0, "2": 0, "3": 2, "4": 1, "5": 0, "131070": 0, "131071": 2}


def _independent_issue(idx: int = 3, **overrides: Any) -> dict[str, Any]:
    answer = _node(
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
    assert answer["ok"], answer
    return answer


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


def test_independent_presentation_verified_by_pic() -> None:
    verified = _pic_verify(_independent_issue())
    assert verified.claims == {"age_equal_or_over": {"65": True}, "nationalities": ["ES"], "district": "Centro"}
    assert (verified.iss, verified.status) == ("https://interop.example/issuer", 0)


def test_pic_refuses_the_independent_sides_revoked_credential() -> None:
    statuses = StatusList(2, 131_072)
    statuses.set(3, 1)
    with pytest.raises(CredentialRefusedError) as caught:
        _pic_verify(_independent_issue(idx=3), statuses)
    assert caught.value.reason == "revoked"


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"tamper": True}, "disclosure-tampered"),
        ({"nonce": "another-request"}, "nonce-mismatch"),
        ({"aud": "redirect_uri:https://evil.example/cb"}, "audience-mismatch"),
        ({"iat": epoch(NOW - timedelta(days=40)), "exp": epoch(NOW - timedelta(days=1))}, "expired"),
        ({"kb_iat": epoch(NOW - timedelta(minutes=10))}, "key-binding-invalid"),
    ],
    ids=["tampered", "wrong-nonce", "wrong-aud", "expired", "stale-kb"],
)
def test_pic_refuses_the_independent_sides_bad_presentations(overrides: dict[str, Any], reason: str) -> None:
    with pytest.raises(CredentialRefusedError) as caught:
        _pic_verify(_independent_issue(**overrides))
    assert caught.value.reason == reason, caught.value.detail
