"""Where ``make run``'s seed data is: ``make seed-status`` (``python -m local.seed_status [--wait]``).

On a new data directory ``make run`` sends a synthetic city and its global position through the broker, in
the background: for a minute or two the broker works through that backlog, and an event sent meanwhile
(a consent change, a dead letter) waits behind it. This says which part is sent and how many deliveries are
still pending; ``--wait`` waits until everything is delivered, saying so every few seconds.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import requests

from local.running import ToolError, base_url, json_of, run_tool

PROG = "python -m local.seed_status"


def describe(state: dict[str, Any]) -> list[str]:
    """The state of ``GET /dev/seed`` in sentences."""
    city, position, pending = state["city"], state["position"], state["pending"]
    lines = []
    if city["state"] == "not seeded":
        lines.append("seed city: none on this data directory (PIC_SEED_PEOPLE=0, or seeded before)")
    else:
        lines.append(f"seed city: {city['report'] or 'its records are being sent to the broker'}")
        waiting = "being sent" if city["report"] else "waiting for the city's records to be sent"
        lines.append(f"global position (facts, interactions): {position['report'] or waiting}")
    count = f"{pending['deliveries']}{'+' if pending['at_least'] else ''}"
    if state["settled"]:
        lines.append("broker: nothing pending; what you send now is delivered at once")
    else:
        lines.append(
            f"broker: {count} deliveries pending; the seed's backlog is draining, events you send now wait behind it"
        )
    return lines


def wait(url: str, timeout: float, every: float = 5.0) -> dict[str, Any]:
    """Poll ``/dev/seed`` until it is settled, printing the state every ``every`` seconds."""
    deadline, said = time.monotonic() + timeout, 0.0
    while True:
        state: dict[str, Any] = json_of(requests.get(f"{url}/dev/seed", timeout=10))
        if state["settled"]:
            return state
        if time.monotonic() > deadline:
            raise ToolError(f"the seed did not settle within {timeout:.0f} s: " + "; ".join(describe(state)), 1)
        if time.monotonic() - said >= every:
            print("waiting: " + "; ".join(describe(state)[-1:]), flush=True)
            said = time.monotonic()
        time.sleep(1.0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.splitlines()[0])
    parser.add_argument("--wait", action="store_true", help="wait until the broker has nothing pending")
    parser.add_argument("--timeout", type=float, default=600.0, help="how long --wait waits (seconds)")
    parser.add_argument("--url", help="the platform's base URL (default: the one `make run` recorded)")
    parser.add_argument("--data-dir", type=Path, help="the data directory of that platform (default .pic-data)")
    args = parser.parse_args(argv)

    def run() -> int:
        url = base_url(args.url, args.data_dir)
        state = wait(url, args.timeout) if args.wait else json_of(requests.get(f"{url}/dev/seed", timeout=10))
        print("\n".join(describe(state)))
        return 0

    return run_tool(PROG, run)


if __name__ == "__main__":
    sys.exit(main())
