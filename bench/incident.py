"""Incidents on the public way in process (Avisos, issue 18): ``python -m bench incident``.

- reports per second with a photo: a citizen's report through the use case (``handlers.report``: catalogue, the
  attributes, the in-city check, the report with its ``incident.reported``, ``case.requested``, notice and position
  events) and its photo (``photos.prepared``: a phone-like 4000×3000 JPEG with EXIF GPS, checked by its content,
  re-encoded to at most 1,600 px and 350 KB, the location dropped; then ``handlers.add_photo``), each unit committed
  on the in-memory store of the unit tests; and the same without the photo, to show what the photo costs;
- duplicate suggestions with 100,000 open reports spread over the city (10 services): the store keeps them under
  ``<service_code>#<cell>`` as the ``by-near`` index does, and each suggestion (``handlers.suggest``) reads the
  cells its radius touches and filters by exact distance; p50 and p99 over 10,000 suggestions at random points,
  with the cells (DynamoDB Queries) and the items they return per suggestion;
- the same over HTTP: a fresh local platform whose DynamoDB Local holds the 100,000 open reports, 1,000
  ``GET /v1/incidents/suggestions`` at random points (p50, p99).
"""

from __future__ import annotations

import io
import random
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from PIL import Image

from bench.stats import machine, record_section
from functions.core.policy import EmbeddedPolicy, PolicyBundle
from functions.incident import handlers, photos, service
from functions.incident.handlers import IncidentPorts, ReportCmd
from functions.incident.service import Incident, Report
from tests.unit.fakes import FixedClock
from tests.unit.incident.fakes import CENTRO, FakeIncidentStore, FakeLocator

TITLE = "## Incidents on the public way in process (Avisos, Open311)"
NOW = datetime(2026, 12, 7, 9, tzinfo=UTC)
REPORTS = 50
OPEN = 100_000
SUGGESTIONS = 10_000
HTTP_SUGGESTIONS = 1_000
# the city's extent, a box inside the municipality (the fake locator places every point; the check is not measured here)
SOUTH, NORTH, WEST, EAST = 40.33, 40.55, -3.80, -3.58


@dataclass
class IndexedStore(FakeIncidentStore):
    """The fake store with the ``by-near`` index as a dictionary (what one Query per cell returns), and the items
    each suggestion read."""

    near: dict[str, list[Incident]] = field(default_factory=lambda: defaultdict(list))
    items_read: int = 0
    queries: int = 0

    def fetch_near(self, service_code: str, cells: list[str]) -> list[Incident]:
        found = [i for cell in cells for i in self.near.get(f"{service_code}#{cell}", [])]
        self.queries += len(cells)
        self.items_read += len(found)
        return found


def _ports(store: FakeIncidentStore) -> IncidentPorts:
    policy = EmbeddedPolicy(PolicyBundle.load(Path("policies")))
    return IncidentPorts(store, policy, FixedClock(NOW), FakeLocator(CENTRO), "https://pic.test")


def phone_photo() -> bytes:
    """A 12 Mpx JPEG with texture (not flat colour: a flat image compresses to nothing) and EXIF GPS."""
    rng = random.Random(3)
    small = Image.new("RGB", (400, 300))
    small.putdata([(rng.randint(0, 255), rng.randint(0, 255), rng.randint(0, 255)) for _ in range(400 * 300)])
    image = small.resize((4000, 3000), Image.Resampling.BICUBIC)
    exif = Image.Exif()
    exif[photos.GPS_IFD] = {1: "N", 2: (40.0, 25.0, 1.0), 3: "W", 4: (3.0, 42.0, 13.0)}
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85, exif=exif.tobytes())
    return out.getvalue()


def _report(rng: random.Random) -> Report:
    return Report("alumbrado-farola-apagada", rng.uniform(SOUTH, NORTH), rng.uniform(WEST, EAST),
                  description="La farola no enciende", attributes={"tipo-averia": "apagada"})  # fmt: skip


