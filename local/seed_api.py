"""The seed data of ``make run``, over HTTP (local only, never deployed), so that a walk-through needs nothing
but curl and runs from any directory:

- ``GET /dev/seed``: where the synthetic city and its global position are (not seeded, being sent, sent),
  the people with data in every section, the data directory (the walk-throughs write their files under it),
  and how much work the broker still has (``pending``: its backlog drains for a minute or two on a new data
  directory; events sent meanwhile wait behind it);
- ``POST /dev/seed/person``: a fresh person for one run of a walk-through (``seed.position.fresh_person``):
  ``202`` with their records at once, then, in the background, their facts, interactions, a record without a
  document that C360 merges by probability, and a consent. Each call makes a new person, so a walk-through
  that erases its person can run again.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from werkzeug.wrappers import Request, Response

from functions.core.logging import get_logger
from local.jsonreply import as_json

PENDING_LIMIT = 1000


def _marker(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None


def seed_state(data_dir: Path) -> dict[str, Any]:
    """What the data directory says about the seed: each part not seeded, being sent, or sent (with its report)."""
    city_dir = data_dir / "seed-city"
    city, position = _marker(city_dir / "loaded"), _marker(city_dir / "position-loaded")
    showcase = position.rsplit("data in every section:", 1)[-1].split() if position else []
    return {
        "data_dir": str(data_dir),
        "city": {"state": "sent" if city else "sending" if city_dir.is_dir() else "not seeded", "report": city},
        "position": {
            "state": "sent" if position else "sending" if city_dir.is_dir() else "not seeded",
            "report": position,
            "showcase": [c.rstrip(",") for c in showcase],
        },
    }


class SeedApi:
    """``/dev/seed`` and ``/dev/seed/person`` on the gateway; ``pending`` counts the broker's open deliveries."""

    def __init__(self, data_dir: Path, base_url: str, pending: Callable[[int], list[Any]]) -> None:
        self.data_dir = data_dir
        self.base_url = base_url
        self.pending = pending

    def handlers(self) -> dict[tuple[str, str], Callable[[Request], Response]]:
        return {("GET", "/dev/seed"): self.status, ("POST", "/dev/seed/person"): self.person}

    def status(self, request: Request) -> Response:
        pending = len(self.pending(PENDING_LIMIT))
        state = seed_state(self.data_dir)
        seeding = state["city"]["state"] == "sending" or state["position"]["state"] == "sending"
        state["pending"] = {"deliveries": pending, "at_least": pending >= PENDING_LIMIT}
        state["settled"] = not seeding and pending == 0
        return as_json(state)

    def person(self, request: Request) -> Response:
        from seed.position import fresh_person, seed_fresh_person

        fresh = fresh_person(uuid.uuid4().hex)

        def run() -> None:
            try:
                citizen_id = seed_fresh_person(self.base_url, fresh)
            except Exception:  # a background thread: say it in the log, the walk-through's wait says the rest
                get_logger().exception("seeding a fresh person failed")
                return
            get_logger().info("fresh person seeded", extra={"citizen_id": citizen_id})

        threading.Thread(target=run, name="fresh-person", daemon=True).start()
        return as_json(fresh.describe(), 202)
