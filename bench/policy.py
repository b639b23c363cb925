"""Policy decision latency: the deployed path (the embedded engine serving a signed bundle, the decisions
one request needs together, decision log lines written), the engine alone, and OPA's REST API over HTTP.

    python -m bench.policy   # the deployed-path rows only, as docs/benchmarks.md shows them
"""

from __future__ import annotations

import copy
import logging
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from bench.cpu import decision_log_discarded
from bench.stats import Figure, ms, pct, recorded, table, us
from functions.core import bundle
from functions.core.policy import (
    BundlePolicy,
    BundleSource,
    Decision,
    EmbeddedPolicy,
    OpaRestPolicy,
    PolicyBundle,
    log_decision,
)

ALLOWED = Decision(True, ["A citizen acts on their own record."], {"allow": True})
BAR = 100e-6  # issue 12 §4: the decisions one request needs, together, p50 on the deployed path

CONSENT_INPUT: dict[str, Any] = {
    "purpose": "campaigns",
    "channel": "sms",
    "citizen": {
        "consents": {"campaigns": {"granted": True, "channels": ["sms", "email"], "text_version": "2026-01"}},
        "preferences": {"quiet_hours": {"start": "22:00", "end": "08:00"}},
        "flags": {"restricted": False, "objections": []},
    },
    "now": {"local_time": "23:10"},
}
AUTHZ_INPUT: dict[str, Any] = {
    "subject": {"id": "c-1", "role": "citizen", "level": 0, "area": None},
    "action": "consent.write",
    "resource": {"citizen_id": "c-1"},
}


def _time(call: Any, n: int) -> list[float]:
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        call()
        samples.append(time.perf_counter() - start)
    return samples


