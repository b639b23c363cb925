"""Reading routes and triggers from the Knative manifests, and Knative's delivery arithmetic."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from local.manifests import Delivery, Trigger, load, parse_duration
from tests.unit.conftest import ROOT

LOCAL = ROOT / "infra" / "k8s" / "overlays" / "local"


# ---------------------------------------------------------------------------
# Durations and backoff
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("PT0.2S", 0.2), ("PT1M", 60), ("PT1H", 3600), ("P1D", 86400), ("P1DT2H3M4.5S", 93784.5), ("PT10S", 10)],
)
def test_iso_8601_durations_are_read_in_seconds(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "0.2", "1s", "pt1s", "PT-1S", "PT1.5M", "T1S", "P1Y", "PT1S "])
def test_anything_else_is_not_a_duration(text: str) -> None:
    with pytest.raises(ValueError, match="ISO 8601"):
        parse_duration(text)


@pytest.mark.parametrize("text", ["P", "PT"])
def test_a_duration_without_any_component_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


@settings(max_examples=50, deadline=None)
@given(minutes=st.integers(0, 600), seconds=st.integers(0, 59), tenths=st.integers(0, 9))
def test_minutes_and_seconds_add_up(minutes: int, seconds: int, tenths: int) -> None:
    assert parse_duration(f"PT{minutes}M{seconds}.{tenths}S") == pytest.approx(minutes * 60 + seconds + tenths / 10)


def test_linear_backoff_grows_by_the_delay_each_retry() -> None:
    # GIVEN linear backoff of 0.2 s THEN retries wait 0.2, 0.4, 0.6 s (Knative: delay * retry number)
    delivery = Delivery(retry=3, backoff_policy="linear", backoff_delay=0.2)
    assert [delivery.delay(n) for n in range(3)] == pytest.approx([0.2, 0.4, 0.6])


def test_exponential_backoff_doubles_each_retry() -> None:
    delivery = Delivery(retry=5, backoff_policy="exponential", backoff_delay=0.2)
    delays = [delivery.delay(n) for n in range(5)]
    assert all(later == pytest.approx(2 * earlier) for earlier, later in itertools.pairwise(delays))


def test_exponential_backoff_waits_as_long_as_knative() -> None:
    delivery = Delivery(retry=5, backoff_policy="exponential", backoff_delay=0.5)
    assert [delivery.delay(n) for n in range(5)] == pytest.approx([1, 2, 4, 8, 16])


# ---------------------------------------------------------------------------
# Trigger filters
# ---------------------------------------------------------------------------


def trigger(filters: dict[str, str]) -> Trigger:
    return Trigger(name="t", broker="pic", filters=filters, subscriber="svc", subscriber_path="/")


def test_an_empty_filter_takes_every_event() -> None:
    assert trigger({}).matches({"type": "anything", "source": "/x"})
    assert trigger({}).matches({})


def test_a_filter_takes_only_events_whose_attributes_are_all_equal() -> None:
    t = trigger({"type": "es.madrid.pic.consent.changed.v1", "source": "/pic/consent"})
    assert t.matches({"type": "es.madrid.pic.consent.changed.v1", "source": "/pic/consent", "id": "1"})
    assert not t.matches({"type": "es.madrid.pic.consent.changed.v1", "source": "/other"})
    assert not t.matches({"type": "es.madrid.pic.consent.changed.v1"})  # a missing attribute is no match


def test_filter_values_are_compared_as_text() -> None:
    assert trigger({"priority": "1"}).matches({"priority": 1})


# ---------------------------------------------------------------------------
# The local overlay
# ---------------------------------------------------------------------------


def test_the_local_overlay_has_the_consent_and_citizen_functions_and_the_event_display() -> None:
    manifests = load(LOCAL)
    assert set(manifests.services) >= {  # other capabilities add theirs (their own tests below)
        "pic-consent",
        "pic-consent-events",
        "pic-citizen",
        "pic-citizen-events",
        "pic-event-display",
        "pic-rgpd",
        "pic-rgpd-events",
        # NOT
        "pic-notification",
        "pic-notification-events",
        "pic-notification-delivery",
    }
    consent = manifests.services["pic-consent"]
    assert (consent.source, consent.target, consent.signature) == ("functions/consent/main.py", "consent_http", "http")
    assert "/v1/citizens/{citizen_id}/consents/{purpose}" in consent.routes
    events = manifests.services["pic-consent-events"]
    assert (events.target, events.signature, events.routes) == ("consent_events", "cloudevent", ())
    display = manifests.services["pic-event-display"]
    assert (display.source, display.target, display.signature) == ("local/event_display.py", "display", "cloudevent")
    citizen = manifests.services["pic-citizen"]
    assert (citizen.target, citizen.routes) == (
        "citizen_http",
        (
            "/v1/citizens",
            "/v1/citizens/{citizen_id}",
            "/v1/citizens/{citizen_id}/unmerge",
            "/v1/citizen-reviews",
            "/v1/citizen-reviews/{review_id}",
            "/v1/citizen-search",
        ),
    )
    assert manifests.services["pic-citizen-events"].target == "citizen_events"
    assert manifests.brokers == ["pic", "pic-deadletters"]


def test_the_local_overlay_triggers_and_their_delivery() -> None:
    triggers = {t.name: t for t in load(LOCAL).triggers}
    assert set(triggers) >= {  # other capabilities add theirs (their own tests)
        "consent-change-requested",
        "citizen-record-upserted",
        "event-display-all",
        "rgpd-domain-answered",
        "rgpd-request-opened-consent",
        "rgpd-flags-changed-consent",
    }
    not_triggers = {  # NOT: notifications and alerts
        "notification-requested", "alert-published", "alert-page-ready", "notification-bulk-chunk-ready",
        "notification-consent-changed", "notification-preferences-changed", "notification-subscription-changed",
        "notification-accepted", "notification-due", "notification-delivered", "notification-permanent-failure",
        "notification-not-allowed",
    }  # fmt: skip
    assert set(triggers) >= not_triggers
    assert triggers["notification-accepted"].delivery == Delivery(
        retry=6, backoff_policy="exponential", backoff_delay=0.5, dead_letter_sink="Broker/pic-deadletters"
    )
    upserted = triggers["citizen-record-upserted"]
    assert (upserted.subscriber, upserted.filters) == (
        "pic-citizen-events",
        {"type": "es.madrid.pic.citizen.record.upserted.v1"},
    )
    assert upserted.delivery == Delivery(
        retry=5, backoff_policy="exponential", backoff_delay=0.2, dead_letter_sink="Broker/pic-deadletters"
    )
    requested = triggers["consent-change-requested"]
    assert (requested.broker, requested.subscriber, requested.subscriber_path) == ("pic", "pic-consent-events", "/")
    assert requested.filters == {"type": "es.madrid.pic.consent.change.requested.v1"}
    assert requested.delivery == Delivery(
        retry=5, backoff_policy="exponential", backoff_delay=0.2, dead_letter_sink="Broker/pic-deadletters"
    )
    display = triggers["event-display-all"]
    assert display.filters == {} and display.subscriber == "pic-event-display"
    assert display.delivery == Delivery(
        retry=2, backoff_policy="exponential", backoff_delay=0.1, dead_letter_sink="Broker/pic-deadletters"
    )


def test_nested_kustomizations_multi_document_files_and_delivery_defaults(tmp_path: Path) -> None:
    # GIVEN an overlay over a base folder, with a multi-document file and a trigger with no delivery
    base = tmp_path / "base"
    overlay = tmp_path / "overlay"
    base.mkdir()
    overlay.mkdir()
    (base / "kustomization.yaml").write_text("resources:\n  - things.yaml\n")
    (base / "things.yaml").write_text(
        """apiVersion: eventing.knative.dev/v1
