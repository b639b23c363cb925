"""Functional: the platform's processes live and die together, and ``/healthz`` never says ready while a
part is gone — against platforms of their own (each test kills one), started as ``make run`` starts them.

- the supervisor SIGKILLed, or its whole process group killed: every child (DynamoDB Local, gunicorn and
  its workers, the broker, the relay, the release) is gone within seconds and nothing answers on the ports;
- a part killed: the next ``/healthz`` is 503 naming it (no waiting for a heartbeat to go stale), and the
  supervisor then stops the whole platform, saying which part died.
"""

from __future__ import annotations

import json
import os
import signal
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from local import lifeline
from local.harness import Platform, start_platform

pytestmark = pytest.mark.functional


@pytest.fixture
def doomed(tmp_path: Path) -> Iterator[Platform]:
    """A platform in a process group of its own; whatever the test leaves running is killed afterwards."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    platform = start_platform(data_dir, new_session=True)
    pids = platform.processes()
    yield platform
    if platform.process.poll() is None:
        platform.stop()
    for pid in pids:
        if lifeline.alive(pid):
            os.kill(pid, signal.SIGKILL)


def _ports(platform: Platform) -> list[int]:
    """The gateway's port and DynamoDB Local's."""
    return [int(platform.base.rsplit(":", 1)[1]), int(platform.args[platform.args.index("--dynamodb-port") + 1])]


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def _assert_all_gone(platform: Platform, pids: list[int]) -> None:
    platform.wait_for(lambda: not any(lifeline.alive(pid) for pid in pids), timeout=10, what="every child to die")
    ports = _ports(platform)
    platform.wait_for(lambda: not any(_answers(port) for port in ports), timeout=10, what="the ports to close")


def test_every_child_dies_when_the_supervisor_is_killed(doomed: Platform) -> None:
    # GIVEN a running platform: DynamoDB Local, gunicorn and its workers, and the parts
    pids = doomed.processes()
    assert len(pids) >= 6, pids
    assert all(_answers(port) for port in _ports(doomed))

    # WHEN its supervisor is killed outright (it cannot stop anything)
    os.kill(doomed.process.pid, signal.SIGKILL)
    doomed.process.wait(timeout=10)

    # THEN every child is gone within seconds, and nothing answers on the gateway's or DynamoDB's port
    _assert_all_gone(doomed, pids)


def test_every_child_dies_when_the_process_group_is_killed(doomed: Platform) -> None:
    # GIVEN a running platform (its children in sessions of their own, so outside the group)
    pids = doomed.processes()

    # WHEN its process group is killed, as a terminal or a CI runner kills `make run`
    os.killpg(doomed.process.pid, signal.SIGKILL)
    doomed.process.wait(timeout=10)

    # THEN every child is gone within seconds and the ports are closed
    _assert_all_gone(doomed, pids)


@pytest.mark.parametrize("part", ["relay", "dynamodb"])
def test_health_is_503_as_soon_as_a_part_dies_then_the_platform_stops(doomed: Platform, part: str) -> None:
    # GIVEN a healthy platform and the process of one of its parts
    assert doomed.health().status_code == 200
    pids = doomed.processes()
    pid = int(json.loads((doomed.data_dir / lifeline.PARTS_FILE).read_text(encoding="utf-8"))[part]["pid"])
    assert pid in pids

    # WHEN that part is killed
    os.kill(pid, signal.SIGKILL)
    doomed.wait_for(lambda: not lifeline.alive(pid), timeout=10, what=f"the {part} to die")

    # THEN the very next /healthz is not ready: 503 naming the part (or no answer at all, if the supervisor
    # has already stopped the gateway) — never the 200 a stale heartbeat would give for seconds
    try:
        health = doomed.health()
    except requests.RequestException:
        health = None
    if health is not None:
        assert health.status_code == 503, health.text
        assert health.json()["parts"][part] is False, health.text
    # AND the supervisor stops the platform, saying which part died, and every process is gone
    assert doomed.process.wait(timeout=60) != 0
    _assert_all_gone(doomed, [p for p in pids if p != pid])
    log = (doomed.data_dir.parent / f"platform-{_ports(doomed)[0]}.log").read_text(encoding="utf-8")
    assert f"the {part} part exited" in log
