"""Regenerates the vendored JSON Schemas in this folder, one self-contained file per kind.

The contract test (tests/contract/test_k8s_schemas.py) validates every resource that `kubectl kustomize`
builds against these files, offline. They come from two PyPI packages, pinned below; install them into a
throwaway virtual environment (they are not project dependencies) and run this script with it:

    python3 -m venv /tmp/k8s-schemas
    /tmp/k8s-schemas/bin/pip install jsonschema kubernetes-validate==1.37.0
    /tmp/k8s-schemas/bin/pip install --no-deps --ignore-requires-python \\
        cloudcoil-models-knative-serving==1.23.0.1 cloudcoil-models-knative-eventing==1.23.0.1
    git clone --depth 1 --branch v1.6.1 https://github.com/kubernetes-sigs/gateway-api /tmp/gateway-api
    /tmp/k8s-schemas/bin/python infra/k8s/schemas/generate.py --gateway-api-crds /tmp/gateway-api/config/crd/standard

- Kubernetes kinds: kubernetes-validate's "local-strict" schemas (the Kubernetes OpenAPI document turned
  into JSON Schema, `additionalProperties: false` on every object), with the definitions each kind
  reaches copied into it.
- Knative kinds: the cloudcoil models, pydantic classes generated from Knative's CRD schemas, exported
  with `model_json_schema()`. cloudcoil's runtime needs Python >= 3.14, but the model modules only need
  pydantic: they are loaded here with stand-ins for cloudcoil's builder helpers (which add no fields), so
  the export runs on the project's Python. Every object that declares properties is then closed
  (`additionalProperties: false`): Knative's admission webhooks decode strictly and reject unknown fields
  even where the CRD schema preserves them. `metadata` is Kubernetes' strict ObjectMeta.
- Gateway API kinds (HTTPRoute, Gateway): the `openAPIV3Schema` of the v1 version of the project's own
  CRDs (standard channel, release pinned below; the `--gateway-api-crds` folder must be that release's
  `config/crd/standard`), objects closed the same way, `metadata` Kubernetes' strict ObjectMeta.
  Descriptions and the CEL rules (`x-kubernetes-validations`, which only the API server evaluates) are
  left out.

Adding a kind: add it to K8S_KINDS or KNATIVE_KINDS and run the script again.
"""

from __future__ import annotations

import argparse
import copy
import importlib.metadata
import importlib.util
import json
import sys
import types
import typing
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
K8S_VERSION = "1.37.0"
K8S_PACKAGE = ("kubernetes-validate", "1.37.0")
KNATIVE_PACKAGES = {
    "serving": ("cloudcoil.models.knative_serving", "1.23.0.1"),
    "eventing": ("cloudcoil.models.knative_eventing", "1.23.0.1"),
}
GATEWAY_API_VERSION = "v1.6.1"  # kubernetes-sigs/gateway-api release, commit 8bb74df00e56ec8f944d48c25e6c1c9c2f6848e3
DRAFT = "https://json-schema.org/draft/2020-12/schema"
OBJECT_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"

# (apiVersion, kind) of the Kubernetes kinds the overlays use, or are likely to soon.
K8S_KINDS = [
    ("v1", "Namespace"),
    ("v1", "ConfigMap"),
    ("v1", "Secret"),
    ("v1", "ServiceAccount"),
    ("v1", "Service"),
    ("apps/v1", "Deployment"),
    ("networking.k8s.io/v1", "NetworkPolicy"),
    ("policy/v1", "PodDisruptionBudget"),
    ("batch/v1", "Job"),
    ("batch/v1", "CronJob"),
]
# (apiVersion, kind, distribution, module path inside it, class name)
KNATIVE_KINDS = [
    (
        "serving.knative.dev/v1",
        "Service",
        "serving",
        "cloudcoil/models/knative_serving/serving_knative_dev/v1.py",
        "Service",
    ),
    (
        "eventing.knative.dev/v1",
        "Broker",
        "eventing",
        "cloudcoil/models/knative_eventing/eventing_knative_dev/v1.py",
        "Broker",
    ),
    (
        "eventing.knative.dev/v1",
        "Trigger",
        "eventing",
        "cloudcoil/models/knative_eventing/eventing_knative_dev/v1.py",
        "Trigger",
    ),
    (
        "eventing.knative.dev/v1alpha1",
        "EventPolicy",
        "eventing",
        "cloudcoil/models/knative_eventing/eventing_knative_dev/v1alpha1.py",
        "EventPolicy",
    ),
    (
        "sources.knative.dev/v1",
        "SinkBinding",
        "eventing",
        "cloudcoil/models/knative_eventing/sources_knative_dev/v1.py",
        "SinkBinding",
    ),
]

