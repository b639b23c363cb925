"""Functional: incidents on the public way (Avisos Madrid) through the real platform — the gateway, the kernel's policy
decision, DynamoDB Local, the broker and the outbox relay.

An Open311 client the project did not write (PyPI ``georeport`` 0.3.1, over HTTP, JSON and XML) reads the service
list, a service definition, the requests and one request; the POST, which that library does not offer, follows the
spec's own example request field by field (form-encoded, ``api_key``, ``attribute[...]``) and its answer's fields.
A citizen's report from the app with a photo (EXIF location gone), a duplicate suggested, "me too", the area's
stages to resolved, the reopening, the case/position/notice events at the broker; and bad input as the spec's error
list on Open311 and as problems on ``/v1``.
"""

from __future__ import annotations

import io
import uuid
from typing import Any
from xml.etree import ElementTree as ET

import pytest
from georeport import GeoReport
from PIL import Image

from local.harness import Platform
from tests.functional.consent_support import assert_problem, wait_for_events

pytestmark = pytest.mark.functional

LIGHT = "alumbrado-farola-apagada"
SOL = (40.41694, -3.70361)
CASE_REQUESTED = "es.madrid.pic.case.requested.v1"
POSITION = "es.madrid.pic.position.item.upserted.v1"
NOTICE = "es.madrid.pic.notification.requested.v1"
UPDATED = "es.madrid.pic.incident.updated.v1"


def call(platform: Platform, method: str, path: str, headers: dict[str, str] | None = None, **kw: Any) -> Any:
    return platform.http.request(method, platform.url(path), headers=headers or {}, timeout=15, **kw)


def agent(platform: Platform) -> dict[str, str]:
    return {
        **platform.as_("ag-alumbrado", role="agent", level=1, area="atencion-ciudadania"),
        "Access-Purpose": "AV-TEST",
    }


def jpeg_with_gps() -> bytes:
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (40.0, 25.0, 1.0), 3: "W", 4: (3.0, 42.0, 13.0)}
    out = io.BytesIO()
    Image.new("RGB", (800, 600), (30, 30, 30)).save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


@pytest.fixture(scope="module")
def api_key(platform: Platform) -> str:
    made = call(platform, "POST", "/v1/open311-clients", platform.as_("adm-avisos", role="admin"),
                json={"name": f"fixmystreet-{uuid.uuid4().hex[:6]}"})  # fmt: skip
    assert made.status_code == 201, made.text
    return str(made.json()["api_key"])


def post_form(platform: Platform, fmt: str, fields: dict[str, str], headers: dict[str, str] | None = None) -> Any:
    return call(platform, "POST", f"/open311/v2/requests.{fmt}", headers, data=fields)


def test_an_independent_open311_client_reads_what_a_third_party_posted(platform: Platform, api_key: str) -> None:
    # the spec's example POST, field by field (Madrid's service and point instead of San Francisco's)
    fields = {"api_key": api_key, "jurisdiction_id": "madrid.es", "service_code": LIGHT, "lat": "40.4238",
              "long": "-3.7122", "address_string": "Calle de la Princesa 1", "email": "smit333@example.org",
              "device_id": "tt222111", "account_id": "123456", "first_name": "john", "last_name": "smith",
              "phone": "111111111", "description": "A streetlight is out", "attribute[tipo-averia]": "apagada",
              "attribute[numero-farola]": "F-1234"}  # fmt: skip
    posted = post_form(platform, "json", fields)
    assert posted.status_code == 200 and posted.headers["Content-Type"] == "application/json; charset=utf-8"
    (answer,) = posted.json()
    assert set(answer) == {"service_request_id", "service_notice", "account_id"} and answer["account_id"] == "123456"
    request_id = answer["service_request_id"]

    for fmt in ("json", "xml"):
        client = GeoReport(platform.url("/open311/v2"), jurisdiction="madrid.es", output_format=fmt)
        services = client.get_service_list()
        assert {s["service_code"] for s in services} >= {LIGHT, "grafiti", "vehiculo-abandonado"}
        definition = client.get_service_definition(LIGHT)
        assert definition["service_code"] == LIGHT and definition["attributes"]
        found = client.get_service_request(request_id)
        assert (found["service_request_id"], found["status"], found["service_code"]) == (request_id, "open", LIGHT)
        assert "email" not in found and "phone" not in found  # the reporter's contact never shows
        listed = client.get_service_requests(service_request_id=request_id)
        listed = listed if isinstance(listed, list) else [listed]  # xmltodict: one element is not a list
        assert [r["service_request_id"] for r in listed] == [request_id]
        recent = client.get_service_requests(service_code=LIGHT, status="open")
        assert request_id in {r["service_request_id"] for r in (recent if isinstance(recent, list) else [recent])}

    found = call(platform, "GET", "/open311/discovery.json").json()  # Open311 Service Discovery
    (endpoint,) = found["endpoints"]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2" and endpoint["url"].endswith(
        "/open311/v2"
    )
    discovery = ET.fromstring(call(platform, "GET", "/open311/discovery.xml").content)
    assert discovery.find("endpoints/endpoint/formats/format").text == "text/xml"  # type: ignore[union-attr]
    xml = call(platform, "GET", f"/open311/v2/requests/{request_id}.xml")
    assert xml.headers["Content-Type"] == "text/xml; charset=utf-8" and xml.content.startswith(b"<?xml")
    assert ET.fromstring(xml.content).find("request/lat").text == "40.4238"  # type: ignore[union-attr]
    assert platform.events(CASE_REQUESTED, request_id) == []  # a third party's report stays in the domain


