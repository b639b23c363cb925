"""The event catalog: one type per model, named es.madrid.pic.<domain>.<event>.v<N>."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from events import consent
from events.catalog import CATALOG, EventSpec, spec_of

ROOT = Path(__file__).resolve().parents[3]

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


def model_modules() -> set[str]:
    """Every module that defines a catalog model."""
    return {spec.model_path.rpartition(".")[0] for spec in CATALOG.values()}


def model_modules_after_import(module: str) -> set[str]:
    """The catalog's model modules a fresh interpreter holds after importing ``module`` (what a cold process
    pays for event models)."""
    code = f"import json, sys; import {module}; print(json.dumps(sorted(sys.modules)))"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    return set(json.loads(out.stdout)) & model_modules()


def test_importing_the_catalog_imports_no_event_model() -> None:
    """The kernel (``cloudevent``, ``outbox``) imports the catalog in every function: models load on first use."""
    assert not model_modules_after_import("events.catalog")


@pytest.mark.parametrize("spec", list(CATALOG.values()), ids=lambda spec: spec.type)
def test_each_model_path_names_the_model_where_it_is_defined(spec: EventSpec) -> None:
    """``spec_of`` finds a model by its own module and name, so the path must be where the class lives."""
    model = spec.model
    assert f"{model.__module__}.{model.__qualname__}" == spec.model_path
    assert spec_of(model) is spec


def test_spec_of_refuses_a_lookalike_of_a_catalog_model() -> None:
    lookalike = type("ConsentChanged", (consent.ConsentChanged,), {"__module__": "events.consent"})
    with pytest.raises(KeyError):
        spec_of(lookalike)
