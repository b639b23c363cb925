"""``python -m bench wallet-crypto``: the verifiable-credential library's costs in process (issue 17, WAL):

- credentials issued per second (``functions.core.sdjwt.issue``, signing with the file key as ``make run``
  does), one at a time and in batches of 10 (OpenID4VCI batch issuance: each with its own holder key and its
  own random status index);
- presentations made per second by the Python holder (``present``: disclosures chosen, KB-JWT signed);
- verifications per second (``verify``: the issuer's signature, disclosures, key binding, status) with the
  status list already read — the token verified and decompressed once, as a verifier caches it for its ``ttl``;
- a status list of 1,000,000 credentials (2 bits) with 1 % and 10 % revoked at random indexes: compressed
  size, encode + sign time, and read time (signature verified + decompressed).
"""

from __future__ import annotations

import secrets
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.stats import Figure, record_section, recorded, table
from functions.core.jose import FileSigner, KeyRing, LocalSigner
from functions.core.sdjwt import issue, present, verify
from functions.core.statuslist import StatusList, read_status_token, status_lookup, status_token

TITLE = "## Wallet credentials: SD-JWT VC and status lists (WAL)"
NOW = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
ISSUER = "https://api.pic.example/v1/wallet"
VCT = f"{ISSUER}/vct/madrid-mayor"
AUD = "redirect_uri:https://api.pic.example/v1/verifications/v-1/response"
URI = f"{ISSUER}/status/madrid-mayor-1"
LIST_SIZE = 131_072  # the design's minimum list size
CLAIMS = {
    "given_name": "Ana",
    "family_name": "López García",
    "birthdate": "1950-03-01",
    "age_equal_or_over": {"18": True, "65": True},
    "district": "Centro",
}
DISCLOSABLE = ["given_name", "family_name", "birthdate", "age_equal_or_over.18", "age_equal_or_over.65"]


def _rate(step: Callable[[], object], seconds: float = 2.0) -> tuple[float, int]:
    """Calls per CPU second of ``step`` over about ``seconds`` of CPU (after 20 unmeasured calls): the process's
    own CPU time, so the figure holds on a machine shared with other sessions (wall time would count the queue)."""
    for _ in range(20):
        step()
    n, start = 0, time.process_time()
    while (elapsed := time.process_time() - start) < seconds:
        step()
        n += 1
    return n / elapsed, n


def _credential(signer: LocalSigner, holder: LocalSigner, idx: int) -> str:
    return issue(
        CLAIMS,
        DISCLOSABLE,
        vct=VCT,
        issuer=ISSUER,
        holder_jwk=holder.public_jwk(),
        status={"status_list": {"idx": idx, "uri": URI}},
        iat=NOW,
        exp=NOW + timedelta(days=365),
        signer=signer,
    )


def _free_index(taken: set[int]) -> int:
    """A random free index, as the issuer draws one (then a conditional put; here a set)."""
    while (idx := secrets.randbelow(LIST_SIZE)) in taken:
        pass
    taken.add(idx)
    return idx


def issuance(signer: LocalSigner) -> list[Figure]:
    holders = [LocalSigner.generate() for _ in range(10)]
    taken: set[int] = set()
    single, _ = _rate(lambda: _credential(signer, holders[0], _free_index(taken)))
    taken.clear()

    def batch() -> None:
        if len(taken) > LIST_SIZE // 2:
            taken.clear()
        for holder in holders:
            _credential(signer, holder, _free_index(taken))

    batches, _ = _rate(batch)
    return [
        Figure("credentials issued, one at a time (file key, 5 disclosable claims)", f"{single:,.0f}/s"),
        Figure(
            "credentials issued in batches of 10 (own holder key and status index each)",
            f"{batches * 10:,.0f}/s ({batches:,.0f} batches/s)",
        ),
    ]


