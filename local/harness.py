"""Start a local platform in a subprocess and talk to it over HTTP: used by the functional tests and
the benchmarks (the same way ``make run`` starts it, on free ports and a given data directory)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests

from local import lifeline

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Platform:
    """A running local platform and helpers to talk to it over HTTP."""

    def __init__(self, base: str, data_dir: Path, process: subprocess.Popen[bytes], args: list[str]) -> None:
        self.base = base
        self.data_dir = data_dir
        self.process = process
        self.args = args
        self.http = requests.Session()

    def url(self, path: str) -> str:
        return self.base + path

    def token(self, sub: str, role: str = "citizen", level: int = 0, area: str | None = None, ttl: int = 3600) -> str:
        body: dict[str, Any] = {"sub": sub, "role": role, "level": level, "ttl_seconds": ttl}
        if area:
            body["area"] = area
        response = self.http.post(self.url("/dev/token"), json=body, timeout=10)
        response.raise_for_status()
        return str(response.json()["access_token"])

    def as_(self, sub: str, **claims: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(sub, **claims)}"}

    def wait_for(self, predicate: Callable[[], Any], timeout: float = 15.0, what: str = "condition") -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            result = predicate()
            if result:
                return result
            time.sleep(0.05)
        raise AssertionError(f"timed out after {timeout}s waiting for {what}")

    def events(self, type_: str, subject: str | None = None) -> list[dict[str, Any]]:
        """Events the broker ingress accepted (newest first), optionally for one subject."""
        params: dict[str, str | int] = {"type": type_, "limit": 1000}
        found = self.http.get(self.url("/dev/events"), params=params, timeout=10).json()
        return [e for e in found["events"] if subject is None or e.get("subject") == subject]

    def received(self, type_: str, subject: str | None = None) -> list[dict[str, Any]]:
        """Events the event-display subscriber received through a Trigger."""
        params: dict[str, str | int] = {"type": type_, "limit": 100000}
        found = self.http.get(self.url("/dev/received"), params=params, timeout=10).json()
        return [e for e in found["events"] if subject is None or e.get("subject") == subject]

    def deadletters(self) -> list[dict[str, Any]]:
        return list(self.http.get(self.url("/dev/deadletters"), timeout=10).json()["deadletters"])

    def processes(self) -> list[int]:
        """The pids of every process the platform runs (DynamoDB Local, gunicorn and its workers, the parts)."""
        return lifeline.descendants(self.process.pid)

    def health(self) -> requests.Response:
        return self.http.get(self.url("/healthz"), timeout=5)

    def healthy(self) -> bool:
        try:
            return self.http.get(self.url("/healthz"), timeout=2).status_code == 200
        except requests.RequestException:
            return False

    def stop(self) -> int:
        self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return -9


def start_platform(
    data_dir: Path,
    port: int | None = None,
    dynamodb_port: int | None = None,
    store: str | None = None,
    new_session: bool = False,
) -> Platform:
    """Start `python -m local` on free ports (unless given) and wait until `/healthz` is 200.

    ``store`` picks the local store (``--store``); by default ``$PIC_TEST_STORE``, else DynamoDB Local.
    ``new_session`` starts it in a process group of its own (which a test may then kill whole).
    """
    store = store or os.environ.get("PIC_TEST_STORE")
    port = port or free_port()
    args = [
        sys.executable,
        "-m",
        "local",
        "--quiet",
        "--port",
        str(port),
        "--dynamodb-port",
        str(dynamodb_port or free_port()),
        "--data-dir",
        str(data_dir),
        "--workers",
        "2",
        "--seed-people",
        "0",
    ]
    if store:
        args += ["--store", store]
    log = (data_dir.parent / f"platform-{port}.log").open("ab")
    lifeline.require_main_thread()
    process = subprocess.Popen(
        lifeline.command(args),  # the platform dies with whoever started it (a killed pytest leaves no orphans)
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        start_new_session=new_session,
    )
    platform = Platform(f"http://127.0.0.1:{port}", data_dir, process, args)
    deadline = time.monotonic() + 120
    while not platform.healthy():
        if process.poll() is not None or time.monotonic() > deadline:
            platform.stop()
            raise RuntimeError(f"the local platform did not start; see {log.name}")
        time.sleep(0.2)
    return platform