def _request_inputs(i: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """The authz and consent questions of request ``i``: a citizen of its own (no two requests alike)."""
    authz = copy.deepcopy(AUTHZ_INPUT)
    authz["subject"]["id"] = authz["resource"]["citizen_id"] = f"c-{i}"
    consent = copy.deepcopy(CONSENT_INPUT)
    consent["citizen"]["id"] = f"c-{i}"  # not read by the policy; makes each input new to the memo
    return authz, consent


def _served(root: Path, files: dict[str, bytes], revision: str) -> tuple[BundlePolicy, Path, bytes]:
    key, public = bundle.generate_key()
    path = root / "bundle.tar.gz"
    path.write_bytes(bundle.build(files, revision, key))
    return BundlePolicy(BundleSource(str(path)), public, poll_seconds=0), path, key


def deployed(n: int = 5000) -> list[Figure]:
    """What a request pays where deployed: authz + the domain's decision through ``decide()`` (decision log
    lines formatted and written, to /dev/null) on the engine serving a signed bundle; and what a swap costs."""
    files = bundle.source_files(Path("policies"))
    figures: list[Figure] = []
    with tempfile.TemporaryDirectory() as tmp, decision_log_discarded():
        policy, path, key = _served(Path(tmp), files, "bench-1")
        requests = [_request_inputs(i) for i in range(n)]
        for authz, consent in requests[:300]:  # warm-up on other citizens than the measured ones
            policy.decide("authz", {**authz, "action": "consent.read"})
            policy.decide("consent", {**consent, "purpose": "surveys"})

        def one_request(i: int) -> None:
            authz, consent = requests[i]
            policy.decide("authz", authz)
            policy.decide("consent", consent)

        fresh = [_timed(partial(one_request, i)) for i in range(n)]  # every input new: the engine runs twice
        seen = [_timed(partial(one_request, i)) for i in range(n)]  # the same citizens again: memo hits

        def engine_only(i: int) -> None:
            authz, consent = requests[i]
            policy.evaluate_uncached("authz", authz)
            policy.evaluate_uncached("consent", consent)

        def log_lines_only(i: int) -> None:
            authz, consent = requests[i]
            log_decision("authz", ALLOWED, authz, policy.revision)
            log_decision("consent", ALLOWED, consent, policy.revision)

        engine = [_timed(partial(engine_only, i)) for i in range(n)]
        lines = [_timed(partial(log_lines_only, i)) for i in range(n)]
        for label, samples in (("each input new (engine evaluates both)", fresh), ("inputs seen before (memo)", seen)):
            figures.append(
                Figure(
                    f"deployed: authz + consent decide() together, {label}, p50 / p99",
                    f"{us(pct(samples, 50))} / {us(pct(samples, 99))}",
                    "p50 ≤ 100 µs",
                    "met" if pct(samples, 50) <= BAR else "NOT met",
                )
            )
        for label, samples in (("the engine alone", engine), ("the two decision log lines alone", lines)):
            figures.append(
                Figure(
                    f"deployed, of which: {label} (authz + consent), p50 / p99",
                    f"{us(pct(samples, 50))} / {us(pct(samples, 99))}",
                )
            )
        swaps = []
        for revision in range(2, 7):
            path.write_bytes(bundle.build(files, f"bench-{revision}", key))  # a new revision: the full check
            start = time.perf_counter()
            swapped = policy.refresh()
            swaps.append(time.perf_counter() - start)
            assert swapped, "the bench's bundle was refused"
        figures.append(
            Figure(
                "deployed: a new revision verified, compiled, smoke-tested and swapped (median)", ms(sorted(swaps)[2])
            )
        )
        figures.append(
            Figure(
                "deployed: a thread's first decision after a swap (loads the compiled program)",
                _first_after_swap(policy),
            )
        )
    return figures


def _timed(call: Any) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def _first_after_swap(policy: BundlePolicy, threads: int = 7) -> str:
    """The median of new threads' first decisions (the first thread of a process pays regorus' one-off set-up,
    ~20 ms, once: not counted)."""
    samples: list[float] = []
    for i in range(threads + 1):
        authz, _ = _request_inputs(10**7 + i)
        first = partial(policy.decide, "authz", authz)
        thread = threading.Thread(target=lambda call=first: samples.append(_timed(call)))
        thread.start()
        thread.join()
    return ms(sorted(samples[1:])[threads // 2])


SECTION = "## Policies on the deployed path"
NOTE = """\
What a request pays for its policy decisions where PIC is deployed (docs/decisions/0016): the embedded
engine serving a signed bundle loaded from a file exactly as from S3 or a bundle server, `decide()` for
`authz` and the domain's decision (`consent`) one after the other, each writing its decision log line (the
input's SHA-256 and the JSON line, at INFO, through the process logger's handler into /dev/null). "Each
input new" gives every request a citizen of its own, so both decisions run the engine; "seen before" asks
for the same citizens again (the memo per revision). A new revision is verified, compiled and smoke-tested
on the poller's thread, off the request path; each request thread then loads the compiled program once
(its binary form: ~1 ms, where compiling again took 12–60 ms). OPA's REST adapter
over HTTP, which the overlays used before, costs ~1.9 ms p50 for one decision (top table).
Source: `bench/policy.py`."""


def section(figures: list[Figure], started: datetime) -> str:
    """The ``## Policies on the deployed path`` section of docs/benchmarks.md."""
    return f"{SECTION}\n\n{NOTE}\n{recorded(started, 'python -m bench policy')}\n\n{table(figures)}"


def run(base_url: str, n: int = 20000) -> list[Figure]:
    logging.getLogger().setLevel(logging.WARNING)
    embedded = EmbeddedPolicy(PolicyBundle.load(Path("policies")))
    figures = []
    for package, input_ in (("authz", AUTHZ_INPUT), ("consent", CONSENT_INPUT)):
        engine_call = partial(embedded.evaluate_uncached, package, input_)
        _time(engine_call, 500)  # warm-up
        engine = _time(engine_call, n)
        memo = _time(partial(embedded.evaluate, package, input_), n)
        logged = _time(partial(embedded.decide, package, input_), n // 4)
        figures += [
            Figure(
                f"policy {package}: engine, every decision evaluated p50 / p99",
                f"{us(pct(engine, 50))} / {us(pct(engine, 99))}",
                "p50 ≤ 10 µs",
                "met" if pct(engine, 50) <= 10e-6 else "NOT met",
            ),
            Figure(
                f"policy {package}: decision for an input seen before (memo) p50 / p99",
                f"{us(pct(memo, 50))} / {us(pct(memo, 99))}",
                "p50 ≤ 10 µs",
                "met" if pct(memo, 50) <= 10e-6 else "NOT met",
            ),
            Figure(
                f"policy {package}: decide() = memo + decision log line p50 / p99",
                f"{us(pct(logged, 50))} / {us(pct(logged, 99))}",
            ),
        ]
    floor = EmbeddedPolicy(
        PolicyBundle(
            [("floor.rego", 'package floor\n\ndecision := {"allow": input.a == input.b, "reasons": []}\n')],
            {},
            ["floor"],
            "floor",
        )
    )
    samples = _time(partial(floor.evaluate_uncached, "floor", {"a": 1, "b": 1}), n)
    figures.append(Figure("policy engine floor: a one-line decision p50", us(pct(samples, 50))))
    rest = OpaRestPolicy(base_url)
    _time(partial(rest.decide, "consent", CONSENT_INPUT), 50)
    samples = _time(partial(rest.decide, "consent", CONSENT_INPUT), 2000)
    figures.append(
        Figure(
            "policy consent: OPA REST adapter over HTTP p50 / p99", f"{us(pct(samples, 50))} / {us(pct(samples, 99))}"
        )
    )
    return figures


if __name__ == "__main__":
    print(section(deployed(int(sys.argv[1]) if len(sys.argv) > 1 else 5000), datetime.now(UTC)))