def presentation_and_verification(signer: LocalSigner) -> list[Figure]:
    holder = LocalSigner.generate()
    statuses = StatusList(2, LIST_SIZE)
    statuses.set(8, 1)
    token = status_token(URI, statuses.encode(), 2, iat=NOW, exp=NOW + timedelta(days=1), ttl=300, signer=signer)
    keys = KeyRing(signer).keys()
    cached = status_lookup({URI: read_status_token(token, keys, uri=URI, now=NOW)})  # decoded once
    credential = _credential(signer, holder, 7)
    presents, _ = _rate(
        lambda: present(credential, ["age_equal_or_over.65"], holder_key=holder, aud=AUD, nonce="n", iat=NOW)
    )
    shown = present(credential, ["age_equal_or_over.65"], holder_key=holder, aud=AUD, nonce="n", iat=NOW)

    def check() -> None:
        verify(shown, issuer_keys=keys, aud=AUD, nonce="n", now=NOW, status_of=cached, vct=VCT)

    verifies, _ = _rate(check)
    return [
        Figure("presentations made by the Python holder (1 claim disclosed, KB-JWT signed)", f"{presents:,.0f}/s"),
        Figure(
            "presentations verified (signature, disclosures, key binding, status list cached)", f"{verifies:,.0f}/s"
        ),
    ]


def status_lists(signer: LocalSigner, size: int = 1_000_000) -> list[Figure]:
    figures: list[Figure] = []
    keys = KeyRing(signer).keys()
    for rate in (0.01, 0.10):
        statuses = StatusList(2, size)
        for idx in secrets.SystemRandom().sample(range(size), int(size * rate)):
            statuses.set(idx, 1)
        start = time.process_time()
        token = status_token(URI, statuses.encode(), 2, iat=NOW, exp=NOW + timedelta(days=1), ttl=300, signer=signer)
        encoded = time.process_time() - start
        start = time.process_time()
        read = read_status_token(token, keys, uri=URI, now=NOW)
        decoded = time.process_time() - start
        assert read.to_bytes() == statuses.to_bytes()
        raw = len(statuses.to_bytes())
        figures.append(
            Figure(
                f"status list of {size:,} (2 bits, {rate:.0%} revoked at random): token size",
                f"{len(token) / 1024:,.0f} KiB (raw {raw / 1024:,.0f} KiB)",
            )
        )
        figures.append(Figure(f"… {rate:.0%} revoked: encode (zlib 9) + sign", f"{encoded * 1e3:,.0f} ms"))
        figures.append(Figure(f"… {rate:.0%} revoked: read (verify + decompress)", f"{decoded * 1e3:,.0f} ms"))
    return figures


def run() -> list[Figure]:
    with tempfile.TemporaryDirectory(prefix="pic-bench-wallet-") as tmp:
        signer = FileSigner(Path(tmp) / "wallet.pem")
        return [*issuance(signer), *presentation_and_verification(signer), *status_lists(signer)]


NOTE = """\
In process on one core, no store, per CPU second of the process (its own CPU time, not wall time: the
machine is shared): `functions/core/sdjwt.py` and `statuslist.py` over `cryptography`'s ES256 (P-256).
Issuance signs with the file key (`FileSigner`, `make run`'s); with `KmsSigner` each credential adds a KMS
`Sign` network round trip (not measured here), so the cloud issuer's rate is KMS's, not this code's — batch
issuance then costs 10 round trips, which can run concurrently. Verification needs the status list read once
per `ttl` (the read figure above), then a lookup. A 1,000,000-credential list at 1 % revoked is what a
verifier downloads per list per `ttl`; the issuer re-signs it on every change (the encode + sign figure).
Source: `bench/wallet_crypto.py`."""


def main(argv: list[str]) -> None:
    del argv
    started = datetime.now(UTC)
    figures = run()
    for figure in figures:
        print(f"{figure.name}: {figure.value}", file=sys.stderr)
    body = f"{recorded(started, 'python -m bench wallet-crypto')}\n\n{table(figures)}\n{NOTE}\n"
    record_section(TITLE, f"{TITLE}\n\n{body}")