def reports_per_second(n: int, with_photo: bool) -> tuple[float, int]:
    """Reports (and their photo) per second in process; the photo's bytes as kept."""
    store = FakeIncidentStore()
    ports = _ports(store)
    rng = random.Random(5)
    raw = phone_photo()
    kept = 0
    start = time.perf_counter()
    for i in range(n):
        staged = handlers.report(ReportCmd(_report(rng), f"c-{i}", None, "app"), ports, None)
        store.commit(staged.unit)
        if with_photo:
            photo = photos.prepared(raw, keep_location=False)
            kept = len(photo.data)
            store.commit(handlers.add_photo(staged.result.id, photo, ports, None).unit)
    return n / (time.perf_counter() - start), kept


def suggestion_latencies(open_reports: int, asked: int) -> tuple[list[float], float, float, int]:
    """Seconds per suggestion over ``asked`` random points with ``open_reports`` open reports indexed; the Queries
    and items per suggestion; how many suggestions found something."""
    store = IndexedStore()
    ports = _ports(store)
    rng = random.Random(9)
    codes = [s.code for s in service.catalogue().services]
    for i in range(open_reports):
        code = codes[i % len(codes)]
        lat, lon = rng.uniform(SOUTH, NORTH), rng.uniform(WEST, EAST)
        incident = Incident(
            id=f"AV-2026-{i:08X}", service_code=code, lat=lat, lon=lon, address="", description="", attributes={},
            place=CENTRO, channel="open311", citizen_id=None, client="bench", contact={}, requested_at=NOW,
            updated_at=NOW, expected_at=NOW,
        )  # fmt: skip
        store.near[f"{code}#{service.cell_of(lat, lon)}"].append(incident)
    times, hits = [], 0
    for _ in range(asked):
        code, lat, lon = rng.choice(codes), rng.uniform(SOUTH, NORTH), rng.uniform(WEST, EAST)
        start = time.perf_counter()
        found = handlers.suggest(code, lat, lon, ports)
        times.append(time.perf_counter() - start)
        hits += bool(found)
    return times, store.queries / asked, store.items_read / asked, hits


def over_http(open_reports: int, asked: int) -> tuple[list[float], float]:
    """``GET /v1/incidents/suggestions`` over HTTP on a fresh local platform whose DynamoDB Local holds
    ``open_reports`` open reports (written straight into the table as the adapter writes them, 25 a call from 4
    threads): seconds per suggestion over ``asked`` random points, and the load's seconds."""
    import tempfile
    from concurrent.futures import ThreadPoolExecutor

    import boto3
    import requests

    from functions.core.store import table_name
    from functions.incident.storage import IncidentItem, incident_json
    from local.harness import free_port, start_platform

    rng = random.Random(13)
    codes = [s.code for s in service.catalogue().services]
    with tempfile.TemporaryDirectory(prefix="pic-bench-incident-") as tmp:
        data_dir = Path(tmp) / "data"
        data_dir.mkdir()
        port = free_port()
        platform = start_platform(data_dir, dynamodb_port=port)
        try:
            client = boto3.client("dynamodb", endpoint_url=f"http://127.0.0.1:{port}", region_name="eu-south-2",
                                  aws_access_key_id="local", aws_secret_access_key="local")  # fmt: skip
            table = table_name("incident")
            items = []
            for i in range(open_reports):
                code, lat, lon = codes[i % len(codes)], rng.uniform(SOUTH, NORTH), rng.uniform(WEST, EAST)
                incident = Incident(
                    id=f"AV-2026-{i:08X}", service_code=code, lat=lat, lon=lon, address="", description="",
                    attributes={}, place=CENTRO, channel="open311", citizen_id=None, client="bench", contact={},
                    requested_at=NOW, updated_at=NOW, expected_at=NOW,
                )  # fmt: skip
                near = f"{code}#{service.cell_of(lat, lon)}"
                item = IncidentItem(f"inc#{incident.id}", body=incident_json(incident), revision=1, near=near,
                                    month="2026-12", requested_at=NOW)  # fmt: skip
                items.append({"PutRequest": {"Item": item.serialize()}})
            batches = [items[k : k + 25] for k in range(0, len(items), 25)]

            def write(batch: list[dict[str, object]]) -> None:
                left = {table: batch}
                while left:
                    left = client.batch_write_item(RequestItems=left).get("UnprocessedItems") or {}

            started = time.perf_counter()
            with ThreadPoolExecutor(4) as pool:
                list(pool.map(write, batches))
            loaded = time.perf_counter() - started
            session = requests.Session()
            times = []
            for _ in range(asked):
                query = {"service_code": rng.choice(codes), "lat": f"{rng.uniform(SOUTH, NORTH):.6f}",
                         "long": f"{rng.uniform(WEST, EAST):.6f}"}  # fmt: skip
                start = time.perf_counter()
                answer = session.get(platform.url("/v1/incidents/suggestions"), params=query, timeout=30)
                times.append(time.perf_counter() - start)
                assert answer.status_code == 200, answer.text
            return times, loaded
        finally:
            platform.stop()


