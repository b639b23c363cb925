"""Cold start of one function process: interpreter start, import, app creation, first response."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

from bench.stats import Figure, median, ms

PROBE = """
import json, time
t0 = time.perf_counter()
from functions_framework import create_app
app = create_app("consent_http", "functions/consent/main.py", "http")
t1 = time.perf_counter()
response = app.test_client().get("/v1/consent-terms")
assert response.status_code == 200, response.status_code
t2 = time.perf_counter()
print(json.dumps({"import_and_app": t1 - t0, "first_response": t2 - t1, "total": t2 - t0}))
"""


def run(runs: int = 7) -> list[Figure]:
    totals, in_process = [], []
    env = {**os.environ, "PYTHONPATH": os.getcwd(), "PIC_LOG_LEVEL": "WARNING"}
    for _ in range(runs):
        start = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, env=env, check=True)
        totals.append(time.perf_counter() - start)
        in_process.append(json.loads(out.stdout.strip().splitlines()[-1])["total"])
    return [
        Figure(
            "cold start: import to first response (in process, median)",
            ms(median(in_process)),
            "≤ 300 ms",
            "met" if median(in_process) <= 0.3 else "NOT met",
        ),
        Figure("cold start: whole process incl. interpreter start (median)", ms(median(totals))),
    ]
