"""Functional: contact preferences and alert subscriptions of the consent capability, over real HTTP."""

from __future__ import annotations

import pytest

from local.harness import Platform
from tests.functional.consent_support import (
    PREFERENCES_CHANGED,
    SUBSCRIPTION_CHANGED,
    assert_problem,
    citizen_url,
    field_names,
    settle,
    wait_for_events,
)

pytestmark = pytest.mark.functional

NIGHT_OWL = {"language": "en", "channels": ["push", "email"], "quiet_hours": {"start": "22:00", "end": "08:00"}}


def test_preferences_default_to_spanish_without_quiet_hours(platform: Platform, citizen_id: str) -> None:
    # GIVEN a citizen who never set preferences

    # WHEN they read them
    response = platform.http.get(citizen_url(platform, citizen_id, "/preferences"), headers=platform.as_(citizen_id))

    # THEN Spanish, no preferred channels, no quiet hours, Madrid's time zone
    assert response.status_code == 200, response.text
    assert response.json() == {"language": "es", "channels": [], "quiet_hours": None, "timezone": "Europe/Madrid"}


def test_preferences_with_quiet_hours_across_midnight_are_stored_and_announced_once(
    platform: Platform, citizen_id: str
) -> None:
    # GIVEN a citizen with default preferences
    me = platform.as_(citizen_id)
    url = citizen_url(platform, citizen_id, "/preferences")

    # WHEN they choose English, push then e-mail, and quiet hours 22:00-08:00 (sent twice: a retry)
    first = platform.http.put(url, json=NIGHT_OWL, headers=me)
    again = platform.http.put(url, json=NIGHT_OWL, headers=me)

    # THEN they read back exactly that, and one preferences.changed event says before and after
    assert first.status_code == 200, first.text
    assert again.status_code == 200, again.text
    stored = platform.http.get(url, headers=me).json()
    assert stored == {**NIGHT_OWL, "timezone": "Europe/Madrid"}
    (event,) = wait_for_events(platform, PREFERENCES_CHANGED, citizen_id)
    assert event["data"]["before"]["quiet_hours"] is None
    assert event["data"]["after"]["quiet_hours"] == {"start": "22:00", "end": "08:00"}
    assert event["data"]["after"]["channels"] == ["push", "email"]
    assert event["data"]["actor"]["id"] == citizen_id
    settle(platform)
    assert len(platform.events(PREFERENCES_CHANGED, citizen_id)) == 1


def test_a_quiet_hour_that_is_not_a_time_is_refused_naming_the_field(platform: Platform, citizen_id: str) -> None:
    # GIVEN a citizen
    me = platform.as_(citizen_id)
    url = citizen_url(platform, citizen_id, "/preferences")

    # WHEN they send quiet hours starting at 25:00
    response = platform.http.put(url, json={"quiet_hours": {"start": "25:00", "end": "08:00"}}, headers=me)

    # THEN 422 naming quiet_hours.start, and the preferences are unchanged
    problem = assert_problem(response, 422, "validation")
    assert field_names(problem) == {"quiet_hours.start"}
    assert platform.http.get(url, headers=me).json()["quiet_hours"] is None


def test_an_unknown_preferred_channel_is_refused(platform: Platform, citizen_id: str) -> None:
    # GIVEN a citizen
    me = platform.as_(citizen_id)
    url = citizen_url(platform, citizen_id, "/preferences")

    # WHEN they prefer a channel PIC does not have
    response = platform.http.put(url, json={"channels": ["email", "fax"]}, headers=me)

    # THEN 422 naming channels, and nothing is stored
    problem = assert_problem(response, 422)
    assert "channels" in field_names(problem)
    assert platform.http.get(url, headers=me).json()["channels"] == []