def test_open311_refusals_are_the_specs_error_list(platform: Platform, api_key: str) -> None:
    base = {"service_code": LIGHT, "lat": str(SOL[0]), "long": str(SOL[1]), "attribute[tipo-averia]": "apagada"}
    cases = [
        ({**base}, 403, "api_key"),
        ({**base, "api_key": "not-registered"}, 403, "not registered"),
        ({**base, "api_key": api_key, "service_code": "no-such"}, 404, "no-such"),
        ({**base, "api_key": api_key, "lat": "41.3874", "long": "2.1686"}, 400, "outside"),  # Barcelona
        ({"api_key": api_key, "lat": "40.4"}, 400, "service_code"),
        ({**base, "api_key": api_key, "attribute[tipo-averia]": ""}, 400, "tipo-averia"),
    ]
    for fields, status, words in cases:
        refused = post_form(platform, "json", fields)
        assert refused.status_code == status, refused.text
        (error,) = refused.json()
        assert error["code"] == status and words in error["description"], error
    xml = post_form(platform, "xml", base)
    root = ET.fromstring(xml.content)
    assert (xml.status_code, root.tag, root.find("error/code").text) == (403, "errors", "403")  # type: ignore[union-attr]
    assert call(platform, "GET", "/open311/v2/requests/AV-2026-00000000.json").json()[0]["code"] == 404
    assert call(platform, "GET", "/open311/v2/requests.json?start_date=yesterday").status_code == 400
    span = call(
        platform, "GET", "/open311/v2/requests.json?start_date=2026-01-01T00:00:00Z&end_date=2026-06-01T00:00:00Z"
    )
    assert span.status_code == 400 and "90 days" in span.json()[0]["description"]
    assert call(platform, "GET", "/open311/v2/services.json?jurisdiction_id=sfgov.org").status_code == 404


