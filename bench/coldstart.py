"""Cold start per function (issue 12 §5): for every entry point (each Knative Service's ``FUNCTION_TARGET`` in
the local overlay), a fresh interpreter imports functions-framework, loads the function's module and answers
its first request in process, timed phase by phase; and once more under ``python -X importtime``, to name the
modules whose own import costs most on that function's path.

The first request is a realistic one: an HTTP function answers a citizen's read with a JWT verified against
the running platform's JWKS, the policy decision and its DynamoDB read(s) (a public route, no token, for the
consent terms); an event function handles the catalog's example event of its first Trigger (dedupe read,
handler, commit).

Alone (a platform of its own, nothing else measured): ``PYTHONPATH=. python -m bench.coldstart [RUNS]``.
"""

from __future__ import annotations

import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from bench.stats import Figure, median, ms
from local.harness import Platform, free_port, start_platform
from local.manifests import FunctionService, load

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests/fixtures/events"
GOAL = 0.3  # seconds, import to first response
TOP = 4  # packages and modules named per function

PROBE = """
import json, sys, time
t0 = time.perf_counter()
from functions_framework import create_app
t1 = time.perf_counter()
target, source, signature, method, path, token, body, headers = sys.argv[1:9]
app = create_app(target, source, signature)
t2 = time.perf_counter()
head = json.loads(headers)
if token:
    head["Authorization"] = f"Bearer {token}"
response = app.test_client().open(path, method=method, data=body or None, headers=head)
assert response.status_code < 500, (response.status_code, response.data)
t3 = time.perf_counter()
print(json.dumps({"framework": t1 - t0, "module": t2 - t1, "first_response": t3 - t2, "total": t3 - t0,
                  "status": response.status_code}))
"""

# The first read of each HTTP function: (path with {citizen}, needs a token)
FIRST_READ = {
    "consent_http": ("/v1/citizens/{citizen}/consents", True),
    "citizen_http": ("/v1/citizens/{citizen}", True),
    "rgpd_http": ("/v1/citizens/{citizen}/rgpd-flags", True),
    "interaction_http": ("/v1/interactions/int-cold-none", True),
    "position_http": ("/v1/citizens/{citizen}/position", True),
    "audit_http": ("/v1/citizens/{citizen}/access-log", True),
    "notification_http": ("/v1/citizens/{citizen}/notification-profile", True),
    "flags_http": ("/v1/flags", False),  # the snapshot every function polls
    "web_http": ("/app/", False),  # the signed-out landing page (a signed-in page also calls the API)
}
IMPORT_LINE = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)$")


@dataclass(frozen=True)
class Probe:
    """One function's first request: what the probe sends."""

    service: FunctionService
    method: str
    path: str
    token: str
    body: str
    headers: dict[str, str]

    @property
    def label(self) -> str:
        """The request as the report shows it: the path's citizen as ``{citizen}``, an event by its type."""
        if self.method == "POST":
            return self.headers.get("ce-type", "").removeprefix("es.madrid.pic.")
        return re.sub(r"/c-cold-[0-9a-f]+", "/{citizen}", self.path)

    def argv(self) -> list[str]:
        s = self.service
        return [
            s.target,
            s.source,
            s.signature,
            self.method,
            self.path,
            self.token,
            self.body,
            json.dumps(self.headers),
        ]


