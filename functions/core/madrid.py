"""Madrid's 21 districts and 131 barrios by official code (Ayuntamiento de Madrid; see the data file's
``source``). Codes: two digits for a district (``"01"`` Centro), three for a barrio (``"011"`` Palacio)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

_DATA = Path(__file__).parent / "data" / "madrid_zones.json"


@dataclass(frozen=True)
class Zone:
    code: str
    kind: str  # "district" or "barrio"
    name: str
    district: str


@lru_cache(maxsize=1)
def zones() -> dict[str, Zone]:
    raw = json.loads(_DATA.read_text(encoding="utf-8"))
    found = {code: Zone(code, "district", name, code) for code, name in raw["districts"].items()}
    for code, barrio in raw["barrios"].items():
        found[code] = Zone(code, "barrio", barrio["name"], barrio["district"])
    return found


def find_zone(code: str) -> Zone | None:
    return zones().get(code)
