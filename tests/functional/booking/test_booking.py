"""Bookings on the real platform (DynamoDB Local, the broker, PAY and the functions over HTTP through the gateway):
a padel court booked by a Padrón resident is held as a precio público in PAY, paid by card (a signed Redsys
notification) and confirmed by PAY's ``tax.receipt.paid``; twenty people at once for the last table: exactly one
place, the others ``slot-full``; the waiting list is promoted on a cancellation (and the promoted person told
through NOT); bad input is a typed problem that writes nothing."""

from __future__ import annotations

import json
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from functions.payment import redsys
from local.harness import Platform

pytestmark = pytest.mark.functional

UPDATED = "es.madrid.pic.citizen.updated.v1"
CONFIRMED = "es.madrid.pic.booking.confirmed.v1"
NOTICE = "es.madrid.pic.notification.requested.v1"
MERCHANT = redsys.Merchant.test()  # make run's default terminal: Redsys's public test merchant
RACERS = 20


def resident(platform: Platform, born: str = "1985-05-01") -> str:
    """A fresh golden record registered in Madrid's Padrón (district 09), as C360 announces it."""
    cid = f"c-bk-{uuid.uuid4().hex[:10]}"
    updated = {
        "citizen_id": cid,
        "link": {"source": "/legacy/padron", "local_id": f"P{cid}", "change": "added"},
        "match": {"method": "new", "score": 1.0, "evidence": []},
        "updated_at": (datetime.now(UTC) - timedelta(minutes=1)).isoformat(),
        "profile": {"birth_date": born, "district": "09"},
    }
    assert platform.send_event(UPDATED, updated, source="/pic/citizen", subject=cid).status_code == 202
    return cid


def first_free(platform: Platform, resource_id: str) -> str:
    listed = platform.http.get(platform.url(f"/v1/bookings/resources/{resource_id}/slots"), timeout=15)
    assert listed.status_code == 200, listed.text
    return next(s["slot_id"] for s in listed.json()["slots"] if s["free"] > 0)


def book(platform: Platform, cid: str, slot_id: str, waitlist: bool = False, **extra: Any) -> requests.Response:
    headers = {**platform.as_(cid), "Idempotency-Key": str(uuid.uuid4())}
    body = {"slot_id": slot_id, "waitlist": waitlist, **extra}
    return platform.http.post(platform.url(f"/v1/citizens/{cid}/bookings"), json=body, headers=headers, timeout=30)


def booking(platform: Platform, cid: str, booking_id: str) -> dict[str, Any]:
    found = platform.http.get(platform.url(f"/v1/citizens/{cid}/bookings/{booking_id}"), headers=platform.as_(cid),
                              timeout=15)  # fmt: skip
    assert found.status_code == 200, found.text
    return found.json()  # type: ignore[no-any-return]


def book_when_projected(platform: Platform, cid: str, slot_id: str) -> dict[str, Any]:
    """Book once the Padrón facts arrived (before that, an age-limited resource is refused: age unknown)."""

    def attempt() -> dict[str, Any] | None:
        made = book(platform, cid, slot_id)
        if made.status_code == 422 and made.json()["type"].endswith("/booking-not-allowed"):
            return None
        assert made.status_code == 201, made.text
        return made.json()  # type: ignore[no-any-return]

    return platform.wait_for(attempt, what="the resident's facts projected")  # type: ignore[no-any-return]


def test_a_resident_books_a_court_pays_it_through_pay_and_it_is_confirmed(platform: Platform) -> None:
    # GIVEN a resident and the first free padel court slot (one place, 11.80 EUR)
    cid = resident(platform)
    slot_id = first_free(platform, "padel-casa-de-campo")
    # WHEN they book it
    held = book_when_projected(platform, cid, slot_id)
    # THEN the place is held for payment, as a precio público receipt PAY knows
    assert held["state"] == "held" and held["payment"]["amount_cents"] == 1180
    debt_id = held["payment"]["debt_id"]

    def debt() -> dict[str, Any] | None:
        found = platform.http.get(platform.url(f"/v1/citizens/{cid}/debts"), headers=platform.as_(cid), timeout=15)
        return next((d for d in found.json()["debts"] if d["id"] == debt_id), None)

    owed = platform.wait_for(debt, what="PAY's debt of the booking")
    assert owed["due"]["amount_due_cents"] == 1180
    # WHEN they pay it by card and Redsys's signed notification approves it
    headers = {**platform.as_(cid), "Idempotency-Key": str(uuid.uuid4())}
    made = platform.http.post(platform.url("/v1/payments"), json={"debt_ids": [debt_id], "method": "card"},
                              headers=headers, timeout=30)  # fmt: skip
    assert made.status_code == 201, made.text
    payment = made.json()
    form = redsys.notification_form(MERCHANT, payment["order"], 1180, 0, authorisation_code="183947")
    assert platform.http.post(platform.url("/v1/payments/redsys/notifications"), data=form, timeout=30).ok
    # THEN PAY's tax.receipt.paid confirms the booking, announced for REC with the fields it needs
    done = platform.wait_for(lambda: booking(platform, cid, held["booking_id"])["state"] == "confirmed" or None,
                             what="the booking confirmed by the payment")  # fmt: skip
    assert done is True
    confirmed = platform.wait_for(lambda: platform.events(CONFIRMED, subject=cid), what="booking.confirmed")
    data = confirmed[0]["data"]
    facts = (data["via"], data["kind"], data["category"], data["district"])
    assert facts == ("paid", "sports-facility", "deporte", "09")
    # AND the slot shows no free place
    listed = platform.http.get(platform.url("/v1/bookings/resources/padel-casa-de-campo/slots"), timeout=15).json()
    assert next(s for s in listed["slots"] if s["slot_id"] == slot_id)["free"] == 0


