"""Where in Madrid a point is: the official district and barrio boundaries, and the H3 cells used as store keys.

Boundaries: the Ayuntamiento de Madrid's "Barrios municipales de Madrid" (datos.madrid.es, dataset 300496),
reprojected once from ETRS89 / UTM 30N to WGS84 by ``scripts/build_madrid_geo.py``; provenance, licence and
attribution in ``functions/core/data/SOURCE.md``. A district is the union of its barrios, so one point-in-polygon
answer gives both (``locate``). Everything is loaded once per process (``lru_cache``) into a shapely STRtree of
prepared polygons: a lookup is a bounding-box query plus one or two exact tests, a few microseconds.

Cells: Uber's H3 hexagons (``h3`` on PyPI). The agenda stores an event under the cell of its place at
``H3_RESOLUTION`` and answers "near me" by reading the cells that cover a circle (``cells``) and then filtering
by exact distance (``distance_m``), so the store is read by key, never scanned.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import h3
import shapely
from shapely.geometry import Point, shape
from shapely.geometry.base import BaseGeometry
from shapely.strtree import STRtree

_DATA = Path(__file__).parent / "data" / "madrid_barrios.geojson"

# H3 resolution 8: hexagons of about 0.74 km² (edge ~0.46 km on average): a barrio holds tens of them, a 1 km
# walk crosses two or three, so a "near me" circle of 0.5-5 km reads between 7 and ~250 keys.
H3_RESOLUTION = 8
# GRS80 / WGS84 ellipsoid (the same to the millimetre at Madrid's scale), for areas and distances.
_A = 6378137.0
_E2 = 0.00669438002290
_EARTH_MEAN_RADIUS_M = 6371008.8


@dataclass(frozen=True)
class Place:
    """The district and barrio a point falls in (official codes: two digits, three digits)."""

    district_code: str
    district_name: str
    barrio_code: str
    barrio_name: str


@dataclass(frozen=True)
class Barrio:
    """One official barrio: its codes and names, the centroid of its polygon and its area in m².

    The centroid is the polygon's centre of mass; for a concave barrio it may lie just outside it (use
    ``inside_lat``/``inside_lon``, a point guaranteed inside, when the point must belong to the barrio)."""

    code: str
    name: str
    district_code: str
    district_name: str
    centroid_lat: float
    centroid_lon: float
    inside_lat: float
    inside_lon: float
    area_m2: float


@dataclass(frozen=True)
class District:
    """One official district: the union of its barrios."""

    code: str
    name: str
    barrio_codes: tuple[str, ...]
    area_m2: float


class UnknownAreaError(KeyError):
    """A barrio or district code that is not one of Madrid's official codes."""


@dataclass(frozen=True)
class _Index:
    barrios: dict[str, Barrio]
    geometries: tuple[BaseGeometry, ...]
    codes: tuple[str, ...]
    tree: STRtree
    districts: dict[str, District]


def _area_m2(geometry: BaseGeometry) -> float:
    """Area on the ellipsoid, by a local projection centred on the polygon (error well under 0.01% at a
    barrio's size: the scale factors are taken at its centre, where their first-order variations cancel)."""
    centre = geometry.centroid
    phi = math.radians(centre.y)
    w = 1.0 - _E2 * math.sin(phi) ** 2
    meridional = _A * (1.0 - _E2) / w**1.5
    prime_vertical = _A / math.sqrt(w)
    kx = prime_vertical * math.cos(phi) * math.pi / 180.0
    ky = meridional * math.pi / 180.0
    local = shapely.transform(geometry, lambda xy: (xy - (centre.x, centre.y)) * (kx, ky))
    return float(local.area)


def _barrio(properties: dict[str, Any], geometry: BaseGeometry) -> Barrio:
    centroid = geometry.centroid
    inside = geometry.representative_point()
    return Barrio(
        code=properties["barrio_code"],
        name=properties["barrio_name"],
        district_code=properties["district_code"],
        district_name=properties["district_name"],
        centroid_lat=round(centroid.y, 7),
        centroid_lon=round(centroid.x, 7),
        inside_lat=round(inside.y, 7),
        inside_lon=round(inside.x, 7),
        area_m2=round(_area_m2(geometry), 1),
    )


