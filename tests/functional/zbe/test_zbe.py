"""ZBE authorisations on the real platform (DynamoDB Local, the broker, the real ``policies/zbe``, the functions over
HTTP through the gateway): Movilidad's ``vehicle.registered`` gives the label; a resident of Centro with their own
car is granted at once (the wallet then offers the ``zbe`` card, the position shows the permit); a plate in no
Spanish format is a problem; a guest's application waits in the desk's queue until an agent approves it; the
cameras' system reads both plates (JSON and CSV) and a citizen may not."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests

from local.harness import Platform

pytestmark = pytest.mark.functional

REGISTERED = "es.madrid.pic.vehicle.registered.v1"
DECIDED = "es.madrid.pic.zbe.authorisation.decided.v1"
PURPOSE = {"Access-Purpose": "ZBE-REVISION-2026-12"}


def plate() -> str:
    """A fresh current-format plate (four digits, three consonants), so reruns never collide."""
    digits = f"{uuid.uuid4().int % 10000:04d}"
    letters = "".join("BCDFGHJKLMNPRSTVWXYZ"[(uuid.uuid4().int >> (5 * i)) % 20] for i in range(3))
    return digits + letters


def register(platform: Platform, plate: str, label: str, holder: str, district: str) -> None:
    data = {"plate": plate, "label": label, "citizen_id": holder, "district": district,
            "as_of": datetime.now(UTC).isoformat()}  # fmt: skip
    assert platform.send_event(REGISTERED, data, source="/legacy/movilidad", subject=plate).status_code == 202


def apply(platform: Platform, cid: str, body: dict[str, Any]) -> requests.Response:
    url = platform.url(f"/v1/citizens/{cid}/zbe/applications")
    return platform.http.post(url, headers=platform.as_(cid), json=body, timeout=15)


def apply_once_projected(platform: Platform, cid: str, body: dict[str, Any]) -> dict[str, Any]:
    """Apply as soon as Movilidad's vehicle is projected (before, the answer is 422 zbe-vehicle-unknown)."""

    def attempt() -> dict[str, Any] | None:
        got = apply(platform, cid, body)
        if got.status_code == 422 and got.json()["type"] == "/problems/zbe-vehicle-unknown":
            return None
        assert got.status_code == 201, got.text
        return got.json()  # type: ignore[no-any-return]

    return platform.wait_for(attempt, what="the vehicle projected and the application stored")  # type: ignore[no-any-return]