def test_a_citizens_streetlight_report_from_photo_to_resolved_and_reopened(platform: Platform) -> None:
    ana, bea = f"c-{uuid.uuid4().hex[:10]}", f"c-{uuid.uuid4().hex[:10]}"
    lat, lon = 40.4301 + (uuid.uuid4().int % 1000) * 1e-5, -3.6802
    report = {"service_code": LIGHT, "lat": lat, "long": lon, "description": "La farola no enciende",
              "attributes": {"tipo-averia": "apagada"}}  # fmt: skip
    made = call(platform, "POST", "/v1/incidents", platform.as_(ana), json=report)
    assert made.status_code == 201, made.text
    incident = made.json()
    incident_id = incident["service_request_id"]
    assert (incident["stage"], incident["typology"]["area"], incident["reiterations"]) == ("received", "via-publica", 0)

    photo = call(platform, "POST", f"/v1/incidents/{incident_id}/photos", {**platform.as_(ana), "Content-Type":
                 "image/jpeg"}, data=jpeg_with_gps())  # fmt: skip
    assert photo.status_code == 201 and len(photo.json()["photos"]) == 1, photo.text
    image = call(platform, "GET", f"/v1/incidents/{incident_id}/photos/1")
    assert image.headers["Content-Type"] == "image/jpeg"
    assert 0x8825 not in Image.open(io.BytesIO(image.content)).getexif()  # the location is gone
    other = call(platform, "POST", f"/v1/incidents/{incident_id}/photos", {**platform.as_(bea), "Content-Type":
                 "image/jpeg"}, data=jpeg_with_gps())  # fmt: skip
    assert_problem(other, 403)  # only its reporter adds photos
    not_image = call(platform, "POST", f"/v1/incidents/{incident_id}/photos", {**platform.as_(ana), "Content-Type":
                     "image/jpeg"}, data=b"%PDF-1.7")  # fmt: skip
    assert_problem(not_image, 422, "incident-photo-invalid")

    near = call(platform, "GET", f"/v1/incidents/suggestions?service_code={LIGHT}&lat={lat + 0.0001}&long={lon}")
    assert [s["service_request_id"] for s in near.json()["suggestions"]] == [incident_id], near.text
    me_too = call(platform, "POST", f"/v1/incidents/{incident_id}/me-too", platform.as_(bea))
    assert me_too.status_code == 200 and me_too.json()["reiterations"] == 1, me_too.text
    assert_problem(call(platform, "POST", f"/v1/incidents/{incident_id}/me-too", platform.as_(bea)), 409)

    for stage, note in (("in-progress", "Brigada avisada"), ("resolved", "Lámpara cambiada")):
        moved = call(platform, "POST", f"/v1/incidents/{incident_id}/stage", agent(platform),
                     json={"stage": stage, "note": note})  # fmt: skip
        assert moved.status_code == 200 and moved.json()["stage"] == stage, moved.text
    assert_problem(call(platform, "POST", f"/v1/incidents/{incident_id}/stage", platform.as_(ana),
                        json={"stage": "rejected"}), 403)  # fmt: skip
    public = call(platform, "GET", f"/open311/v2/requests/{incident_id}.json").json()[0]
    assert (public["status"], public["status_notes"]) == ("closed", "Lámpara cambiada")

    assert_problem(call(platform, "POST", f"/v1/incidents/{incident_id}/reopen", platform.as_(bea),
                        json={"note": "Sigue apagada"}), 403)  # fmt: skip
    reopened = call(platform, "POST", f"/v1/incidents/{incident_id}/reopen", platform.as_(ana),
                    json={"note": "Sigue apagada"})  # fmt: skip
    assert reopened.status_code == 200 and reopened.json()["status"] == "open", reopened.text

    (case,) = wait_for_events(platform, CASE_REQUESTED, incident_id)
    assert (case["data"]["request_id"], case["data"]["category"]) == (incident_id, "aviso-alumbrado")
    wait_for_events(platform, UPDATED, incident_id, count=5)  # photo, me too, two stages, reopened
    stages = platform.wait_for(  # the relay publishes in order, but the read may come between two of them
        lambda: (seen := {e["data"]["status"] for e in platform.events(POSITION, ana)}) >= {"resolved", "reopened"}
        and seen, what="the reporter's position resolved, then reopened")  # fmt: skip
    assert stages >= {"received", "in-progress", "resolved", "reopened"}, stages
    notified = wait_for_events(platform, NOTICE, bea, count=3)  # the follower is told of each stage
    assert {e["data"]["template"] for e in notified} == {"pic-incident-status"}
    mine = call(platform, "GET", f"/v1/citizens/{bea}/incidents", platform.as_(bea)).json()["incidents"]
    assert [(i["service_request_id"], i["role"]) for i in mine] == [(incident_id, "follower")]


def test_app_refusals_are_problems(platform: Platform) -> None:
    ana = f"c-{uuid.uuid4().hex[:10]}"
    outside = call(
        platform,
        "POST",
        "/v1/incidents",
        platform.as_(ana),
        json={"service_code": LIGHT, "lat": 40.3, "long": -3.73, "attributes": {"tipo-averia": "apagada"}},
    )
    assert_problem(outside, 422, "incident-outside-city")  # Getafe  # fmt: skip
    unknown = call(platform, "POST", "/v1/incidents", platform.as_(ana),
                   json={"service_code": "no-such", "lat": SOL[0], "long": SOL[1]})  # fmt: skip
    assert_problem(unknown, 404, "incident-service-unknown")
    assert_problem(call(platform, "POST", "/v1/incidents", json={"service_code": LIGHT, "lat": 1, "long": 1}), 401)
    assert_problem(call(platform, "GET", "/v1/incidents/AV-2026-00000000"), 404, "incident-not-found")
