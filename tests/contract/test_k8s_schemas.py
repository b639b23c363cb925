"""Contract: every resource the kustomizations build validates against the vendored Kubernetes and Knative schemas.

The schemas live in infra/k8s/schemas (one self-contained JSON Schema per kind, see its README): closed
objects, so an unknown field is an error, as it is for the API server's strict field validation and
Knative's webhooks. Offline: no cluster, no network. The validation is infra/k8s/validate.py's, the command
`make infra-check` runs.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.contract.test_manifests import KUSTOMIZATIONS, _build, _generator, _name

VALIDATE = _generator("validate")  # infra/k8s/validate.py: the same check `make infra-check` runs
schema_problems = VALIDATE.schema_problems


@pytest.mark.parametrize("kustomization", KUSTOMIZATIONS)
def test_every_built_resource_validates_against_its_schema(kustomization: str) -> None:
    # GIVEN everything a kustomization builds
    resources = _build(kustomization)

    # WHEN each resource is validated against the vendored schema of its apiVersion and kind
    problems = [problem for resource in resources for problem in schema_problems(resource)]

    # THEN all validate, and no kind is left without a schema
    assert not problems, f"{kustomization}:\n" + "\n".join(problems)


def _built(kustomization: str, api_version: str, kind: str) -> dict[str, Any]:
    """A deep copy of the first built resource of that kind, to mutate."""
    for resource in _build(kustomization):
        if (resource["apiVersion"], resource["kind"]) == (api_version, kind):
            assert not schema_problems(resource), f"{_name(resource)} should validate before it is mutated"
            return copy.deepcopy(resource)
    pytest.fail(f"{kustomization} builds no {api_version} {kind}")


def _set(resource: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """Sets a dotted path (list indices as numbers) in ``resource``; returns it."""
    *parents, leaf = path.split(".")
    node: Any = resource
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    node[leaf] = value
    return resource


def _rename(resource: dict[str, Any], path: str, new_key: str) -> dict[str, Any]:
    """Renames the last key of a dotted path, as a typo would."""
    *parents, leaf = path.split(".")
    node: Any = resource
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    node[new_key] = node.pop(leaf)
    return resource


TRIGGER = ("eventing.knative.dev/v1", "Trigger")
KSERVICE = ("serving.knative.dev/v1", "Service")
DEPLOYMENT = ("apps/v1", "Deployment")
BROKER = ("eventing.knative.dev/v1", "Broker")
NETWORK_POLICY = ("networking.k8s.io/v1", "NetworkPolicy")
SINK_BINDING = ("sources.knative.dev/v1", "SinkBinding")
EVENT_POLICY = ("eventing.knative.dev/v1alpha1", "EventPolicy")
HTTP_ROUTE = ("gateway.networking.k8s.io/v1", "HTTPRoute")
GATEWAY = ("gateway.networking.k8s.io/v1", "Gateway")

MUTATIONS = {
    "Trigger filter with a typo (attribute)": (
        TRIGGER,
        lambda r: _rename(r, "spec.filter.attributes", "attribute"),
        "spec.filter",
    ),
    "Trigger retry as a word": (TRIGGER, lambda r: _set(r, "spec.delivery.retry", "five"), "spec.delivery.retry"),
    "Trigger dead-letter sink with a typo (deadLeterSink)": (
        TRIGGER,
        lambda r: _rename(r, "spec.delivery.deadLetterSink", "deadLeterSink"),
        "spec.delivery",
    ),
    "Trigger subscriber ref with a typo (nmae)": (
        TRIGGER,
        lambda r: _rename(r, "spec.subscriber.ref.name", "nmae"),
        "spec.subscriber.ref",
    ),
    "Service with a typo in its revision spec (containerConcurency)": (
        KSERVICE,
        lambda r: _rename(r, "spec.template.spec.containerConcurrency", "containerConcurency"),
        "spec.template.spec",
    ),
    "Service containerConcurrency as a string": (
        KSERVICE,
        lambda r: _set(r, "spec.template.spec.containerConcurrency", "50"),
        "spec.template.spec.containerConcurrency",
    ),
    "Service probe with a typo (readinesProbe)": (
        KSERVICE,
        lambda r: _rename(r, "spec.template.spec.containers.0.readinessProbe", "readinesProbe"),
        "spec.template.spec.containers[0]",
    ),
    "Service with an unknown metadata field": (KSERVICE, lambda r: _set(r, "metadata.label", {}), "metadata"),
    "Deployment replicas as a word": (DEPLOYMENT, lambda r: _set(r, "spec.replicas", "one"), "spec.replicas"),
    "Deployment container with a typo (resource)": (
        DEPLOYMENT,
        lambda r: _rename(r, "spec.template.spec.containers.0.resources", "resource"),
        "spec.template.spec.containers[0]",
    ),
    "Broker delivery retry as a word": (BROKER, lambda r: _set(r, "spec.delivery.retry", "five"), "spec.delivery"),
    "NetworkPolicy with a typo (podSelecter)": (
        NETWORK_POLICY,
        lambda r: _rename(r, "spec.podSelector", "podSelecter"),
        "spec",
    ),
    "SinkBinding sink with a typo (reff)": (SINK_BINDING, lambda r: _rename(r, "spec.sink.ref", "reff"), "spec.sink"),
    "EventPolicy sender with a typo (sbu)": (
        EVENT_POLICY,
        lambda r: _rename(r, "spec.from.0.sub", "sbu"),
        "spec.from[0]",
    ),
    "HTTPRoute backend with a typo (backendRef)": (
        HTTP_ROUTE,
        lambda r: _rename(r, "spec.rules.0.backendRefs", "backendRef"),
        "spec.rules[0]",
    ),
    "HTTPRoute path match of an unknown type": (
        HTTP_ROUTE,
        lambda r: _set(r, "spec.rules.0.matches.0.path.type", "Regex"),
        "spec.rules[0].matches[0].path.type",
    ),
    "Gateway listener port as a word": (
        GATEWAY,
        lambda r: _set(r, "spec.listeners.0.port", "https"),
        "spec.listeners[0].port",
    ),
    "EventPolicy filters as one object": (
        EVENT_POLICY,
        lambda r: _set(r, "spec.filters", {"exact": {}}),
        "spec.filters",
    ),
}


@pytest.mark.parametrize("case", sorted(MUTATIONS))
def test_a_broken_resource_fails_validation(case: str) -> None:
    # GIVEN a resource of the base that validates
    api_version_kind, mutate, where = MUTATIONS[case]
    resource = _built("base", *api_version_kind)

    # WHEN a typo or a wrong type is introduced
    problems = schema_problems(mutate(resource))

    # THEN validation fails, pointing at the broken place
    assert problems, f"{case}: the schema accepted it"
    assert f"$.{where}" in problems[0], f"{case}: reported elsewhere: {problems}"


def test_a_kind_without_a_schema_fails_validation() -> None:
    # GIVEN a Trigger whose kind is misspelt
    resource = _built("base", *TRIGGER)
    resource["kind"] = "Triger"

    # WHEN it is validated
    problems = schema_problems(resource)

    # THEN it is reported as a kind without a schema, with how to add one
    assert problems and "no schema for eventing.knative.dev/v1 Triger" in problems[0]
