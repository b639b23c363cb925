"""Policy decision latency: the embedded engine in-process, and OPA's REST API over HTTP."""

from __future__ import annotations

import logging
import time
from functools import partial
from pathlib import Path
from typing import Any

from bench.stats import Figure, pct, us
from functions.core.policy import EmbeddedPolicy, OpaRestPolicy, PolicyBundle

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
