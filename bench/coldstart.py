"""Cold start of one function process: interpreter start, imports, app creation, first response.

Two first requests are measured: the public consent terms (no token, no store) and a citizen's consents
(JWT verified against the running platform's JWKS, policy decision, a DynamoDB read) — the realistic one.

Alone (a platform of its own, nothing else measured): ``PYTHONPATH=. python -m bench.coldstart [RUNS]``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.stats import Figure, median, ms
from local.harness import Platform, free_port, start_platform

PROBE = """
import json, sys, time
t0 = time.perf_counter()
from functions_framework import create_app
t1 = time.perf_counter()
app = create_app("consent_http", "functions/consent/main.py", "http")
t2 = time.perf_counter()
path, token = sys.argv[1], sys.argv[2]
headers = {"Authorization": f"Bearer {token}"} if token else {}
response = app.test_client().get(path, headers=headers)
assert response.status_code == 200, (response.status_code, response.data)
t3 = time.perf_counter()
print(json.dumps({"framework": t1 - t0, "module": t2 - t1, "first_response": t3 - t2, "total": t3 - t0}))
"""


def _probe(env: dict[str, str], path: str, token: str, runs: int) -> tuple[list[dict[str, float]], list[float]]:
    parts, wall = [], []
    for _ in range(runs):
        start = time.perf_counter()
        out = subprocess.run(
            [sys.executable, "-c", PROBE, path, token], capture_output=True, text=True, env=env, check=True
        )
        wall.append(time.perf_counter() - start)
        parts.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return parts, wall


def run(platform: Platform, dynamodb_endpoint: str, runs: int = 7) -> list[Figure]:
    env = {
        **os.environ,
        "PYTHONPATH": os.getcwd(),
        "PIC_LOG_LEVEL": "WARNING",
        "PIC_DYNAMODB_ENDPOINT": dynamodb_endpoint,
        "PIC_JWKS_URL": platform.url("/.well-known/jwks.json"),
        "PIC_JWT_ISSUER": platform.base,
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
    }
    figures = []
    for label, path, token in (
        ("public terms, no store", "/v1/consent-terms", ""),
        ("a citizen's consents: JWT + policy + DynamoDB", "/v1/citizens/c-cold/consents", platform.token("c-cold")),
    ):
        parts, wall = _probe(env, path, token, runs)
        total = median([p["total"] for p in parts])
        detail = ", ".join(
            f"{k} {ms(median([p[k] for p in parts]))}" for k in ("framework", "module", "first_response")
        )
        figures += [
            Figure(
                f"cold start, {label}: import to first response (median)",
                f"{ms(total)} ({detail})",
                "≤ 300 ms",
                "met" if total <= 0.3 else "NOT met",
            ),
            Figure(f"cold start, {label}: whole process incl. interpreter (median)", ms(median(wall))),
        ]
    return figures


def main(runs: int) -> None:
    """This benchmark only, against a local platform of its own (``make bench`` runs it with the others)."""
    with tempfile.TemporaryDirectory(prefix="pic-coldstart-") as tmp:
        data_dir = Path(tmp) / "data"
        data_dir.mkdir()
        dynamodb_port = free_port()
        platform = start_platform(data_dir, dynamodb_port=dynamodb_port)
        try:
            for figure in run(platform, f"http://127.0.0.1:{dynamodb_port}", runs):
                print(f"{figure.name:<95} {figure.value}  {figure.verdict}", flush=True)
        finally:
            platform.stop()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 11)