def test_subscribing_to_a_district_and_a_barrio_names_the_zone(platform: Platform, citizen_id: str) -> None:
    # GIVEN a citizen with no subscriptions
    me = platform.as_(citizen_id)
    url = citizen_url(platform, citizen_id, "/subscriptions")

    # WHEN they subscribe to traffic in district 01, then again (a double tap), then in barrio 011
    created = platform.http.post(url, json={"topic": "traffic", "zone": "01"}, headers=me)
    repeated = platform.http.post(url, json={"topic": "traffic", "zone": "01"}, headers=me)
    barrio = platform.http.post(url, json={"topic": "traffic", "zone": "011"}, headers=me)

    # THEN the first is created (201) for district Centro, the repeat answers the same subscription (200),
    # and the barrio is Palacio, in district 01
    assert created.status_code == 201, created.text
    assert created.json()["zone"] == {"code": "01", "kind": "district", "name": "Centro", "district": "01"}
    assert created.headers["Location"].endswith(f"/subscriptions/{created.json()['id']}")
    assert repeated.status_code == 200, repeated.text
    assert repeated.json()["id"] == created.json()["id"]
    assert barrio.status_code == 201, barrio.text
    assert barrio.json()["zone"] == {"code": "011", "kind": "barrio", "name": "Palacio", "district": "01"}
    # AND the list holds both, and one "created" event was emitted per subscription, not per request
    listed = platform.http.get(url, headers=me).json()["subscriptions"]
    assert sorted(s["id"] for s in listed) == sorted([created.json()["id"], barrio.json()["id"]])
    wait_for_events(platform, SUBSCRIPTION_CHANGED, citizen_id, count=2)
    settle(platform)
    events = platform.events(SUBSCRIPTION_CHANGED, citizen_id)
    assert sorted((e["data"]["change"], e["data"]["zone"]) for e in events) == [("created", "01"), ("created", "011")]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"topic": "traffic", "zone": "99"}, "zone"),
        ({"topic": "weather", "zone": "01"}, "topic"),
        ({"topic": "traffic", "zone": "Centro"}, "zone"),
    ],
    ids=["unknown-zone", "unknown-topic", "zone-not-a-code"],
)
def test_a_subscription_outside_the_published_topics_and_zones_is_refused(
    platform: Platform, citizen_id: str, body: dict[str, str], field: str
) -> None:
    # GIVEN a citizen
    me = platform.as_(citizen_id)
    url = citizen_url(platform, citizen_id, "/subscriptions")

    # WHEN they subscribe to something PIC does not publish
    response = platform.http.post(url, json=body, headers=me)

    # THEN 422 naming the field, and they have no subscription
    problem = assert_problem(response, 422)
    assert field in field_names(problem)
    assert platform.http.get(url, headers=me).json()["subscriptions"] == []


@pytest.mark.units_of_work
def test_unsubscribing_removes_it_once_and_then_there_is_nothing_to_remove(platform: Platform, citizen_id: str) -> None:
    # GIVEN a citizen subscribed to civil protection in district 02 (Arganzuela)
    me = platform.as_(citizen_id)
    url = citizen_url(platform, citizen_id, "/subscriptions")
    created = platform.http.post(url, json={"topic": "civil-protection", "zone": "02"}, headers=me)
    assert created.status_code == 201, created.text
    sub_id = created.json()["id"]

    # WHEN they unsubscribe, twice
    first = platform.http.delete(f"{url}/{sub_id}", headers=me)
    second = platform.http.delete(f"{url}/{sub_id}", headers=me)

    # THEN the first answers 204 with no body, the second 404 as a problem; the list is empty
    assert first.status_code == 204 and first.content == b""
    assert_problem(second, 404, "subscription-not-found")
    assert platform.http.get(url, headers=me).json()["subscriptions"] == []
    # AND the events say created then deleted, once each
    events = wait_for_events(platform, SUBSCRIPTION_CHANGED, citizen_id, count=2)
    settle(platform)
    # (the broker promises no order, like Knative: order by the events' own time)
    events = sorted(platform.events(SUBSCRIPTION_CHANGED, citizen_id), key=lambda e: e["time"])
    assert [(e["data"]["change"], e["data"]["subscription_id"]) for e in events] == [
        ("created", sub_id),
        ("deleted", sub_id),
    ]
    assert all(e["data"]["topic"] == "civil-protection" and e["data"]["zone"] == "02" for e in events)
