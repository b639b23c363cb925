"""``python -m bench consumers``: what the quota of an API consumer costs per request (issue 19, ADR 0035), on a
local platform of its own.

- **Store calls**: counted on the botocore client the quota writes with, against the platform's DynamoDB Local: an
  admitted request of a client, a refused one (429), a request of a caller without a client.
- **CPU and latency of the check in process**: ``QuotaCounter.admit`` (one conditional ``UpdateItem``) against
  DynamoDB Local, CPU time of this process and wall time per call.
- **Latency at light load**: ``GET /v1/citizens/{id}`` (Línea Madrid 010's ``api:citizen.read``; an unknown id, so
  the same authz decision and GetItem for both callers) at 10 requests a second, alternating a client-credentials
  token (quota checked) and a client-less ``system`` token (no quota), so the two see the same machine; and the
  test kiosk's 429 answers (two ``UpdateItem``: the refused count and the refusal's).
"""

from __future__ import annotations

import contextlib
import sys
import time
from datetime import UTC, datetime
from typing import Any

import boto3
import requests

from bench.stats import Figure, ms, pct, record_section, recorded, table
from functions.core.consumers import registry
from local.harness import Platform

TITLE = "## API consumers: the quota's cost per request (issue 19)"
NOTE = """\
One conditional `UpdateItem` per request of a client (the hour's item of table `consumers`: the window's counter and
the hour's totals, `functions/core/quota.py`), two on a refusal (the count that failed, the refusal's); none for a
person or a client-less workload token. The latency rows alternate the two kinds of caller on the same route at 10
requests a second (Línea Madrid 010's client, quota 1,200 a minute, never reached), so the difference is the
quota's write; the kiosk's 429 rows are its quota of 3 per 5 s exceeded. Source: `bench/consumers.py`.
Read the wall times with the load average of the line above: DynamoDB Local answers a conditional
`UpdateItem` in ~30 ms p50 on this shared machine (it serialises writes; see "Latency at light load"), which is the
whole difference between the two callers; DynamoDB answers one in single-digit milliseconds, so the quota's share
there is that write's latency plus the 2 ms of CPU the client spends on it (botocore's serialisation, in process).
Not met here, expected met on DynamoDB: not verified (no AWS account in this environment)."""