# (apiVersion, kind, CRD file in the release's config/crd/standard)
GATEWAY_KINDS = [
    ("gateway.networking.k8s.io/v1", "HTTPRoute", "gateway.networking.k8s.io_httproutes.yaml"),
    ("gateway.networking.k8s.io/v1", "Gateway", "gateway.networking.k8s.io_gateways.yaml"),
]
DROPPED_CRD_KEYWORDS = {"description", "x-kubernetes-validations"}


def schema_filename(api_version: str, kind: str) -> str:
    """`deployment-apps-v1.json`, `trigger-eventing.knative.dev-v1.json`: the test derives the same name."""
    return f"{kind.lower()}-{api_version.replace('/', '-')}.json"


def _require(distribution: str, version: str) -> None:
    try:
        found = importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        sys.exit(f"{distribution}=={version} is not installed: see this script's docstring")
    if found != version:
        sys.exit(f"{distribution} {found} is installed, {version} is pinned: see this script's docstring")


def _refs(node: Any) -> set[str]:
    """Names of the `#/$defs/<name>` a schema fragment points at."""
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and "#/$defs/" in value:
                found.add(value.split("#/$defs/", 1)[1])
            else:
                found |= _refs(value)
    elif isinstance(node, list):
        for item in node:
            found |= _refs(item)
    return found


def _rewrite_refs(node: Any) -> Any:
    """`/api/_definitions.json#/$defs/X` -> `#/$defs/X`, so each file stands alone."""
    if isinstance(node, dict):
        return {
            k: ("#/$defs/" + v.split("#/$defs/", 1)[1]) if k == "$ref" and isinstance(v, str) else _rewrite_refs(v)
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_rewrite_refs(item) for item in node]
    return node


def _closure(roots: set[str], definitions: dict[str, Any]) -> dict[str, Any]:
    """The definitions reachable from `roots`."""
    reached: dict[str, Any] = {}
    pending = sorted(roots)
    while pending:
        name = pending.pop()
        if name in reached:
            continue
        reached[name] = _rewrite_refs(definitions[name])
        pending.extend(sorted(_refs(reached[name]) - reached.keys()))
    return dict(sorted(reached.items()))


def _kubernetes_schemas() -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    _require(*K8S_PACKAGE)
    import kubernetes_validate

    folder = Path(kubernetes_validate.__file__).parent / "kubernetes-json-schema" / f"v{K8S_VERSION}-local-strict"
    definitions = json.loads((folder / "_definitions.json").read_text(encoding="utf-8"))["$defs"]
    schemas = {}
    for api_version, kind in K8S_KINDS:
        group_version = api_version.split("/")
        short_group = group_version[0].split(".")[0] if len(group_version) == 2 else ""
        source = folder / f"{kind.lower()}{'-' + short_group if short_group else ''}-{group_version[-1]}.json"
        schema = _rewrite_refs(json.loads(source.read_text(encoding="utf-8")))
        schema.pop("$id", None)
        schema["$defs"] = _closure(_refs(schema), definitions)
        schema["$schema"] = DRAFT
        schema["$comment"] = (
            f"{api_version} {kind}: generated by infra/k8s/schemas/generate.py from "
            f"kubernetes-validate {K8S_PACKAGE[1]} (v{K8S_VERSION}-local-strict); do not edit"
        )
        schemas[schema_filename(api_version, kind)] = schema
    return schemas, definitions


