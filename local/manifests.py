"""Reads the Knative manifests in ``infra/k8s`` — the single source of truth for routing, triggers and who
may send what to the broker (EventPolicies).

It follows a kustomization's ``resources:`` (files and folders, recursively) and ignores patches and
image rewrites, which do not change routes or triggers. No ``kubectl`` is needed to run locally.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml

ROUTES_ANNOTATION = "pic.madrid.es/routes"
_DURATION = re.compile(r"^P(?:(?P<d>\d+)D)?(?:T(?:(?P<h>\d+)H)?(?:(?P<m>\d+)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?)?$")


@dataclass(frozen=True)
class FunctionService:
    """A Knative Service running one function of the image."""

    name: str
    source: str
    target: str
    signature: str
    routes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Delivery:
    retry: int = 0
    backoff_policy: str = "exponential"
    backoff_delay: float = 0.2
    dead_letter_sink: str | None = None  # "Broker/<name>" or "Service/<name>"

    def delay(self, retry_number: int) -> float:
        """Seconds before retry ``retry_number`` (0-based), as Knative computes it."""
        if self.backoff_policy == "linear":
            return self.backoff_delay * (retry_number + 1)
        return float(self.backoff_delay * 2 ** (retry_number + 1))  # PT0.5S: 1 s, 2 s, 4 s (knative retries.go)


@dataclass(frozen=True)
class Trigger:
    name: str
    broker: str
    filters: dict[str, str]
    subscriber: str  # Knative Service name
    subscriber_path: str
    delivery: Delivery = field(default_factory=Delivery)

    def matches(self, attributes: dict[str, Any]) -> bool:
        """Knative's attribute filter: every named attribute equal (an empty filter takes all)."""
        return all(str(attributes.get(k, "")) == v for k, v in self.filters.items())


@dataclass(frozen=True)
class EventPolicy:
    """Knative's ``EventPolicy`` (eventing.knative.dev/v1alpha1) as the local broker enforces it: who
    (``subjects``, a trailing ``*`` matching any suffix) may send to which brokers (``brokers``; ``None``:
    every broker of the namespace) the events that pass every one of ``filters`` (Knative's filter dialects)."""

    name: str
    brokers: tuple[str, ...] | None
    subjects: tuple[str, ...]
    filters: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class Manifests:
    services: dict[str, FunctionService]
    triggers: list[Trigger]
    brokers: list[str]
    event_policies: list[EventPolicy] = field(default_factory=list)


def parse_duration(text: str) -> float:
    """ISO 8601 durations as Knative's ``backoffDelay`` uses them (``PT0.2S``, ``PT1M``)."""
    match = _DURATION.match(text or "")
    if not match or text in ("P", "PT") or text.endswith("T"):
        raise ValueError(f"not an ISO 8601 duration: {text!r}")
    parts = {k: float(v) if v else 0.0 for k, v in match.groupdict().items()}
    return float(timedelta(days=parts["d"], hours=parts["h"], minutes=parts["m"], seconds=parts["s"]).total_seconds())


# libyaml's parser where PyYAML was built with it (its wheels are): the manifests parse ~8x faster, which is
# most of a worker's start-up
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def yaml_documents(text: str) -> list[Any]:
    """The non-empty documents of a YAML stream (safe types only)."""
    return [doc for doc in yaml.load_all(text, Loader=_SAFE_LOADER) if doc]


def read_resources(kustomization_dir: Path) -> list[dict[str, Any]]:
    """Every resource a kustomization lists, following nested kustomizations."""
    (kustomization,) = yaml_documents((kustomization_dir / "kustomization.yaml").read_text(encoding="utf-8"))
    resources: list[dict[str, Any]] = []
    for entry in kustomization.get("resources", []):
        path = (kustomization_dir / entry).resolve()
        if path.is_dir():
            resources.extend(read_resources(path))
        else:
            resources.extend(yaml_documents(path.read_text(encoding="utf-8")))
    return resources


