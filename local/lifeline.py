"""Children die with the platform, whatever kills it (Linux), and anyone can tell which parts are alive.

``python -m local`` starts DynamoDB Local, the gateway (gunicorn) and the platform's parts (broker, relay,
release) in sessions of their own, so that Ctrl-C reaches the supervisor alone and it stops them in order.
A supervisor that is killed (SIGKILL, its process group killed, an OOM kill) cannot stop anything, so
each child asks the kernel beforehand to kill it when its parent dies: ``prctl(PR_SET_PDEATHSIG,
SIGKILL)``. Three details matter:

- the signal fires when the *thread* that forked the child ends, not the process: the supervisor starts
  every child from its main thread (``spawn`` checks), which lives as long as the process;
- the request must be made in the child, before it does anything else, and the parent may already be gone
  by then: ``die_with_parent`` checks the parent is still the one expected, and exits if not;
- it survives ``execve``, so a tiny wrapper (``python local/lifeline.py <parent pid> -- <command>``) makes
  the request and then becomes the command (java, gunicorn, a part), keeping its pid.

``alive`` tells a live process from a dead one by ``/proc`` (a zombie — dead, not yet reaped — counts as
dead, and a pid reused by another process is told apart by its start time), which is what ``/healthz``
asks of every part on every request.
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path

PR_SET_PDEATHSIG = 1
PROC = Path("/proc")


def die_with_parent(parent_pid: int, sig: int = signal.SIGKILL) -> None:
    """Have the kernel send ``sig`` to this process when its parent dies; exit now if it already has."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, sig, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    if os.getppid() != parent_pid:  # the parent died before the request: nobody would stop us
        os._exit(1)


def command(argv: list[str], parent_pid: int | None = None) -> list[str]:
    """``argv`` run through the wrapper, so that it dies with ``parent_pid`` (this process by default).

    The wrapper is run as a file (it imports only the standard library), so it works from any directory.
    """
    return [sys.executable, str(Path(__file__).resolve()), str(parent_pid or os.getpid()), "--", *argv]


def require_main_thread() -> None:
    """PR_SET_PDEATHSIG follows the forking thread: a child forked from another thread would be killed when
    that thread ends, not when the supervisor does."""
    if threading.current_thread() is not threading.main_thread():
        raise RuntimeError("start the platform's children from the main thread (PR_SET_PDEATHSIG follows threads)")


def start_time(pid: int) -> int | None:
    """The process's start time in clock ticks since boot (``/proc/<pid>/stat`` field 22), or None if there
    is no such process or it is a zombie."""
    try:
        stat = (PROC / str(pid) / "stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) ": state is field 3
    if fields[0] in ("Z", "X"):
        return None
    return int(fields[19])


def alive(pid: int, started: int | None = None) -> bool:
    """Whether ``pid`` runs (not a zombie) and, given ``started``, is still the process that started then."""
    if PROC.is_dir():
        now = start_time(pid)
        return now is not None and (started is None or now == started)
    try:  # no /proc (not Linux): existence only
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def descendants(pid: int) -> list[int]:
    """Every live process below ``pid`` (children, their children...), from ``/proc``."""
    parents: dict[int, list[int]] = {}
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        if fields[0] not in ("Z", "X"):
            parents.setdefault(int(fields[1]), []).append(int(entry.name))
    found: list[int] = []
    todo = [pid]
    while todo:
        children = parents.get(todo.pop(), [])
        found += children
        todo += children
    return found


def watch_parent(parent_pid: int, on_gone: Callable[[], None], every: float = 0.5) -> threading.Thread:
    """A daemon thread that calls ``on_gone`` once this process's parent is no longer ``parent_pid`` (a
    second line behind PR_SET_PDEATHSIG, e.g. where it does not exist)."""

    def watch() -> None:
        while os.getppid() == parent_pid:
            threading.Event().wait(every)
        on_gone()

    thread = threading.Thread(target=watch, name="parent-watchdog", daemon=True)
    thread.start()
    return thread


# ---- the registry of parts, for /healthz -------------------------------------------------------------

PARTS_FILE = "parts.json"


def record_parts(data_dir: Path, pids: dict[str, int]) -> None:
    """Write which process is each part (pid and start time), atomically, for ``/healthz`` to check."""
    parts = {name: {"pid": pid, "started": start_time(pid)} for name, pid in pids.items()}
    tmp = data_dir / f".{PARTS_FILE}.{os.getpid()}"
    tmp.write_text(json.dumps(parts), encoding="utf-8")
    tmp.replace(data_dir / PARTS_FILE)


def forget_parts(data_dir: Path) -> None:
    (data_dir / PARTS_FILE).unlink(missing_ok=True)


def parts_alive(data_dir: Path) -> dict[str, bool]:
    """Each recorded part and whether its process runs now; empty if none is recorded (starting)."""
    try:
        parts = json.loads((data_dir / PARTS_FILE).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return {}
    return {name: alive(int(p["pid"]), p.get("started")) for name, p in parts.items()}


def main(argv: list[str] | None = None) -> None:
    """``python local/lifeline.py <parent pid> -- <command...>``: die with the parent, become the command."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) < 3 or args[1] != "--":
        raise SystemExit("usage: python local/lifeline.py <parent pid> -- <command> [args...]")
    die_with_parent(int(args[0]))
    os.execvp(args[2], args[2:])  # noqa: S606 - the supervisor's own command line, as given


if __name__ == "__main__":
    main()
