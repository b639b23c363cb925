"""``python -m bench verifier``: presentations verified per second by the verifier (issue 17, WAL), in process.

One operation is what ``POST /v1/verifier/responses/<id>`` does past HTTP: the kernel's ``policies/authz`` decision
for ``verifier.respond`` (the REAL embedded engine, as ``bootstrap`` builds it), ``handlers.respond`` (the request
read, the vp_token parsed, the trusted issuer, its keys from the cache, ``sdjwt.verify``: signature, disclosures,
key binding, status; only the asked claims) and the fake store committing the verdict (``tests/unit/verifier``'s
``Ledger``). Each operation answers its own request (its own nonce and presentation, made before the clock starts).
The issuer's metadata and status list come from a stand-in issuer in memory through the real caches
(``functions.verifier.trust``): "cached" reads the 131,072-entry list once, "read every time" with ``ttl`` 0 reads,
verifies and decompresses it for every presentation (the cost a verifier pays once per ``ttl`` and list).
Figures per CPU second of the process (the machine is shared).
"""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime

from bench.cpu import decision_log_discarded
from bench.stats import Figure, record_section, recorded, table
from functions.core.auth import Subject
from functions.core.policy import Policy, get_policy
from functions.core.statuslist import StatusList
from functions.verifier import handlers, trust
from functions.verifier.handlers import VerifierPorts
from tests.unit.fakes import FixedClock
from tests.unit.verifier.fakes import FakeVerifierStore
from tests.verifier_issuer import Holder, StandInIssuer

TITLE = "## Verifier: presentations verified (WAL)"
NOW = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
BASE = "https://api.pic.example"
LIST_SIZE = 131_072
OVER_65 = [["age_equal_or_over", "65"]]
QUESTION = {
    "subject": Subject(id="anonymous", role="anonymous").as_policy_input(),
    "action": "verifier.respond",
    "purpose": None,
    "resource": {"citizen_id": ""},
}


def _world(ttl: int) -> tuple[VerifierPorts, FakeVerifierStore, StandInIssuer, Holder, str]:
    clock = FixedClock(NOW)
    issuer = StandInIssuer(f"{BASE}/v1/wallet", clock, ttl=ttl)
    issuer.lists["madrid-mayor"] = StatusList(2, LIST_SIZE)  # the design's minimum list size
    issuer.next_index = 4242
    directory = trust.IssuerDirectory(trust.trusted_issuers("", BASE), issuer, clock)
    store = FakeVerifierStore()
    ports = VerifierPorts(store, clock, directory, trust.StatusCache(directory, issuer, clock), BASE)
    holder = Holder()
    credential, _ = issuer.issue(holder.key)
    return ports, store, issuer, holder, credential


def _prepared(ports: VerifierPorts, store: FakeVerifierStore, holder: Holder, credential: str, n: int) -> list[
        tuple[str, str]]:  # fmt: skip
    """``n`` requests asked, each with its holder's answer (request id, vp_token), before the clock starts."""
    answers = []
    for _ in range(n):
        staged = handlers.ask(handlers.Ask("madrid-mayor", OVER_65, "agent:bench", "bench"), ports)
        store.commit(staged.unit)
        _, form = holder.answer(credential, staged.result.request_link, NOW)
        answers.append((staged.result.request.id, form["vp_token"]))
    return answers


def verifications(policy: Policy, ttl: int, n: int) -> tuple[float, float]:
    """(verifications per CPU second, mean ms) of ``n`` answers, each verified once."""
    ports, store, _, holder, credential = _world(ttl)
    answers = _prepared(ports, store, holder, credential, n + 20)
    for request_id, token in answers[:20]:  # warm: caches filled, code paths loaded
        store.commit(handlers.respond(request_id, token, request_id, ports).unit)
    start = time.process_time()
    for request_id, token in answers[20:]:
        assert policy.decide("authz", QUESTION).allow
        staged = handlers.respond(request_id, token, request_id, ports)
        store.commit(staged.unit)
        assert staged.result.state == "verified", staged.result.detail
    elapsed = time.process_time() - start
    return n / elapsed, elapsed / n * 1e3


def run(n: int = 1000) -> list[Figure]:
    policy = get_policy()
    with decision_log_discarded():  # decision log lines formatted and written as at INFO, into /dev/null
        cached, cached_ms = verifications(policy, ttl=300, n=n)
        uncached, uncached_ms = verifications(policy, ttl=0, n=max(n // 10, 50))
    return [
        Figure("presentations verified, status list cached (authz + handler + commit)",
               f"{cached:,.0f}/s ({cached_ms:.2f} ms each)"),
        Figure(f"… status list ({LIST_SIZE:,} entries) read again for each (ttl 0)",
               f"{uncached:,.0f}/s ({uncached_ms:.2f} ms each)"),
    ]  # fmt: skip


NOTE = """\
In process on one core, per CPU second: the `policies/authz` decision (embedded regorus), `handlers.respond` and
the fake store's commit; not HTTP, form parsing, DynamoDB (one GetItem and one PutItem per answer in production,
"Store calls per operation") nor the network to the issuer. The status list is the design's minimum size; "cached"
is the steady state (the caches read it again after 60 s or its `ttl`), "read again" the worst case (a list whose
`ttl` is 0). Source: `bench/verifier.py`."""


def main(argv: list[str]) -> None:
    n = int(argv[0]) if argv else 1000
    started = datetime.now(UTC)
    figures = run(n)
    for figure in figures:
        print(f"{figure.name}: {figure.value}", file=sys.stderr)
    body = f"{recorded(started, 'python -m bench verifier')}\n\n{table(figures)}\n{NOTE}\n"
    record_section(TITLE, f"{TITLE}\n\n{body}")


if __name__ == "__main__":
    main(sys.argv[1:])
