"""Process life, with real processes: a child started through the lifeline dies with its parent however the
parent dies, and ``alive`` tells running processes from dead, zombie or reused ones."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from local import lifeline
from tests.unit.conftest import ROOT

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG and /proc are Linux")


def _wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


MIDDLE = """
import subprocess, sys, time
from local import lifeline
child = subprocess.Popen(lifeline.command(["sleep", "120"]))
print(child.pid, flush=True)
time.sleep(120)
"""


def test_a_child_started_through_the_lifeline_dies_when_its_parent_is_killed() -> None:
    # GIVEN a parent that started `sleep 120` through the lifeline wrapper
    parent = subprocess.Popen(
        [sys.executable, "-c", MIDDLE], stdout=subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(ROOT)}
    )
    assert parent.stdout is not None
    child = int(parent.stdout.readline())
    assert _wait_until(lambda: "sleep" in Path(f"/proc/{child}/cmdline").read_text()), "the wrapper became sleep"
    assert lifeline.alive(child)

    # WHEN the parent is killed outright (no chance to stop its child)
    parent.kill()
    parent.wait()

    # THEN the child is killed by the kernel at once
    assert _wait_until(lambda: not lifeline.alive(child)), f"sleep {child} outlived its parent"


def test_the_wrapper_exits_if_its_parent_is_already_gone() -> None:
    # GIVEN a wrapper told its parent is a process that is not its parent (as if it had died meanwhile)
    # WHEN it starts THEN it exits at once instead of running the command unsupervised
    done = subprocess.run(lifeline.command(["sleep", "120"], parent_pid=1), timeout=30, check=False)
    assert done.returncode == 1


def test_a_zombie_is_not_alive_and_a_reused_pid_is_not_the_same_process() -> None:
    # GIVEN a process that exited and was not reaped yet (a zombie)
    dead = subprocess.Popen(["true"])
    assert _wait_until(lambda: lifeline.start_time(dead.pid) is None)
    # THEN it does not count as alive
    assert not lifeline.alive(dead.pid)
    dead.wait()
    # AND a running process is alive only with its own start time
    me = lifeline.start_time(os.getpid())
    assert me is not None
    assert lifeline.alive(os.getpid()) and lifeline.alive(os.getpid(), me)
    assert not lifeline.alive(os.getpid(), me + 1)


def test_the_parts_registry_says_which_parts_run(tmp_path: Path) -> None:
    # GIVEN a registry of two parts, one of which is then killed
    sleeper = subprocess.Popen(["sleep", "120"])
    victim = subprocess.Popen(["sleep", "120"])
    lifeline.record_parts(tmp_path, {"runs": sleeper.pid, "killed": victim.pid})
    victim.send_signal(signal.SIGKILL)
    assert _wait_until(lambda: lifeline.start_time(victim.pid) is None)

    # WHEN asked THEN each part is reported as it is, and nothing recorded means nothing alive
    try:
        assert lifeline.parts_alive(tmp_path) == {"runs": True, "killed": False}
        assert sleeper.pid in lifeline.descendants(os.getpid())
        lifeline.forget_parts(tmp_path)
        assert lifeline.parts_alive(tmp_path) == {}
    finally:
        sleeper.kill()
        sleeper.wait()
        victim.wait()