class CountingClient:
    """A botocore client that counts the calls made through it (the store calls of the quota)."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.calls = 0

    def update_item(self, **call: Any) -> Any:
        self.calls += 1
        return self.client.update_item(**call)


def client_token(platform: Platform, client_id: str) -> str:
    secret = platform.http.post(platform.url("/dev/client-secret"), json={"client_id": client_id}, timeout=10)
    answer = platform.http.post(platform.url("/token"), data={"grant_type": "client_credentials"},
                                auth=(client_id, secret.json()["client_secret"]), timeout=10)  # fmt: skip
    answer.raise_for_status()
    return str(answer.json()["access_token"])


def in_process(endpoint: str, table_name: str, n: int) -> list[Figure]:
    """Store calls, CPU and wall time of ``admit`` on DynamoDB Local."""
    from functions.core.quota import QuotaCounter, QuotaExceededError  # binds table consumers: after the env is set

    ddb = boto3.client("dynamodb", endpoint_url=endpoint, region_name="eu-south-2",
                       aws_access_key_id="local", aws_secret_access_key="local")  # fmt: skip
    counting = CountingClient(ddb)
    line = registry()["linea-010"]
    counter = QuotaCounter(counting, table_name)
    counter.admit(line)  # warm: connection, credentials
    counting.calls = 0
    counter.admit(line)
    admitted_calls = counting.calls
    kiosk = registry()["quiosco-pruebas"]
    for _ in range(kiosk.quota.requests):
        counter.admit(kiosk)
    counting.calls = 0
    with contextlib.suppress(QuotaExceededError):
        counter.admit(kiosk)
    refused_calls = counting.calls
    walls = []
    cpu_start = time.process_time()
    for _ in range(n):
        start = time.perf_counter()
        counter.admit(line)
        walls.append(time.perf_counter() - start)
    cpu = (time.process_time() - cpu_start) / n
    return [
        Figure("store calls per admitted request of a client", f"{admitted_calls} UpdateItem", "1", "met"),
        Figure("store calls per refused request (429)", f"{refused_calls} UpdateItem", "≤ 2", "met"),
        Figure("store calls per request of a person or client-less workload", "0", "0", "met"),
        Figure(f"quota check CPU in process (admit, DynamoDB Local, {n} calls)", ms(cpu), "", ""),
        Figure("quota check wall time p50 / p95 (in process)", f"{ms(pct(walls, 50))} / {ms(pct(walls, 95))}", "", ""),
    ]


def over_http(platform: Platform, n: int) -> list[Figure]:
    """p50/p95 of the same route for a client and a client-less system token, alternating, at 10 per second."""
    client = {"Authorization": f"Bearer {client_token(platform, 'linea-010')}"}
    workload = platform.as_("svc-010", role="system")
    path = platform.url("/v1/citizens/c-bench-consumers-none")
    samples: dict[str, list[float]] = {"client": [], "workload": []}
    session = requests.Session()
    for i in range(2 * n + 20):
        kind, headers = ("client", client) if i % 2 == 0 else ("workload", workload)
        start = time.perf_counter()
        answer = session.get(path, headers=headers, timeout=10)
        took = time.perf_counter() - start
        assert answer.status_code == 404, answer.text
        assert ("RateLimit" in answer.headers) == (kind == "client") or answer.status_code == 404
        if i >= 20:
            samples[kind].append(took)
        time.sleep(max(0.0, 0.1 - took))
    kiosk = {"Authorization": f"Bearer {client_token(platform, 'quiosco-pruebas')}"}
    refused: list[float] = []
    cards = platform.url("/v1/verifier/card-types")
    while len(refused) < 30:
        start = time.perf_counter()
        answer = session.get(cards, headers=kiosk, timeout=10)
        if answer.status_code == 429:
            refused.append(time.perf_counter() - start)
        time.sleep(0.05)
    p = {k: (pct(v, 50), pct(v, 95)) for k, v in samples.items()}
    extra = p["client"][0] - p["workload"][0]
    client_row = f"{ms(p['client'][0])} / {ms(p['client'][1])}"
    workload_row = f"{ms(p['workload'][0])} / {ms(p['workload'][1])}"
    verdict = "met" if extra <= 0.005 else "not met"
    return [
        Figure(f"GET /v1/citizens/{{id}} p50 / p95, client token ({n} at 10/s)", client_row, "", ""),
        Figure(f"GET /v1/citizens/{{id}} p50 / p95, client-less system token ({n} at 10/s)", workload_row, "", ""),
        Figure("the quota's share of a request (p50 difference)", ms(extra), "≤ 5 ms", verdict),
        Figure("429 over quota p50 / p95 (test kiosk)", f"{ms(pct(refused, 50))} / {ms(pct(refused, 95))}", "", ""),
    ]


def run(platform: Platform, endpoint: str, n: int = 200) -> list[Figure]:
    from functions.core.quota import UsageItem

    table_name = str(UsageItem.Meta.table_name)
    return in_process(endpoint, table_name, n) + over_http(platform, n)


def main(argv: list[str]) -> None:
    from bench.__main__ import with_platform

    n = int(argv[0]) if argv else 200
    started = datetime.now(UTC)
    figures = with_platform(lambda platform, endpoint: run(platform, endpoint, n))
    for figure in figures:
        print(f"{figure.name}: {figure.value}", file=sys.stderr)
    body = f"{recorded(started, 'python -m bench consumers')}\n\n{table(figures)}\n{NOTE}\n"
    record_section(TITLE, f"{TITLE}\n\n{body}")


if __name__ == "__main__":
    main(sys.argv[1:])
