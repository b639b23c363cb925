"""Where a report's point lies: the council's official district and barrio boundaries, through the kernel's
``functions.core.madrid_geo.locate`` (issue 18's shared module; datos.madrid.es dataset 300496, see
``functions/core/data/SOURCE.md``). A point outside the municipality has no place: the report is refused."""

from __future__ import annotations

from functions.core import madrid_geo
from functions.incident.service import Locator, Place


class MadridGeoLocator:
    """``service.Locator`` over ``madrid_geo.locate`` (its ``Place`` read field by field: the domain keeps its own)."""

    def locate(self, lat: float, lon: float) -> Place | None:
        found = madrid_geo.locate(lat, lon)
        if found is None:
            return None
        return Place(found.district_code, found.district_name, found.barrio_code, found.barrio_name)


def locator() -> Locator:
    return MadridGeoLocator()
