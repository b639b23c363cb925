"""Dead letters from the command line: ``python -m local.deadletters list|replay ID`` against ``make run``.

The same as ``GET /dev/deadletters`` and ``POST /dev/deadletters/<id>/replay``, for people at a terminal. A
replay is sent as the replay tool's identity (ServiceAccount ``pic-deadletter-replay``, an operator's), with
its token from the dev IdP; the broker admits it only for catalogued types.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import sys

import requests

from events.catalog import DEADLETTER_REPLAY
from local.senders import SenderTokens


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.deadletters", description=__doc__)
    parser.add_argument("--url", default=f"http://127.0.0.1:{os.environ.get('PIC_PORT', '8080')}")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="dead letters, newest first, with the reason")
    replay = commands.add_parser("replay", help="deliver one again to the trigger that failed it")
    replay.add_argument("id", type=int)
    args = parser.parse_args(argv)
    if args.command == "list":
        letters = requests.get(f"{args.url}/dev/deadletters", timeout=10).json()["deadletters"]
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
    auth = {"Authorization": f"Bearer {SenderTokens(args.url).token(DEADLETTER_REPLAY.account)}"}
    response = requests.post(f"{args.url}/dev/deadletters/{args.id}/replay", headers=auth, timeout=10)
    print(json.dumps(response.json(), indent=2))
    return 0 if response.status_code == 202 else 1


if __name__ == "__main__":
    sys.exit(main())
