"""The event catalog: one type per model, named es.madrid.pic.<domain>.<event>.v<N>."""

from __future__ import annotations

import re

from events import consent
from events.catalog import CATALOG, spec_of

# segments may hold a DNS-label hyphen (es.madrid.pic.notification.not-allowed.v1)
TYPE_NAME = re.compile(r"^es\.madrid\.pic\.[a-z]+(\.[a-z]+(-[a-z]+)*)+\.v[1-9][0-9]*$")


def test_every_type_follows_the_naming_rule() -> None:
    assert CATALOG
    for type_, spec in CATALOG.items():
        assert TYPE_NAME.match(type_), type_
        assert spec.type == type_


def test_each_model_has_exactly_one_type() -> None:
    models = [spec.model for spec in CATALOG.values()]
    assert len(models) == len(set(models))
    assert spec_of(consent.ConsentChanged).type == "es.madrid.pic.consent.changed.v1"
    assert spec_of(consent.SubscriptionChanged).type == "es.madrid.pic.subscription.changed.v1"


def test_consent_change_requests_are_consumed_by_the_consent_event_function() -> None:
    spec = CATALOG["es.madrid.pic.consent.change.requested.v1"]
    assert spec.model is consent.ConsentChangeRequested and spec.consumers == ["pic-consent-events"]


def test_events_pic_consent_emits_have_its_source() -> None:
    for spec in CATALOG.values():
        if spec.producer == "pic-consent":
            assert spec.source == "/pic/consent"