def _cloudcoil_stand_ins() -> None:
    """Just enough of cloudcoil for its generated model modules to import on Python < 3.14."""
    import pydantic

    class Inert:
        """cloudcoil's builder helpers: the generated models subclass them, the schema ignores them."""

        def __class_getitem__(cls, _item: Any) -> type:
            return cls

    class BaseModel(pydantic.BaseModel):
        model_config = pydantic.ConfigDict(populate_by_name=True, use_attribute_docstrings=True)

    class ObjectMeta(BaseModel):
        """Replaced by Kubernetes' ObjectMeta in the exported schema."""

        class Builder(Inert):
            pass

        class BuilderContext(Inert):
            pass

    class Resource(BaseModel):
        """cloudcoil's resource base: each generated kind declares apiVersion, kind, metadata, spec, status."""

    root = types.ModuleType("cloudcoil")
    root.__path__ = []
    stand_ins = {
        "cloudcoil": root,
        "cloudcoil.pydantic": {
            "UNSET": object(),
            "BaseModel": BaseModel,
            "BaseBuilder": Inert,
            "BaseModelBuilder": Inert,
            "BuilderContextBase": Inert,
            "GenericListBuilder": Inert,
            "ListBuilderContext": Inert,
            "Never": typing.Never,
            "Self": typing.Self,
        },
        "cloudcoil.apimachinery": {"ObjectMeta": ObjectMeta},
        "cloudcoil.resources": {"Resource": Resource},
    }
    for name, content in stand_ins.items():
        module = content if isinstance(content, types.ModuleType) else types.ModuleType(name)
        if isinstance(content, dict):
            module.__dict__.update(content)
        sys.modules[name] = module


def _close_objects(node: Any) -> Any:
    """Every object schema that lists its properties admits no others; pydantic titles are dropped."""
    if isinstance(node, dict):
        closed = {k: _close_objects(v) for k, v in node.items() if k != "title" or not isinstance(v, str)}
        if isinstance(node.get("properties"), dict):
            closed["additionalProperties"] = False
        return closed
    if isinstance(node, list):
        return [_close_objects(item) for item in node]
    return node


def _knative_schemas(k8s_definitions: dict[str, Any]) -> dict[str, dict[str, Any]]:
    for distribution, version in KNATIVE_PACKAGES.values():
        _require(distribution, version)
    _cloudcoil_stand_ins()
    schemas = {}
    modules: dict[str, types.ModuleType] = {}
    for api_version, kind, package, path, class_name in KNATIVE_KINDS:
        distribution, version = KNATIVE_PACKAGES[package]
        if path not in modules:
            location = Path(str(importlib.metadata.distribution(distribution).locate_file(path)))
            spec = importlib.util.spec_from_file_location(f"_knative_models_{len(modules)}", location)
            assert spec and spec.loader
            module = importlib.util.module_from_spec(spec)
            sys.modules[spec.name] = module
            spec.loader.exec_module(module)
            modules[path] = module
        model = getattr(modules[path], class_name)
        schema = _close_objects(model.model_json_schema(by_alias=True, mode="validation"))
        defs = schema.setdefault("$defs", {})
        defs["ObjectMeta"] = {"$ref": f"#/$defs/{OBJECT_META}"}
        defs.update(_closure({OBJECT_META}, k8s_definitions))
        schema["$defs"] = dict(sorted(defs.items()))
        schema["required"] = sorted({*schema.get("required", []), "apiVersion", "kind", "metadata"})
        schema["$schema"] = DRAFT
        schema["$comment"] = (
            f"{api_version} {kind}: generated by infra/k8s/schemas/generate.py from {distribution} {version} "
            f"(Knative {version.rsplit('.', 1)[0]}), objects closed; metadata from kubernetes-validate "
            f"{K8S_PACKAGE[1]}; do not edit"
        )
        schemas[schema_filename(api_version, kind)] = schema
    return schemas


