"""The wallet issuer in process (WAL, issue 17): ``python -m bench wallet``.

- issuance end to end through the use cases with the real policy engine and the in-memory store of the unit
  tests: offer (eligibility decided), token (code and tx_code), c_nonce, credential request with its key proofs
  checked and the SD-JWT VCs signed, each unit committed; credentials per second with 1 copy and with a batch of 10;
- status-list allocation: how many credentials a list takes before a new one starts (3/4 of 131,072), the random
  draws an allocation needs as the list fills, and the time to fill one.
"""

from __future__ import annotations

import secrets
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.stats import machine, record_section
from functions.core import jose, sdjwt
from functions.core.policy import EmbeddedPolicy, PolicyBundle
from functions.wallet import handlers, service
from functions.wallet.handlers import WalletPorts
from functions.wallet.service import Facts
from tests.unit.fakes import FixedClock
from tests.unit.wallet.fakes import FakeWalletStore

TITLE = "## Wallet issuer in process (WAL)"
NOW = datetime(2026, 12, 14, 9, tzinfo=UTC)
ISSUER = "http://127.0.0.1:8080/v1/wallet"
CITIZEN = "c-bench-senior"


def _ports() -> tuple[WalletPorts, FakeWalletStore]:
    store = FakeWalletStore()
    store.items[f"facts#{CITIZEN}"] = Facts(CITIZEN, birth_date=datetime(1950, 3, 1).date(), district="02")
    policy = EmbeddedPolicy(PolicyBundle.load(Path(__file__).resolve().parents[1] / "policies"))
    keys = jose.KeyRing(jose.LocalSigner.generate())
    return WalletPorts(store=store, policy=policy, clock=FixedClock(NOW), keys=keys, issuer=ISSUER), store


def _issue_once(ports: WalletPorts, store: FakeWalletStore, copies: int, holders: list[jose.LocalSigner]) -> int:
    """One issuance, the four requests' use cases each committed; returns the credentials issued."""
    made = handlers.make_offer(handlers.MakeOffer(CITIZEN, "madrid-mayor", copies), ports)
    store.commit(made.unit)
    code = handlers.ExchangeCode(service.PRE_AUTHORIZED_GRANT, made.result.code, made.result.tx_code)
    token = handlers.exchange_code(code, ports)
    store.commit(token.unit)
    assert isinstance(token.result, handlers.TokenIssued)
    nonce = handlers.new_nonce(ports)
    store.commit(nonce.unit)
    proofs = [sdjwt.key_proof(h, audience=ISSUER, nonce=nonce.result, iat=NOW) for h in holders[:copies]]
    cmd = handlers.IssueCredentials(token.result.access_token, "madrid-mayor", proofs)
    issued = handlers.issue_credentials(cmd, ports, None)
    store.commit(issued.unit)
    return len(issued.result.credentials)


def issuance(copies: int, seconds: float = 3.0) -> tuple[float, float]:
    """Credentials per second and issuances per second, with ``copies`` per issuance (holders' keys made before:
    a wallet's key generation is not the issuer's cost, the proofs' signatures are counted: a holder makes them)."""
    ports, store = _ports()
    holders = [jose.LocalSigner.generate() for _ in range(copies)]
    _issue_once(ports, store, copies, holders)  # warm: the policy compiled, the first list created
    credentials = issuances = 0
    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        credentials += _issue_once(ports, store, copies, holders)
        issuances += 1
    elapsed = time.perf_counter() - started
    return credentials / elapsed, issuances / elapsed


def allocation() -> dict[str, float]:
    """Fill one list to the point a new one starts, 10 indexes at a time (a batch), counting the random draws."""
    draws = 0

    def counted(bound: int) -> int:
        nonlocal draws
        draws += 1
        return secrets.randbelow(bound)

    state = service.ListState.new("bench-1", "bench")
    started = time.perf_counter()
    batches = 0
    while not state.full:
        state, _ = service.allocate(state, min(10, int(service.LIST_SIZE * service.LIST_FILL) - state.used), counted)
        batches += 1
    elapsed = time.perf_counter() - started
    return {
        "per_list": state.used, "size": service.LIST_SIZE, "seconds": elapsed, "mean_draws": draws / state.used,
        "per_batch_us": elapsed / batches * 1e6,
        "bytes": len(state.statuses) + len(state.allocated),
    }  # fmt: skip


def main(argv: list[str]) -> None:
    single, _ = issuance(1)
    batch, batch_issuances = issuance(10)
    alloc = allocation()
    print(f"issuance end to end: {single:,.0f} credentials/s (1 copy); {batch:,.0f} credentials/s in batches of 10")
    filled = f"{alloc['mean_draws']:.2f} random draws per index on average; filled in {alloc['seconds']:.2f} s"
    print(f"status list: {alloc['per_list']:,} of {alloc['size']:,} entries before a new list; {filled}")
    rows = [
        ("issuance end to end, 1 copy (offer with eligibility by the real policy, token, c_nonce, credential: proof "
         "checked, SD-JWT VC signed ES256, status index allocated, each unit committed)",
         f"{single:,.0f} credentials/s"),
        ("the same, batches of 10 copies (10 proofs, 10 credentials, 10 indexes per request)",
         f"{batch:,.0f} credentials/s ({batch_issuances:,.1f} issuances/s)"),
        ("credentials per status list before a new one starts (3/4 of the entries: random picks stay cheap; the "
         "list keeps hiding whose bit is whose)", f"{alloc['per_list']:,.0f} of {alloc['size']:,}"),
        ("random draws per allocated index over a list's fill, measured (theory (4/3)·ln 4 = 1.85; at a fill f the "
         "next index takes 1/(1−f) draws: 4 at the last, when a new list starts)", f"{alloc['mean_draws']:.2f}"),
        ("one batch of 10 indexes allocated (mean over a list's fill)", f"{alloc['per_batch_us']:,.0f} µs"),
        ("a list's item: 2-bit statuses + allocation bitmap (one DynamoDB item, under 400 KB)",
         f"{alloc['bytes'] / 1024:.0f} KiB"),
    ]  # fmt: skip
    table = "\n".join(f"| {name} | {figure} |" for name, figure in rows)
    when = f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {machine()}"
    note = (
        "In process, on the unit tests' in-memory store (no DynamoDB: the store calls per request are in \"Store "
        'calls per operation"). A list is one item written under its version: issuances of one card type commit '
        "one at a time on it (a concurrent one loses the race and is decided again), which bounds one type's "
        "issuance rate by DynamoDB's per-item write rate, far above a council's demand. The machine is shared with "
        "other sessions: compare rows of one run."
    )
    body = f"Recorded {when} (`bench/wallet.py`, `python -m bench wallet`).\n\n| measure | figure |\n|---|---|\n"
    record_section(TITLE, f"{TITLE}\n\n{body}{table}\n\n{note}\n")


if __name__ == "__main__":
    main(sys.argv[1:])
