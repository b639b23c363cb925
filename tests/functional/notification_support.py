"""Helpers the notification functional tests share: templates, citizens with contact points in C360,
events sent to the broker (binary and structured), and what the local sinks received."""

from __future__ import annotations

import uuid
from typing import Any

import requests

from local.harness import Platform

SYSTEM = {"sub": "svc-tributos", "role": "system"}
UPSERTED = "es.madrid.pic.citizen.record.upserted.v1"
UPDATED = "es.madrid.pic.citizen.updated.v1"
REQUESTED = "es.madrid.pic.notification.requested.v1"
ALERT = "es.madrid.pic.alert.published.v1"
TERMINAL = ("delivered", "permanent-failure", "not-allowed")

IBI = {
    "purpose": "service-notifications",
    "subject": {"es": "Su recibo del IBI de {{ year }}", "en": "Your {{ year }} property tax bill"},
    "body": {
        "es": (
            "Hola, {{ name }}. Su recibo del IBI de {{ year }} ya está en la sede electrónica. "
            "Puede pagarlo hasta el {{ due }}."
        ),
        "en": "Hello {{ name }}. Your {{ year }} property tax bill is ready. Pay it by {{ due }}.",
    },
}
IBI_VALUES = {"name": "Inés", "year": "2026", "due": "30 de noviembre"}
CAMPAIGN = {
    "purpose": "campaigns",
    "subject": {"es": "Veranos de la Villa"},
    "body": {"es": "Hola, {{ name }}. Ya puede ver el programa de los Veranos de la Villa."},
}


def system(platform: Platform) -> dict[str, str]:
    return platform.as_(SYSTEM["sub"], role="system")


def put_template(platform: Platform, template_id: str, body: dict[str, Any] = IBI) -> requests.Response:
    return platform.http.put(
        platform.url(f"/v1/templates/{template_id}"), json=body, headers=system(platform), timeout=15
    )


def fresh_template(platform: Platform, body: dict[str, Any] = IBI) -> str:
    template_id = f"t-{uuid.uuid4().hex[:10]}"
    response = put_template(platform, template_id, body)
    assert response.status_code == 201, response.text
    return template_id


def send_event(platform: Platform, type_: str, data: Any, *, source: str, event_id: str, mode: str = "binary") -> None:
    """As the system that owns ``source`` (its sender token from the dev IdP)."""
    response = platform.send_event(type_, data, source=source, event_id=event_id, mode=mode)
    assert response.status_code == 202, response.text


def citizen_with(platform: Platform, email: str | None = None, phone: str | None = None) -> str:
    """A golden record in C360 with these contact points (through the Padrón's event), its citizen id, once
    the notification domain's projection knows them (C360 announces them in ``citizen.updated``)."""
    local_id = f"PAD{uuid.uuid4().hex[:10]}"
    data = {"local_id": local_id, "given_name": "Inés", "first_surname": "Pinilla", "email": email, "phone": phone}
    send_event(platform, UPSERTED, data, source="/legacy/padron", event_id=str(uuid.uuid4()))

    def found() -> str | None:
        response = platform.http.get(
            platform.url("/v1/citizens"), params={"source": "/legacy/padron", "local_id": local_id},
            headers=system(platform), timeout=10,
        )  # fmt: skip
        return str(response.json()["citizen_id"]) if response.status_code == 200 else None

    citizen_id = str(platform.wait_for(found, timeout=20, what=f"the golden record of {local_id}"))
    wanted = {channel for channel, given in (("email", email), ("sms", phone)) if given}
    platform.wait_for(
        lambda: wanted <= set(profile(platform, citizen_id)["reachable"]), timeout=20, what="the contact points in NOT"
    )
    return citizen_id


def notify(platform: Platform, body: dict[str, Any], key: str | None = None) -> requests.Response:
    headers = system(platform)
    if key:
        headers["Idempotency-Key"] = key
    return platform.http.post(platform.url("/v1/notifications"), json=body, headers=headers, timeout=15)


def status_of(platform: Platform, notification_id: str) -> dict[str, Any]:
    response = platform.http.get(
        platform.url(f"/v1/notifications/{notification_id}"), headers=system(platform), timeout=10
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def wait_status(
    platform: Platform, notification_id: str, statuses: tuple[str, ...] = TERMINAL, timeout: float = 30
) -> dict[str, Any]:
    return dict(
        platform.wait_for(
            lambda: (s := status_of(platform, notification_id))["status"] in statuses and s,
            timeout=timeout,
            what=f"{notification_id} to reach {statuses}",
        )
    )


def sink(platform: Platform, kind: str, to: str | None = None) -> list[dict[str, Any]]:
    params: dict[str, Any] = {"limit": 1000}
    if to:
        params["to"] = to
    response = platform.http.get(platform.url(f"/dev/{kind}"), params=params, timeout=10)
    assert response.status_code == 200, response.text
    return list(response.json()["messages"])


def profile(platform: Platform, citizen_id: str) -> dict[str, Any]:
    response = platform.http.get(
        platform.url(f"/v1/citizens/{citizen_id}/notification-profile"), headers=platform.as_(citizen_id), timeout=10
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def unique_email() -> str:
    return f"ines.{uuid.uuid4().hex[:8]}@example.org"


def unique_mobile() -> str:
    return f"+346{uuid.uuid4().int % 10**8:08d}"