def _from_crd_schema(node: Any) -> Any:
    """A CRD's structural OpenAPI schema as JSON Schema: objects that list properties closed (unless they
    preserve unknown fields), ``nullable`` as a null type, int-or-string as either; descriptions and CEL
    rules dropped (the API server evaluates CEL; a file this size gains nothing from prose)."""
    if isinstance(node, list):
        return [_from_crd_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {k: _from_crd_schema(v) for k, v in node.items() if k not in DROPPED_CRD_KEYWORDS}
    if isinstance(node.get("properties"), dict) and not node.get("x-kubernetes-preserve-unknown-fields"):
        out["additionalProperties"] = False
    if node.get("x-kubernetes-int-or-string") and "type" not in node:
        out["type"] = ["integer", "string"]
    if node.get("nullable") and isinstance(node.get("type"), str):
        out["type"] = [node["type"], "null"]
    return out


def _gateway_api_schemas(crds: Path, k8s_definitions: dict[str, Any]) -> dict[str, dict[str, Any]]:
    import yaml

    schemas = {}
    for api_version, kind, filename in GATEWAY_KINDS:
        crd = yaml.safe_load((crds / filename).read_text(encoding="utf-8"))
        annotations = crd["metadata"].get("annotations", {})
        found = annotations.get("gateway.networking.k8s.io/bundle-version")
        channel = annotations.get("gateway.networking.k8s.io/channel")
        if (found, channel) != (GATEWAY_API_VERSION, "standard"):
            sys.exit(f"{crds / filename}: Gateway API {found} ({channel}), {GATEWAY_API_VERSION} standard is pinned")
        version = api_version.rsplit("/", 1)[1]
        [served] = [v for v in crd["spec"]["versions"] if v["name"] == version]
        schema = _from_crd_schema(served["schema"]["openAPIV3Schema"])
        schema["properties"]["metadata"] = {"$ref": f"#/$defs/{OBJECT_META}"}
        schema["properties"]["apiVersion"] = {"const": api_version}
        schema["properties"]["kind"] = {"const": kind}
        schema["$defs"] = _closure({OBJECT_META}, k8s_definitions)
        schema["required"] = sorted({*schema.get("required", []), "apiVersion", "kind", "metadata"})
        schema["$schema"] = DRAFT
        schema["$comment"] = (
            f"{api_version} {kind}: generated by infra/k8s/schemas/generate.py from the Gateway API "
            f"{GATEWAY_API_VERSION} CRD (standard channel, {filename}), objects closed, descriptions and CEL rules "
            f"left out; metadata from kubernetes-validate {K8S_PACKAGE[1]}; do not edit"
        )
        schemas[schema_filename(api_version, kind)] = schema
    return schemas


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--gateway-api-crds",
        type=Path,
        required=True,
        help=f"config/crd/standard of a kubernetes-sigs/gateway-api checkout at {GATEWAY_API_VERSION}",
    )
    args = parser.parse_args()
    k8s, definitions = _kubernetes_schemas()
    knative = _knative_schemas(copy.deepcopy(definitions))
    gateway = _gateway_api_schemas(args.gateway_api_crds, copy.deepcopy(definitions))
    written = {**k8s, **knative, **gateway}
    for stale in HERE.glob("*.json"):
        if stale.name not in written:
            stale.unlink()
    for name, schema in sorted(written.items()):
        (HERE / name).write_text(json.dumps(schema, indent=1, sort_keys=True, ensure_ascii=False) + "\n", "utf-8")
        print(f"wrote infra/k8s/schemas/{name}")


if __name__ == "__main__":
    main()
