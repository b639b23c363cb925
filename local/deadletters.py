"""Dead letters from the command line: ``make deadletters`` and ``make replay ID=<id>`` (``python -m
local.deadletters list|replay ID``) against the platform ``make run`` started (``.pic-data/platform.json``).

The same as ``GET /dev/deadletters`` and ``POST /dev/deadletters/<id>/replay``, for people at a terminal. A
replay is sent as the replay tool's identity (ServiceAccount ``pic-deadletter-replay``, an operator's), with
its token from the dev IdP; the broker admits it only for catalogued types.
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
from pathlib import Path
from typing import Any

import requests

from events.catalog import DEADLETTER_REPLAY
from local.running import base_url, json_of, run_tool
from local.senders import SenderTokens

PROG = "python -m local.deadletters"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__)
    parser.add_argument("--url", help="the platform's base URL (default: the one `make run` recorded)")
    parser.add_argument("--data-dir", type=Path, help="the data directory of that platform (default .pic-data)")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="dead letters, newest first, with the reason")
    replay = commands.add_parser("replay", help="deliver one again to the trigger that failed it")
    replay.add_argument("id", type=int)
    args = parser.parse_args(argv)
    return run_tool(PROG, lambda: _run(args))


def _run(args: argparse.Namespace) -> int:
    url = base_url(args.url, args.data_dir)
    if args.command == "list":
        letters: list[dict[str, Any]] = json_of(requests.get(f"{url}/dev/deadletters", timeout=10))["deadletters"]
        for letter in letters:
            event = letter["event"]
            reason = base64.b64decode(event.get("knativeerrordata", "")).decode(errors="replace") or letter["reason"]
            replayed = " (replayed)" if letter["replayed_at"] else ""
            print(
                f"#{letter['id']} {event['type']} {event['source']}#{event['id']} -> {letter['subscriber']}"
                f" [{letter['code']}, {letter['attempts']} attempt(s)]{replayed}\n    {reason[:300]}"
            )
        print(f"{len(letters)} dead letter(s)")
        return 0
    auth = {"Authorization": f"Bearer {SenderTokens(url).token(DEADLETTER_REPLAY.account)}"}
    response = requests.post(f"{url}/dev/deadletters/{args.id}/replay", headers=auth, timeout=10)
    print(json.dumps(json_of(response), indent=2))
    return 0 if response.status_code == 202 else 1


if __name__ == "__main__":
    sys.exit(main())