def test_of_twenty_people_at_once_for_the_last_table_exactly_one_gets_it(platform: Platform) -> None:
    # GIVEN a table-tennis slot (one place, no age band: non-residents within 48 hours may book)
    slot_id = first_free(platform, "tenis-de-mesa-moratalaz")
    people = [f"c-race-{uuid.uuid4().hex[:10]}" for _ in range(RACERS)]
    # WHEN twenty people book it at the same time
    with ThreadPoolExecutor(RACERS) as pool:
        answers = list(pool.map(lambda cid: book(platform, cid, slot_id), people))
    # THEN exactly one place is given; everyone else is told the slot is full (a typed problem, never a 500)
    codes = sorted(a.status_code for a in answers)
    assert codes == [201] + [409] * (RACERS - 1), [a.text for a in answers if a.status_code not in (201, 409)]
    assert all(a.json()["type"].endswith("/slot-full") for a in answers if a.status_code == 409)
    winner = next(cid for cid, a in zip(people, answers, strict=True) if a.status_code == 201)
    won = next(a.json() for a in answers if a.status_code == 201)
    # AND one of them joins the waiting list; when the winner cancels, the place is theirs and they are told
    waiter = next(cid for cid in people if cid != winner)
    queued = book(platform, waiter, slot_id, waitlist=True)
    assert queued.status_code == 201 and queued.json()["state"] == "waiting", queued.text
    cancel = platform.http.post(
        platform.url(f"/v1/citizens/{winner}/bookings/{won['booking_id']}/cancel"),
        headers={**platform.as_(winner), "Idempotency-Key": str(uuid.uuid4())}, timeout=30,
    )  # fmt: skip
    assert cancel.status_code == 200 and cancel.json()["state"] == "cancelled", cancel.text
    assert booking(platform, waiter, queued.json()["booking_id"])["state"] == "confirmed"
    told = platform.wait_for(
        lambda: [e for e in platform.events(NOTICE, subject=waiter) if e["data"]["template"] == "pic-booking-promoted"],
        what="the promoted person told through NOT",
    )  # fmt: skip
    assert told[0]["source"] == "/pic/booking"
    # AND every event the bookings emitted for them was taken by its subscribers (NOT accepted the notices)
    platform.settle(waiter, winner, timeout=20)
    assert not [d for d in platform.deadletters() if waiter in json.dumps(d) or winner in json.dumps(d)]


def test_bad_input_is_a_typed_problem_and_writes_nothing(platform: Platform) -> None:
    cid = resident(platform, born="1990-01-01")
    cases = {
        "no such start": (book(platform, cid, "piscina-barcelo.209901011930"), 404, "slot-not-found"),
        "years ahead": (book(platform, cid, "piscina-barcelo.209901011900"), 422, "slot-not-bookable"),
        "not a slot name": (book(platform, cid, "the pool please"), 404, "slot-not-found"),
        "unknown field": (book(platform, cid, first_free(platform, "piscina-barcelo"), seats=3), 422, "validation"),
    }
    # an adult at the children's swimming class (ages 6 to 12): the age rule refuses, naming it
    kids = first_free(platform, "natacion-infantil-vicente-del-bosque")
    refused = platform.wait_for(
        lambda: (r := book(platform, cid, kids)).status_code == 422
        and any(x["key"] == "age" and x["met"] is False for x in r.json().get("reasons", [])) and r.json(),
        what="the age rule's refusal",
    )  # fmt: skip
    assert refused["type"].endswith("/booking-not-allowed")
    for name, (answer, status, slug) in cases.items():
        assert answer.status_code == status, (name, answer.text)
        assert answer.headers["Content-Type"].startswith("application/problem+json"), name
        assert answer.json()["type"].endswith(f"/{slug}"), (name, answer.json())
    mine = platform.http.get(platform.url(f"/v1/citizens/{cid}/bookings"), headers=platform.as_(cid), timeout=15)
    assert mine.status_code == 200 and mine.json()["bookings"] == []
    missing = platform.http.get(platform.url("/v1/bookings/resources/no-such-pool/slots"), timeout=15)
    assert missing.status_code == 404 and missing.json()["type"].endswith("/resource-not-found")
