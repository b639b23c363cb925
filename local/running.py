"""Where the running platform is, for the local tools: ``make run`` writes ``.pic-data/platform.json``.

``python -m local`` records its addresses (base URL, ports, data directory, the supervisor's pid) when it is
healthy and removes the file when it stops; ``local.deadletters``, ``local.load_records``,
``local.seed_status`` and the make targets read it, so nobody exports ``PIC_PORT`` to reach the platform
``make run`` started. A tool never ends in a traceback: a missing platform or an unreachable one is a
sentence on stderr and exit code 2 (:func:`run_tool`).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests

from local import lifeline

REPO_ROOT = Path(__file__).resolve().parents[1]
PLATFORM_FILE = "platform.json"
CANNOT_RUN = 2  # exit code: no platform to talk to, or it did not answer


class ToolError(Exception):
    """What a local tool could not do, said in one sentence (and its exit code)."""

    def __init__(self, message: str, exit_code: int = CANNOT_RUN) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def default_data_dir() -> Path:
    """The data directory ``make run`` uses unless told otherwise (``PIC_DATA_DIR``)."""
    return Path(os.environ.get("PIC_DATA_DIR") or REPO_ROOT / ".pic-data")


def write_platform(data_dir: Path, info: dict[str, Any]) -> Path:
    """Record the running platform's addresses, atomically (a tool never reads half a file)."""
    path = data_dir / PLATFORM_FILE
    tmp = data_dir / f".{PLATFORM_FILE}.{os.getpid()}"
    tmp.write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path


def forget_platform(data_dir: Path, supervisor_pid: int) -> None:
    """Remove the record if it is this supervisor's (another ``make run`` on the directory keeps its own)."""
    path = data_dir / PLATFORM_FILE
    try:
        if json.loads(path.read_text(encoding="utf-8")).get("supervisor_pid") == supervisor_pid:
            path.unlink()
    except (FileNotFoundError, ValueError):
        pass


def running_platform(data_dir: Path | None = None) -> dict[str, Any]:
    """The record of the platform running on ``data_dir``; a :class:`ToolError` saying why there is none."""
    path = (data_dir or default_data_dir()) / PLATFORM_FILE
    try:
        info: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ToolError(f"no platform is running ({path} is absent): start one with `make run`") from None
    except ValueError as exc:
        raise ToolError(f"{path} is not valid JSON ({exc}): restart the platform with `make run`") from None
    pid = info.get("supervisor_pid")
    if not isinstance(pid, int) or not lifeline.alive(pid, info.get("supervisor_started")):
        raise ToolError(f"the platform recorded in {path} (pid {pid}) is not running: start one with `make run`")
    return info


def base_url(url: str | None = None, data_dir: Path | None = None) -> str:
    """The URL given (``--url``), else the one of the platform ``make run`` started on the data directory."""
    if url:
        return url.rstrip("/")
    return str(running_platform(data_dir)["base_url"])


def json_of(response: requests.Response) -> Any:
    """The JSON body of a platform's answer, or a :class:`ToolError` naming what came back instead."""
    try:
        return response.json()
    except ValueError:
        raise ToolError(
            f"{response.request.method} {response.url} answered {response.status_code} "
            f"{response.headers.get('content-type', '')}, not JSON: {response.text[:200]}"
        ) from None


def run_tool(prog: str, main: Callable[[], int]) -> int:
    """Run a tool's body: its exit code, or one line on stderr and a non-zero exit code, never a traceback."""
    try:
        return main()
    except ToolError as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return exc.exit_code
    except requests.ConnectionError as exc:
        where = exc.request.url if exc.request is not None else "the platform"
        print(f"{prog}: cannot reach {where}: is `make run` running?", file=sys.stderr)
        return CANNOT_RUN
    except requests.RequestException as exc:
        print(f"{prog}: the platform did not answer: {exc}", file=sys.stderr)
        return CANNOT_RUN
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
