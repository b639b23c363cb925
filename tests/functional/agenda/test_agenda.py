"""Events near me on the real platform (DynamoDB Local, the broker, the functions over HTTP through the gateway):
the council's agenda file ingested once (the same file again changes nothing), events near a point by H3 cells and
exact distance, one event as iCalendar, and a person whose home comes from a real ``citizen.updated``, who chooses a
work place once they consent to location (``consent.changed``), sees the events near each zone and exports their
personal agenda; bad input answers problems."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import icalendar
import pytest

from local.harness import Platform

pytestmark = pytest.mark.functional

DATA = Path(__file__).resolve().parents[3] / "functions" / "agenda" / "data"
MATADERO = {"lat": 40.3920, "lon": -3.6975}


def system(platform: Platform) -> dict[str, str]:
    return platform.as_("svc-agenda-loader", role="system")


def ingest(platform: Platform, body: dict[str, Any]) -> Any:
    return platform.http.post(platform.url("/v1/agenda/ingests"), json=body, headers=system(platform), timeout=60)


def sample(platform: Platform) -> dict[str, Any]:
    """The shipped sample, ingested (by make run's start or by this call: the same file, the same report)."""
    done = ingest(platform, {"source": "agenda-sample.json", "content": (DATA / "agenda-sample.json").read_text()})
    assert done.status_code in (200, 201), done.text
    return dict(done.json())


def test_the_agenda_file_is_ingested_once_with_every_record_accounted_for(platform: Platform) -> None:
    # WHEN the sample file is ingested, and again
    first, again = sample(platform), sample(platform)
    # THEN 63 records: 57 loaded, 6 refused each with its reason, and the second time nothing changes
    assert (first["records"], first["loaded"] + first["unchanged"], len(first["rejected"])) == (63, 57, 6)
    assert again["replayed"] is True and again["ingest_id"] == first["ingest_id"]
    assert {"record": "@graph[52]", "id": "50439009", "reason": "no title"} in again["rejected"]
    report = platform.http.get(platform.url(f"/v1/agenda/ingests/{first['ingest_id']}"), headers=system(platform),
                               timeout=15)  # fmt: skip
    assert report.status_code == 200 and report.json()["records"] == 63
    # AND the CSV variant (windows-1252, base64) loads, a bad record reported; a file that is not the agenda: 422
    csv = base64.b64encode((DATA / "agenda-sample.csv").read_bytes()).decode()
    done = ingest(platform, {"source": "agenda.csv", "format": "csv", "content_base64": csv})
    assert done.status_code in (200, 201) and done.json()["rejected"][0]["reason"] == "no dtstart"
    bad = ingest(platform, {"source": "x.json", "content": '{"data": []}'})
    assert bad.status_code == 422 and bad.json()["type"] == "/problems/agenda-file-unreadable"
    # AND a citizen may not load the council's agenda
    refused = platform.http.post(platform.url("/v1/agenda/ingests"), json={"source": "x", "content": "{}"},
                                 headers=platform.as_("c-not-council"), timeout=15)  # fmt: skip
    assert refused.status_code == 403


def test_events_near_a_point_by_cells_and_exact_distance_and_one_as_icalendar(platform: Platform) -> None:
    sample(platform)
    # WHEN anyone (no sign-in) asks for the events within 1 km of Matadero Madrid
    found = platform.http.get(platform.url("/v1/agenda/events"), params={**MATADERO, "radius_m": 1000}, timeout=15)
    assert found.status_code == 200, found.text
    events = found.json()["events"]
    # THEN Matadero's events, each within the radius, soonest first
    assert events and {e["venue"] for e in events} == {"Matadero Madrid"}
    assert all(e["distance_m"] <= 1000 for e in events)
    assert [e["next_start"] for e in events] == sorted(e["next_start"] for e in events)
    paid = platform.http.get(platform.url("/v1/agenda/events"), params={**MATADERO, "radius_m": 5000, "free": "false"},
                             timeout=15).json()["events"]  # fmt: skip
    assert paid and all(not e["free"] for e in paid)
    # AND one of them as an iCalendar file (RFC 5545)
    ics = platform.http.get(platform.url(f"/v1/agenda/events/{events[0]['id']}/ical"), timeout=15)
    assert ics.status_code == 200 and ics.headers["Content-Type"].startswith("text/calendar")
    [vevent] = icalendar.Calendar.from_ical(ics.content).walk("VEVENT")
    assert str(vevent["summary"]) == events[0]["title"]
    # AND bad input: outside Madrid, a window over 100 days, a missing point, an unknown event
    outside = platform.http.get(platform.url("/v1/agenda/events"), params={"lat": 40.3057, "lon": -3.7329}, timeout=15)
    assert outside.status_code == 422 and outside.json()["type"] == "/problems/zone-outside-madrid"
    long = {**MATADERO, "from": "2027-01-01", "to": "2027-06-01"}
    assert platform.http.get(platform.url("/v1/agenda/events"), params=long, timeout=15).status_code == 422
    assert platform.http.get(platform.url("/v1/agenda/events"), params={"lat": 40.4}, timeout=15).status_code == 422
    assert platform.http.get(platform.url("/v1/agenda/events/none-such"), timeout=15).status_code == 404


def _padron(platform: Platform, cid: str, barrio: str) -> None:
    data = {"citizen_id": cid, "link": {"source": "/legacy/padron", "local_id": f"P{cid}", "change": "added"},
            "match": {"method": "new", "score": 1.0, "evidence": []},
            "updated_at": (datetime.now(UTC) - timedelta(minutes=1)).isoformat(),
            "profile": {"district": barrio[:2], "barrio": barrio}}  # fmt: skip
    assert platform.send_event("es.madrid.pic.citizen.updated.v1", data, source="/pic/citizen",
                               subject=cid).status_code == 202  # fmt: skip


def _location_consent(platform: Platform, cid: str, granted: bool) -> None:
    data = {"citizen_id": cid, "purpose": "location", "before": {"granted": not granted},
            "after": {"granted": granted, "text_version": "2026-01"}, "mode": "a", "proof_id": f"p-{cid}",
            "actor": {"kind": "citizen", "id": cid}, "capture_channel": "web", "language": "es",
            "text_sha256": None, "changed_at": datetime.now(UTC).isoformat()}  # fmt: skip
    assert platform.send_event("es.madrid.pic.consent.changed.v1", data, source="/pic/consent",
                               subject=cid).status_code == 202  # fmt: skip


def test_a_person_sees_events_near_home_and_work_and_exports_their_agenda(platform: Platform, citizen_id: str) -> None:
    sample(platform)
    me = platform.as_(citizen_id)
    zones_url = platform.url(f"/v1/citizens/{citizen_id}/agenda/zones")

    def zones() -> dict[str, Any]:
        return dict(platform.http.get(zones_url, headers=me, timeout=15).json())

    # GIVEN the Padrón registers the person in Sol (016), as C360 announces
    _padron(platform, citizen_id, "016")
    home = platform.wait_for(lambda: zones()["zones"] or None, what="home projected from citizen.updated")
    assert home[0]["kind"] == "home" and home[0]["barrio"] == "016"
    # WHEN they choose a work place without the location consent: refused
    work = {"kind": "work", "label": "Matadero", **MATADERO, "radius_m": 1000}
    body = {"revision": zones()["revision"], "zones": [work]}
    refused = platform.http.put(zones_url, json=body, headers=me, timeout=15)
    assert refused.status_code == 409 and refused.json()["type"] == "/problems/location-consent-required"
    # GIVEN they consent to location (CON announces it)
    _location_consent(platform, citizen_id, True)
    platform.wait_for(lambda: zones()["location_consent"], what="the location consent projected")
    chosen = platform.http.put(zones_url, json={**body, "revision": zones()["revision"]}, headers=me, timeout=15)
    assert chosen.status_code == 200, chosen.text
    assert [z["kind"] for z in chosen.json()["zones"]] == ["home", "work"]

    # THEN the zones they share are announced, and the events near each zone come grouped
    def shared() -> list[list[str]]:
        found = platform.events("es.madrid.pic.zones.changed.v1", citizen_id)
        return [[z["kind"] for z in e["data"]["zones"]] for e in reversed(found)]  # oldest first

    # (home alone once she consented, then home and work)
    announced = platform.wait_for(lambda: shared() if len(shared()) == 2 else None, what="zones.changed twice")
    assert announced == [["home"], ["home", "work"]]
    agenda = platform.http.get(platform.url(f"/v1/citizens/{citizen_id}/agenda"), headers=me, timeout=15).json()
    groups = {g["zone"]["kind"]: g["events"] for g in agenda["groups"]}
    assert groups["home"] and "Matadero Madrid" in {e["venue"] for e in groups["work"]}
    # WHEN they save one event and export their personal agenda
    event_id = groups["work"][0]["id"]
    saved = platform.http.put(platform.url(f"/v1/citizens/{citizen_id}/agenda/saved/{event_id}"), headers=me,
                              timeout=15)  # fmt: skip
    assert saved.status_code == 200
    ics = platform.http.get(platform.url(f"/v1/citizens/{citizen_id}/agenda/saved/ical"), headers=me, timeout=15)
    assert [str(v["uid"]) for v in icalendar.Calendar.from_ical(ics.content).walk("VEVENT")] == [
        f"{event_id}@agenda.pic.madrid.es"
    ]
    # AND another citizen may not read this person's agenda
    other = platform.http.get(platform.url(f"/v1/citizens/{citizen_id}/agenda"), headers=platform.as_("c-other"),
                              timeout=15)  # fmt: skip
    assert other.status_code == 403