kind: Broker
metadata: {name: pic}
---
apiVersion: serving.knative.dev/v1
kind: Service
metadata:
  name: svc
  annotations: {pic.madrid.es/routes: " /v1/a , /v1/b ,"}
spec:
  template:
    spec:
      containers:
        - env:
            - {name: FUNCTION_SOURCE, value: f.py}
            - {name: FUNCTION_TARGET, value: fn}
---
apiVersion: v1
kind: Service
metadata: {name: not-knative}
"""
    )
    (overlay / "kustomization.yaml").write_text(
        "resources:\n  - ../base\n  - trigger.yaml\npatches:\n  - path: ignored.yaml\n"
    )
    (overlay / "trigger.yaml").write_text(
        """apiVersion: eventing.knative.dev/v1
kind: Trigger
metadata: {name: t}
spec:
  broker: pic
  subscriber:
    ref: {kind: Service, name: svc}
    uri: /events
"""
    )
    # WHEN the overlay is read
    manifests = load(overlay)
    # THEN the base is followed, only Knative Services count, and an absent delivery means Knative's defaults
    assert list(manifests.services) == ["svc"]
    assert manifests.services["svc"].signature == "http"
    assert manifests.services["svc"].routes == ("/v1/a", "/v1/b")
    assert manifests.brokers == ["pic"]
    (only,) = manifests.triggers
    assert (only.subscriber, only.subscriber_path, only.filters) == ("svc", "/events", {})
    assert only.delivery == Delivery(retry=0, backoff_policy="exponential", backoff_delay=0.2, dead_letter_sink=None)


def test_the_local_overlay_has_the_position_interaction_and_audit_functions_and_their_triggers() -> None:
    manifests = load(LOCAL)
    routes = {name: manifests.services[name].routes for name in ("pic-position", "pic-interaction", "pic-audit")}
    assert routes == {
        "pic-position": ("/v1/citizens/{citizen_id}/position",),
        "pic-interaction": (
            "/v1/interactions",
            "/v1/interactions/{interaction_id}",
            "/v1/citizens/{citizen_id}/interactions",
        ),
        "pic-audit": ("/v1/citizens/{citizen_id}/access-log",),
    }
    triggers = {t.name: t for t in manifests.triggers}
    consumed = {name: (triggers[name].subscriber, triggers[name].filters["type"]) for name in (
        "interaction-recorded", "position-item-upserted", "position-citizen-updated", "position-consent-changed",
        "position-interaction-logged",
    )}  # fmt: skip
    assert consumed == {
        "interaction-recorded": ("pic-interaction-events", "es.madrid.pic.interaction.recorded.v1"),
        "position-item-upserted": ("pic-position-events", "es.madrid.pic.position.item.upserted.v1"),
        "position-citizen-updated": ("pic-position-events", "es.madrid.pic.citizen.updated.v1"),
        "position-consent-changed": ("pic-position-events", "es.madrid.pic.consent.changed.v1"),
        "position-interaction-logged": ("pic-position-events", "es.madrid.pic.interaction.logged.v1"),
    }
    assert all(t.delivery.dead_letter_sink == "Broker/pic-deadletters" for t in triggers.values())
