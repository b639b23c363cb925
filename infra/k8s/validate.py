"""Validates what the kustomizations build: every resource against its vendored JSON Schema, and the references
between resources of one build. `make infra-check` runs it (scripts/infra_check.sh), offline.

- Schemas (`infra/k8s/schemas/`, one per apiVersion and kind; see its README): closed objects, so a typo in
  a field (`containerConcurency`, `subscriber.ref.nmae`) or a wrong type (`retry: "five"`) fails, as the API
  server's strict field validation and Knative's webhooks would; a kind without a schema fails too.
- References: a Trigger's broker, subscriber and dead-letter sink, and an HTTPRoute's Gateway and Services,
  exist in the same build (a cluster would accept the resource and then deliver or route nowhere).

    python infra/k8s/validate.py                      # base and every overlay
    python infra/k8s/validate.py base overlays/local  # some of them
    python infra/k8s/validate.py --k8s-dir /tmp/copy  # another tree (the contract test breaks a copy)

Exit 0 when everything validates, 1 when something does not, 2 when nothing could be built (no kubectl).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml
from jsonschema.exceptions import best_match

K8S_DIR = Path(__file__).resolve().parent
REGENERATE = "add the kind to infra/k8s/schemas/generate.py and run it (see infra/k8s/schemas/README.md)"
KNATIVE_SERVICE = ("serving.knative.dev/v1", "Service")


class BuildError(RuntimeError):
    """A kustomization that does not build, or nothing to build it with."""


def kustomizations(k8s_dir: Path) -> list[str]:
    """The base and every overlay, as paths relative to ``k8s_dir``."""
    overlays = sorted(f"overlays/{p.parent.name}" for p in (k8s_dir / "overlays").glob("*/kustomization.yaml"))
    return ["base", *overlays]


def build(directory: Path) -> list[dict[str, Any]]:
    """What ``kubectl kustomize`` (or a standalone ``kustomize``) builds from ``directory``."""
    if kubectl := shutil.which("kubectl"):
        command = [kubectl, "kustomize", str(directory)]
    elif kustomize := shutil.which("kustomize"):
        command = [kustomize, "build", str(directory)]
    else:
        raise BuildError("neither kubectl nor kustomize is on PATH (`make setup` installs kubectl into .venv)")
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)  # noqa: S603
    if result.returncode != 0:
        raise BuildError(f"`{' '.join(command)}` failed ({result.returncode}):\n{result.stderr}")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's parser, where PyYAML has it: ~8x faster
    return [doc for doc in yaml.load_all(result.stdout, Loader=loader) if doc]


def schema_filename(api_version: str, kind: str) -> str:
    """The same naming as infra/k8s/schemas/generate.py: `trigger-eventing.knative.dev-v1.json`."""
    return f"{kind.lower()}-{api_version.replace('/', '-')}.json"


@cache
def _validator(path: Path) -> jsonschema.protocols.Validator | None:
    if not path.is_file():
        return None
    schema = json.loads(path.read_text(encoding="utf-8"))
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema)  # type: ignore[no-any-return]


def _name(resource: dict[str, Any]) -> str:
    return f"{resource.get('kind', '?')}/{resource.get('metadata', {}).get('name', '?')}"


def schema_problems(resource: dict[str, Any], schemas_dir: Path = K8S_DIR / "schemas") -> list[str]:
    """Why ``resource`` does not validate: an unknown kind, or its schema's most relevant error."""
    api_version, kind = str(resource.get("apiVersion", "?")), str(resource.get("kind", "?"))
    validator = _validator(schemas_dir / schema_filename(api_version, kind))
    if validator is None:
        return [f"{_name(resource)}: no schema for {api_version} {kind}: {REGENERATE}"]
    error = best_match(validator.iter_errors(resource))
    return [f"{_name(resource)}: {error.json_path}: {error.message}"] if error else []


def _names(resources: list[dict[str, Any]], kind: str, api_group: str) -> set[str]:
    return {
        str(r.get("metadata", {}).get("name"))
        for r in resources
        if r.get("kind") == kind and str(r.get("apiVersion", "")).startswith(api_group)
    }


def _knative_kind(ref: dict[str, Any]) -> str:
    """A Knative reference's kind (``Broker``, ``Service``); empty for other APIs (a core Service, a URI)."""
    api_version = str(ref.get("apiVersion", ""))
    return str(ref.get("kind", "")) if api_version.startswith(("serving.knative.dev/", "eventing.knative.dev/")) else ""


def reference_problems(resources: list[dict[str, Any]]) -> list[str]:
    """References that point at nothing in the same build."""
    known = {
        "Broker": _names(resources, "Broker", "eventing.knative.dev/"),
        "Service": _names(resources, "Service", "serving.knative.dev/"),
        "Gateway": _names(resources, "Gateway", "gateway.networking.k8s.io/"),
    }
    problems: list[str] = []

    def check(resource: dict[str, Any], where: str, kind: str, name: Any) -> None:
        if kind in known and name not in known[kind]:
            problems.append(f"{_name(resource)}: {where} names {kind} {name!r}, which this build does not have")

    for r in resources:
        spec = r.get("spec") or {}
        if r.get("kind") == "Trigger":
            check(r, "spec.broker", "Broker", spec.get("broker"))
            ref = (spec.get("subscriber") or {}).get("ref") or {}
            check(r, "spec.subscriber.ref", _knative_kind(ref), ref.get("name"))
            sink = ((spec.get("delivery") or {}).get("deadLetterSink") or {}).get("ref") or {}
            check(r, "spec.delivery.deadLetterSink.ref", _knative_kind(sink), sink.get("name"))
        elif r.get("kind") == "HTTPRoute":
            for parent in spec.get("parentRefs") or []:
                check(r, "spec.parentRefs", str(parent.get("kind", "Gateway")), parent.get("name"))
            for rule in spec.get("rules") or []:
                for backend in rule.get("backendRefs") or []:
                    check(r, "spec.rules[].backendRefs", str(backend.get("kind", "Service")), backend.get("name"))
    return problems


def validate(k8s_dir: Path, names: list[str]) -> dict[str, list[str]]:
    """Problems per kustomization (empty lists when it validates); raises BuildError if one does not build."""
    found = {}
    for name in names:
        resources = build(k8s_dir / name)
        problems = [p for r in resources for p in schema_problems(r, k8s_dir / "schemas")]
        found[name] = problems + reference_problems(resources)
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("kustomizations", nargs="*", help="relative to --k8s-dir; default: base and every overlay")
    parser.add_argument("--k8s-dir", type=Path, default=K8S_DIR, help="the tree holding base/, overlays/, schemas/")
    args = parser.parse_args(argv)
    names = args.kustomizations or kustomizations(args.k8s_dir)
    try:
        results = validate(args.k8s_dir, names)
    except BuildError as error:
        print(f"not validated: {error}", file=sys.stderr)
        return 2
    for name, problems in results.items():
        print(f"{'ok' if not problems else 'FAILED'} {name}" + "".join(f"\n    {p}" for p in problems))
    return 1 if any(results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