@lru_cache(maxsize=1)
def _index() -> _Index:
    raw = json.loads(_DATA.read_text(encoding="utf-8"))
    barrios: dict[str, Barrio] = {}
    geometries: list[BaseGeometry] = []
    codes: list[str] = []
    for feature in raw["features"]:
        geometry = shape(feature["geometry"])
        shapely.prepare(geometry)
        found = _barrio(feature["properties"], geometry)
        barrios[found.code] = found
        geometries.append(geometry)
        codes.append(found.code)
    districts: dict[str, District] = {}
    for found in sorted(barrios.values(), key=lambda b: b.code):
        prior = districts.get(found.district_code)
        districts[found.district_code] = District(
            code=found.district_code,
            name=found.district_name,
            barrio_codes=(prior.barrio_codes if prior else ()) + (found.code,),
            area_m2=round((prior.area_m2 if prior else 0.0) + found.area_m2, 1),
        )
    return _Index(barrios, tuple(geometries), tuple(codes), STRtree(geometries), districts)


def locate(lat: float, lon: float) -> Place | None:
    """The district and barrio of a WGS84 point, or None outside the municipality (or not a finite point).

    A point exactly on a shared boundary belongs to the barrio with the lower code, so the answer is stable."""
    if not (math.isfinite(lat) and math.isfinite(lon)):
        return None
    index = _index()
    point = Point(lon, lat)
    hits = [index.codes[i] for i in index.tree.query(point) if index.geometries[i].intersects(point)]
    if not hits:
        return None
    found = index.barrios[min(hits)]
    return Place(found.district_code, found.district_name, found.code, found.name)


def barrio(code: str) -> Barrio:
    """An official barrio by its three-digit code (``"011"`` Palacio); UnknownAreaError otherwise."""
    found = _index().barrios.get(code)
    if found is None:
        raise UnknownAreaError(code)
    return found


def barrios() -> tuple[Barrio, ...]:
    """The 131 official barrios, by code."""
    return tuple(sorted(_index().barrios.values(), key=lambda b: b.code))


def district(code: str) -> District:
    """An official district by its two-digit code (``"01"`` Centro); UnknownAreaError otherwise."""
    found = _index().districts.get(code)
    if found is None:
        raise UnknownAreaError(code)
    return found


def districts() -> tuple[District, ...]:
    """The 21 official districts, by code."""
    return tuple(sorted(_index().districts.values(), key=lambda d: d.code))


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres (haversine on the mean Earth radius: within 0.3% of the ellipsoid's
    geodesic at Madrid's scale, far below what "near" means to a person)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * _EARTH_MEAN_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def cell(lat: float, lon: float, resolution: int = H3_RESOLUTION) -> str:
    """The H3 cell (hex string) holding a point: the store key of whatever sits there."""
    return str(h3.latlng_to_cell(lat, lon, resolution))


def neighbours(cell_id: str, k: int = 1) -> set[str]:
    """The cells within ``k`` steps of a cell, itself included (H3 ``grid_disk``)."""
    return {str(c) for c in h3.grid_disk(cell_id, k)}


def _disk_steps(radius_m: float, resolution: int) -> int:
    """How many H3 rings around a point's cell surely cover a circle of ``radius_m``.

    Two adjacent cells' centres are sqrt(3) edges apart, and ring k's centres are at least 1.5·k edges away; a
    point within the radius sits in a cell whose centre is at most radius + 2 edges from the origin's centre
    (one edge each side). The edge is taken 25% longer than H3's average to absorb the grid's distortion."""
    edge = float(h3.average_hexagon_edge_length(resolution, unit="m")) * 1.25
    return max(0, math.ceil((radius_m + 2 * edge) / (1.5 * edge)))


def cells(lat: float, lon: float, radius_m: float = 0.0, resolution: int = H3_RESOLUTION) -> list[str]:
    """The H3 cells covering a circle around a point, the point's own cell first (radius 0: just that cell).

    A superset: the caller filters what it reads by ``distance_m``."""
    origin = cell(lat, lon, resolution)
    if radius_m <= 0:
        return [origin]
    around = neighbours(origin, _disk_steps(radius_m, resolution)) - {origin}
    return [origin, *sorted(around)]