def probes(platform: Platform) -> list[Probe]:
    """Every PIC function of the local overlay (not the local event display), with its first request."""
    manifests = load(ROOT / "infra/k8s/overlays/local")
    first_type: dict[str, str | None] = {}
    for trigger in manifests.triggers:
        first_type.setdefault(trigger.subscriber, trigger.filters.get("type"))
    citizen = f"c-cold-{uuid.uuid4().hex[:6]}"
    found = []
    for service in manifests.services.values():
        if not service.source.startswith("functions/"):
            continue
        if service.signature == "http":
            path, needs_token = FIRST_READ.get(service.target, ("/v1/consent-terms", False))
            token = platform.token(citizen) if needs_token else ""
            found.append(Probe(service, "GET", path.format(citizen=citizen), token, "", {}))
            continue
        example = json.loads((FIXTURES / f"{first_type[service.name]}.json").read_text(encoding="utf-8"))
        attributes = {k: v for k, v in example.items() if k not in ("data", "datacontenttype")}
        attributes["id"] = str(uuid.uuid4())  # a new event, not a duplicate of an earlier run
        headers = {f"ce-{k}": str(v) for k, v in attributes.items()} | {"content-type": "application/json"}
        found.append(Probe(service, "POST", "/", "", json.dumps(example["data"]), headers))
    return found


def _run(env: dict[str, str], probe: Probe, *python_flags: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *python_flags, "-c", PROBE, *probe.argv()],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        cwd=ROOT,
    )


def top_imports(stderr: str, top: int = TOP) -> list[tuple[str, float]]:
    """The modules whose own import (self time, children excluded) cost most, as ``(module, seconds)``."""
    own: list[tuple[str, float]] = []
    for line in stderr.splitlines():
        match = IMPORT_LINE.match(line)
        if match:
            own.append((match[4], int(match[1]) / 1e6))
    return sorted(own, key=lambda item: -item[1])[:top]


def heavy_packages(stderr: str, top: int = TOP) -> list[tuple[str, float]]:
    """The distributions whose modules' own import time, summed, cost most (PIC's own code is ``functions``
    and ``events``): what a function pays for at import."""
    totals: dict[str, float] = {}
    for line in stderr.splitlines():
        match = IMPORT_LINE.match(line)
        if match:
            package = match[4].split(".")[0]
            totals[package] = totals.get(package, 0.0) + int(match[1]) / 1e6
    return sorted(totals.items(), key=lambda item: -item[1])[:top]


def measure(env: dict[str, str], probe: Probe, runs: int) -> tuple[dict[str, float], float, str]:
    """Median phases and wall time over ``runs`` cold starts, and one ``-X importtime`` run's stderr."""
    parts, wall = [], []
    for _ in range(runs):
        started = time.perf_counter()
        out = _run(env, probe)
        wall.append(time.perf_counter() - started)
        parts.append(json.loads(out.stdout.strip().splitlines()[-1]))
    phases = {k: statistics.median(p[k] for p in parts) for k in ("framework", "module", "first_response", "total")}
    return phases, median(wall), _run(env, probe, "-X", "importtime").stderr


def run(platform: Platform, dynamodb_endpoint: str, runs: int = 3) -> list[Figure]:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "PIC_LOG_LEVEL": "WARNING",
        "PIC_DYNAMODB_ENDPOINT": dynamodb_endpoint,
        "PIC_JWKS_URL": platform.url("/.well-known/jwks.json"),
        "PIC_JWT_ISSUER": platform.base,
        "PIC_RELAY_WAKE": "",
        "K_SINK": "",
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
    }
    figures = []
    for probe in probes(platform):
        phases, wall, importtime = measure(env, probe, runs)
        total = phases["total"]
        heavy = ", ".join(f"{name} {cost * 1e3:.0f}" for name, cost in heavy_packages(importtime))
        own = ", ".join(f"{name} {cost * 1e3:.0f}" for name, cost in top_imports(importtime, top=2))
        figures.append(
            Figure(
                f"cold start `{probe.service.target}`: {probe.method} {probe.label}",
                f"{ms(total)} = framework {phases['framework'] * 1e3:.0f} + module {phases['module'] * 1e3:.0f} + "
                f"first response {phases['first_response'] * 1e3:.0f} (process {wall * 1e3:.0f} ms); "
                f"heaviest packages (ms): {heavy}; modules: {own}",
                "≤ 300 ms",
                "met" if total <= GOAL else "NOT met",
            )
        )
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
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