def test_zbe_from_the_vehicle_fact_to_the_cameras_plate_list(
    platform: Platform, citizen_id: str, tmp_path: Path
) -> None:
    ana, luis = citizen_id, f"{citizen_id}-guest"
    own, guest = plate(), plate()
    # GIVEN Movilidad registers Ana's label-B car at an address in Centro, and a label-C car held by someone else
    register(platform, own, "B", ana, "01")
    register(platform, guest, "C", "c-host", "05")
    # WHEN Ana applies as a resident of Distrito Centro (plate written with a space, lower case)
    app = apply_once_projected(platform, ana, {"plate": f"{own[:4]} {own[4:].lower()}", "zone": "distrito-centro",
                                               "category": "residente"})  # fmt: skip
    # THEN granted at once by the rules, for a year, with the reason in both languages
    assert app["state"] == "granted" and app["decided_by"] == "policy" and app["plate"] == own
    assert app["reasons"][0]["code"] == "automatic" and app["reasons"][0]["en"]
    # AND the wallet offers her the zbe card (card.granted from /pic/zbe) and the position lists the permit
    me = platform.as_(ana)

    def zbe_card() -> dict[str, Any] | None:
        found = platform.http.get(platform.url(f"/v1/citizens/{ana}/wallet/cards"), headers=me, timeout=15)
        card = next(c for c in found.json()["cards"] if c["type"] == "zbe")
        return card if card["eligible"] else None

    assert platform.wait_for(zbe_card, what="the wallet's zbe card eligible")["eligible"] is True

    def permit() -> dict[str, Any] | None:
        found = platform.http.get(platform.url(f"/v1/citizens/{ana}/position"), headers=me, timeout=15)
        section = next(s for s in found.json()["sections"] if s["section"] == "permits")
        return next((i for i in section.get("items") or [] if i.get("status") == "granted"), None)

    assert platform.wait_for(permit, what="the permit in the position") is not None
    # AND her page lists it
    mine = platform.http.get(platform.url(f"/v1/citizens/{ana}/zbe/applications"), headers=me, timeout=15)
    assert [a["id"] for a in mine.json()["applications"]] == [app["id"]]

    # WHEN a plate in no Spanish format is sent THEN a problem naming the formats, nothing stored
    bad = apply(platform, ana, {"plate": "1234 AEI", "zone": "distrito-centro", "category": "residente"})
    assert bad.status_code == 422 and bad.headers["Content-Type"].startswith("application/problem+json")
    assert bad.json()["type"] == "/problems/zbe-invalid-plate" and "0000 BBB" in bad.json()["detail"]

    # WHEN Luis applies as a guest for the label-C car THEN it waits for an agent's review
    pending = apply_once_projected(platform, luis, {"plate": guest, "zone": "distrito-centro", "category": "invitado",
                                                    "note": "Invitado por c-host"})  # fmt: skip
    assert pending["state"] == "pending-review"
    agent = {**platform.as_("a-movilidad-1", role="agent", level=2, area="movilidad"), **PURPOSE}
    queue = platform.http.get(platform.url("/v1/zbe/review-queue"), headers=agent, timeout=15)
    assert queue.status_code == 200, queue.text
    assert pending["id"] in [a["id"] for a in queue.json()["applications"]]
    assert platform.http.get(platform.url("/v1/zbe/review-queue"), headers=me, timeout=15).status_code == 403
    # WHEN the agent approves it, with a reason THEN granted for the day, decided by an agent, announced
    decide = platform.url(f"/v1/zbe/applications/{pending['id']}/decision")
    approve = {"decision": "approve", "reason": "Invitación comprobada"}
    approved = platform.http.post(decide, headers=agent, json=approve, timeout=15)
    assert approved.status_code == 200, approved.text
    assert approved.json()["state"] == "granted" and approved.json()["valid_from"] == approved.json()["valid_until"]
    again = platform.http.post(decide, headers=agent, json={"decision": "refuse", "reason": "otra vez"}, timeout=15)
    assert again.status_code == 409 and again.json()["type"] == "/problems/zbe-not-pending"
    assert platform.wait_for(lambda: platform.events(DECIDED, subject=luis), what="zbe.authorisation.decided")

    # WHEN the cameras' system reads the plate list THEN both plates, as JSON and as CSV; a citizen may not
    cameras = platform.as_("svc-movilidad-camaras", role="system")
    listed = platform.http.get(platform.url("/v1/zbe/plates"), headers=cameras, timeout=15)
    assert listed.status_code == 200, listed.text
    rows = {r["plate"]: r for r in listed.json()["plates"]}
    assert rows[own]["category"] == "residente" and rows[guest]["category"] == "invitado"
    assert set(rows[own]) == {"plate", "zone", "category", "valid_from", "valid_until"}  # least data: no person
    as_csv = platform.http.get(platform.url("/v1/zbe/plates"), headers={**cameras, "Accept": "text/csv"}, timeout=15)
    assert as_csv.headers["Content-Type"].startswith("text/csv")
    assert {r["plate"] for r in csv.DictReader(io.StringIO(as_csv.text))} >= {own, guest}
    assert platform.http.get(platform.url("/v1/zbe/plates"), headers=me, timeout=15).status_code == 403
    # AND the same list as a file, exported by an operator against the platform's store
    store = {"PIC_DYNAMODB_ENDPOINT": platform.dynamodb_endpoint(), "AWS_ACCESS_KEY_ID": "local",
             "AWS_SECRET_ACCESS_KEY": "local", "AWS_REGION": os.environ.get("AWS_REGION", "eu-south-2")}  # fmt: skip
    out = tmp_path / "zbe-plates.csv"
    exported = subprocess.run(
        [sys.executable, "-m", "functions.zbe.export", "--out", str(out), "--reader", "op-1", "--purpose", "carga"],
        env={**os.environ, **store}, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert exported.returncode == 0, exported.stderr
    assert {r["plate"] for r in csv.DictReader(io.StringIO(out.read_text(encoding="utf-8")))} >= {own, guest}
