"""What starting the consent function costs in event models: only its own (the access log is the kernel's
and has no event model), never another domain's (cold start, docs/benchmarks.md). The data-subject-rights
models (``events.rgpd``) load with the first RGPD event the event function handles."""

from __future__ import annotations

from tests.unit.events.test_catalog import model_modules_after_import

CONSENT_EVENT_MODELS = {"events.consent"}


def test_the_consent_function_imports_no_other_domains_event_models() -> None:
    loaded = model_modules_after_import("functions.consent.main")
    assert loaded <= CONSENT_EVENT_MODELS, f"the consent function imports {sorted(loaded - CONSENT_EVENT_MODELS)}"