def _p(values: list[float], q: float) -> float:
    return sorted(values)[min(len(values) - 1, int(q * len(values)))]


def main(argv: list[str]) -> None:
    n = int(argv[0]) if argv else REPORTS
    with_photo, kept = reports_per_second(n, with_photo=True)
    without, _ = reports_per_second(n * 10, with_photo=False)
    times, queries, items, hits = suggestion_latencies(OPEN, SUGGESTIONS)
    p50, p99 = _p(times, 0.50) * 1000, _p(times, 0.99) * 1000
    http, loaded = over_http(OPEN, HTTP_SUGGESTIONS)
    h50, h99 = _p(http, 0.50) * 1000, _p(http, 0.99) * 1000
    print(f"over HTTP with {OPEN:,} open reports in DynamoDB Local (loaded in {loaded:.0f} s): p50 {h50:.1f} ms, "
          f"p99 {h99:.1f} ms")  # fmt: skip
    print(f"reports with a 12 Mpx photo: {with_photo:,.1f}/s (photo kept: {kept / 1024:.0f} KiB); "
          f"without: {without:,.0f}/s")  # fmt: skip
    print(f"suggestions with {OPEN:,} open reports: p50 {p50:.3f} ms, p99 {p99:.3f} ms; {queries:.2f} Queries and "
          f"{items:.2f} items per suggestion; {hits} of {SUGGESTIONS:,} found one")  # fmt: skip
    rows = [
        (f"reports per second with a photo, {n:,} (a 4000×3000 JPEG of {len(phone_photo()) / 2**20:.1f} MiB with EXIF "
         "GPS: checked, re-encoded, location dropped; report, case, notice, position and photo units committed)",
         f"{with_photo:,.1f} /s"),
        ("the photo as kept (≤ 1,600 px, ≤ 350 KB: one store item)", f"{kept / 1024:.0f} KiB"),
        (f"reports per second without a photo, {n * 10:,}", f"{without:,.0f} /s"),
        (f"duplicate suggestion with {OPEN:,} open reports (10 services, the whole city), p50", f"{p50:.3f} ms"),
        (f"duplicate suggestion, p99 over {SUGGESTIONS:,} random points", f"{p99:.3f} ms"),
        (f"`GET /v1/incidents/suggestions` over HTTP, {OPEN:,} open reports in DynamoDB Local, p50 of "
         f"{HTTP_SUGGESTIONS:,} (the gateway, the kernel, the Queries)", f"{h50:.1f} ms"),
        ("the same, p99", f"{h99:.1f} ms"),
        ("`by-near` Queries per suggestion (the cells its radius touches; at most 4)", f"{queries:.2f}"),
        ("items those Queries return per suggestion (then filtered by exact distance)", f"{items:.2f}"),
    ]  # fmt: skip
    table = "\n".join(f"| {name} | {figure} |" for name, figure in rows)
    when = f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {machine()}"
    note = (
        "In process, on the unit tests' in-memory store: the use cases' and the photo's CPU. On DynamoDB a "
        "suggestion is the Queries above, each on one `by-near` key (`<service_code>#<cell>`), run one after the "
        "other: its latency is about that many Query round trips (see the latency table), independent of how many "
        "reports are open elsewhere in the city, since a key holds only the open reports of one service in one "
        "≈220 m × 210 m cell. A report is one TransactWriteItems (report, outbox rows); a photo another. The "
        "machine is shared with other sessions: compare rows of one run."
    )
    body = f"Recorded {when} (`bench/incident.py`, `python -m bench incident`).\n\n| measure | figure |\n|---|---|\n"
    record_section(TITLE, f"{TITLE}\n\n{body}{table}\n\n{note}\n")


if __name__ == "__main__":
    main(sys.argv[1:])
