"""Where a report's point lies: ``functions.core.madrid_geo.locate`` (the official district and barrio boundaries,
owned by the agenda's kernel module, issue 18) when the tree has it.

Until that module is merged, ``BoundsLocator`` is the in-city check: the municipality's bounding box (INE 28079,
from its official boundary's extreme points, rounded outwards: 40.312–40.644 N, 3.889–3.517 W). It refuses what is
certainly outside (Getafe's centre, Barcelona, a swapped lat/long) but accepts a few neighbouring municipalities'
edges and knows no district: a stage, replaced by ``madrid_geo`` on ``git merge main`` without another change here.
"""

from __future__ import annotations

import importlib
from typing import Any

from functions.incident.service import Locator, Place

SOUTH, NORTH, WEST, EAST = 40.312, 40.644, -3.889, -3.517


class BoundsLocator:
    def locate(self, lat: float, lon: float) -> Place | None:
        if SOUTH <= lat <= NORTH and WEST <= lon <= EAST:
            return Place("", "", "", "")
        return None


class MadridGeoLocator:
    """The kernel's official boundaries (``madrid_geo.locate``), its ``Place`` read by field name."""

    def __init__(self, module: Any) -> None:
        self.module = module

    def locate(self, lat: float, lon: float) -> Place | None:
        found = self.module.locate(lat, lon)
        if found is None:
            return None
        return Place(str(found.district_code), str(found.district_name), str(found.barrio_code),
                     str(found.barrio_name))  # fmt: skip


def locator() -> Locator:
    try:
        module = importlib.import_module("functions.core.madrid_geo")
    except ModuleNotFoundError:
        return BoundsLocator()
    return MadridGeoLocator(module)