def _env(container: dict[str, Any]) -> dict[str, str]:
    return {e["name"]: str(e.get("value", "")) for e in container.get("env", [])}


def _sink(ref: dict[str, Any] | None) -> str | None:
    if not ref:
        return None
    if "ref" in ref:
        return f"{ref['ref']['kind']}/{ref['ref']['name']}"
    return str(ref.get("uri")) if ref.get("uri") else None


def trigger_subject(name: str) -> str:
    """How the local broker names a Trigger's own identity (Knative gives each Trigger an OIDC identity, which
    an EventPolicy admits with ``from: [{ref: {kind: Trigger, name: ...}}]``): replies are sent with it."""
    return f"trigger:{name}"


def event_policy(name: str, spec: dict[str, Any]) -> EventPolicy:
    """An EventPolicy's spec, refusing what the local broker cannot enforce as the cluster would (a ``to``
    selector, a ``from`` reference to another resource, CESQL) rather than ignoring it."""
    brokers: list[str] = []
    for target in spec.get("to") or []:
        ref = target.get("ref")
        if not ref or ref.get("kind") != "Broker":
            raise ValueError(f"EventPolicy {name}: the local broker enforces only `to` references to Brokers")
        brokers.append(ref["name"])
    subjects: list[str] = []
    for sender in spec.get("from") or []:
        ref = sender.get("ref") or {}
        if "sub" in sender:
            subjects.append(sender["sub"])
        elif ref.get("kind") == "Trigger":
            subjects.append(trigger_subject(ref["name"]))
        else:
            raise ValueError(f"EventPolicy {name}: the local broker enforces `from` subjects and Trigger references")
    filters = tuple(spec.get("filters") or [])
    if "cesql" in str(filters):
        raise ValueError(f"EventPolicy {name}: the local broker does not evaluate CESQL filters")
    return EventPolicy(name, tuple(brokers) or None, tuple(subjects), filters)


def load(kustomization_dir: Path) -> Manifests:
    services: dict[str, FunctionService] = {}
    triggers: list[Trigger] = []
    brokers: list[str] = []
    policies: list[EventPolicy] = []
    for res in read_resources(kustomization_dir):
        kind, meta, spec = res.get("kind"), res.get("metadata", {}), res.get("spec", {})
        if kind == "Service" and res.get("apiVersion", "").startswith("serving.knative.dev"):
            env = _env(spec["template"]["spec"]["containers"][0])
            routes = meta.get("annotations", {}).get(ROUTES_ANNOTATION, "")
            services[meta["name"]] = FunctionService(
                name=meta["name"],
                source=env["FUNCTION_SOURCE"],
                target=env["FUNCTION_TARGET"],
                signature=env.get("FUNCTION_SIGNATURE_TYPE", "http"),
                routes=tuple(r.strip() for r in routes.split(",") if r.strip()),
            )
        elif kind == "Broker":
            brokers.append(meta["name"])
        elif kind == "EventPolicy":
            policies.append(event_policy(meta["name"], spec))
        elif kind == "Trigger":
            delivery = spec.get("delivery", {})
            subscriber = spec["subscriber"]
            triggers.append(
                Trigger(
                    name=meta["name"],
                    broker=spec["broker"],
                    filters=dict(spec.get("filter", {}).get("attributes", {})),
                    subscriber=subscriber["ref"]["name"],
                    subscriber_path=subscriber.get("uri", "") or "/",
                    delivery=Delivery(
                        retry=int(delivery.get("retry", 0)),
                        backoff_policy=delivery.get("backoffPolicy", "exponential"),
                        backoff_delay=parse_duration(delivery.get("backoffDelay", "PT0.2S")),
                        dead_letter_sink=_sink(delivery.get("deadLetterSink")),
                    ),
                )
            )
    return Manifests(services=services, triggers=triggers, brokers=brokers, event_policies=policies)
