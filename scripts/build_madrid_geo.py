"""Build ``functions/core/data/madrid_barrios.geojson`` from the council's official barrio shapefile, once.

Why a script: datos.madrid.es ships "Barrios municipales de Madrid" (dataset 300496) as an ESRI shapefile in
ETRS89 / UTM zone 30N (EPSG:25830). The platform only needs WGS84 longitude/latitude (what a phone's GPS and
the agenda's open data give), so the conversion is done here once and the result is committed; the runtime
(``functions/core/madrid_geo.py``) needs neither pyproj nor pyshp.

Run (build-time tools only, not in requirements.txt, versions used for the committed file):
    python -m venv /tmp/geo-venv && /tmp/geo-venv/bin/pip install pyshp==3.1.9 pyproj==3.7.2 shapely==2.2.0
    /tmp/geo-venv/bin/python scripts/build_madrid_geo.py /path/to/BARRIOS   # the .shp/.dbf/.prj basename

What it does, and does not: reprojects every vertex (pyproj, always_xy), rounds to 7 decimals (about 1 cm at
Madrid's latitude; 6 decimals made barrio 105's outline self-intersect), drops consecutive duplicate vertices,
and refuses to write a geometry that rounding made invalid (the official geometry is never "repaired"). No
simplification. Districts are not a separate file: a Madrid district is exactly the union of its barrios (the
barrios are the districts' statistical subdivisions), so ``madrid_geo`` derives a district from its barrios.
"""

from __future__ import annotations

import itertools
import json
import sys
from pathlib import Path
from typing import Any

DECIMALS = 7
OUT = Path(__file__).resolve().parents[1] / "functions" / "core" / "data" / "madrid_barrios.geojson"


def _ring(points: list[tuple[float, float]], transform: Any) -> list[list[float]]:
    """One ring, reprojected and rounded, consecutive duplicates dropped, closed."""
    out: list[list[float]] = []
    for x, y in points:
        lon, lat = transform.transform(x, y)
        point = [round(lon, DECIMALS), round(lat, DECIMALS)]
        if not out or out[-1] != point:
            out.append(point)
    if out[0] != out[-1]:
        out.append(out[0])
    return out


def _polygons(shape: Any, transform: Any) -> list[list[list[list[float]]]]:
    """A shapefile polygon's parts grouped into polygons (an outer ring clockwise, holes counter-clockwise)."""
    import shapefile  # build-time only

    polygons: list[list[list[list[float]]]] = []
    starts = [*shape.parts, len(shape.points)]
    for begin, end in itertools.pairwise(starts):
        points = shape.points[begin:end]
        ring = _ring(points, transform)
        if shapefile.is_cw(points) or not polygons:  # pyshp: outer rings are clockwise in the shapefile spec
            polygons.append([ring])
        else:
            polygons[-1].append(ring)
    return polygons


def build(basename: str) -> dict[str, Any]:
    import shapefile  # build-time only
    from pyproj import CRS, Transformer
    from shapely.geometry import shape as to_shape

    prj = Path(basename + ".prj").read_text(encoding="utf-8")
    source_crs = CRS.from_wkt(prj)
    if source_crs.to_epsg() not in (25830, None) or "UTM_Zone_30N" not in prj:
        raise SystemExit(f"unexpected projection: {prj}")
    transform = Transformer.from_crs(CRS.from_epsg(25830), CRS.from_epsg(4326), always_xy=True)
    reader = shapefile.Reader(basename, encoding="utf-8")
    features = []
    for item in reader.iterShapeRecords():
        record = item.record.as_dict()
        polygons = _polygons(item.shape, transform)
        geometry: dict[str, Any] = (
            {"type": "Polygon", "coordinates": polygons[0]}
            if len(polygons) == 1
            else {"type": "MultiPolygon", "coordinates": polygons}
        )
        if not to_shape(geometry).is_valid:
            raise SystemExit(f"barrio {record['COD_BAR']}: rounding made the geometry invalid")
        features.append(
            {
                "type": "Feature",
                "properties": {
                    "district_code": record["COD_DIS_TX"],
                    "district_name": record["NOMDIS"],
                    "barrio_code": record["COD_BAR"],
                    "barrio_name": record["NOMBRE"],
                    "source_area_m2": round(float(record["Shape_Area"]), 1),
                },
                "geometry": geometry,
            }
        )
    features.sort(key=lambda f: f["properties"]["barrio_code"])
    return {
        "type": "FeatureCollection",
        "name": "madrid_barrios",
        "source": "Ayuntamiento de Madrid, 'Barrios municipales de Madrid' (datos.madrid.es, dataset 300496); "
        "reprojected from EPSG:25830 to WGS84 (EPSG:4326) by scripts/build_madrid_geo.py. See SOURCE.md.",
        "features": features,
    }


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__)
        return 2
    collection = build(argv[1])
    OUT.write_text(json.dumps(collection, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"wrote {len(collection['features'])} barrios to {OUT} ({OUT.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
