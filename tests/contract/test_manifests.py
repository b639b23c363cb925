"""Contract: the Knative manifests in infra/k8s build offline and agree with the code and the event catalog.

What is checked is the output of ``kubectl kustomize`` (what a cluster would receive), not the source files.
"""

from __future__ import annotations

import ast
import importlib.util
import re
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from local.manifests import yaml_documents

REPO_ROOT = Path(__file__).resolve().parents[2]
K8S_DIR = REPO_ROOT / "infra" / "k8s"
KUSTOMIZATIONS = [
    "base",
    *sorted(f"overlays/{path.parent.name}" for path in (K8S_DIR / "overlays").glob("*/kustomization.yaml")),
]

KNATIVE_SERVICE = ("serving.knative.dev/v1", "Service")
TRIGGER = ("eventing.knative.dev/v1", "Trigger")
BROKER = ("eventing.knative.dev/v1", "Broker")
ROUTES_ANNOTATION = "pic.madrid.es/routes"
PART_OF = ("app.kubernetes.io/part-of", "pic")
# FUNCTION_SIGNATURE_TYPE -> the functions_framework decorator that serves that signature
DECORATOR_BY_SIGNATURE = {"http": "http", "cloudevent": "cloud_event"}
ROUTE_SEGMENT = re.compile(r"[a-z0-9][a-z0-9._-]*|\{[a-z_][a-z0-9_]*\}")
PREFIX_ROUTE = re.compile(r"(/[a-z0-9][a-z0-9._-]*)+/\{[a-z_][a-z0-9_]*\.\.\.\}")

INSTALL_KUBECTL = (
    "kubectl is not on PATH, so the Kubernetes manifests cannot be built and are NOT checked. "
    "Install kubectl >= 1.24 (it embeds kustomize >= 4.5, needed for `labels:`): the Kubernetes apt "
    "repository or the release binary, see https://kubernetes.io/docs/tasks/tools/ "
    "(Debian's own `kubernetes-client` 1.20 is too old); a standalone `kustomize` on PATH also works."
)


def _kustomize_command(directory: Path) -> list[str]:
    if kubectl := shutil.which("kubectl"):
        return [kubectl, "kustomize", str(directory)]
    if kustomize := shutil.which("kustomize"):
        return [kustomize, "build", str(directory)]
    pytest.skip(INSTALL_KUBECTL)


@cache
def _build(kustomization: str) -> tuple[dict[str, Any], ...]:
    command = _kustomize_command(K8S_DIR / kustomization)
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    if result.returncode != 0:
        pytest.fail(f"`{' '.join(command)}` failed ({result.returncode}):\n{result.stderr}")
    return tuple(yaml_documents(result.stdout))


def _of(resources: tuple[dict[str, Any], ...], api_version_kind: tuple[str, str]) -> list[dict[str, Any]]:
    return [r for r in resources if (r.get("apiVersion"), r.get("kind")) == api_version_kind]


def _name(resource: dict[str, Any]) -> str:
    return f"{resource['kind']}/{resource['metadata']['name']}"


def _function_env(service: dict[str, Any]) -> dict[str, str]:
    """The literal env of the Knative Service's (single) container."""
    containers = service["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1, f"{_name(service)}: one function container expected, got {len(containers)}"
    return {e["name"]: e["value"] for e in containers[0].get("env", []) if "value" in e}


def _framework_decorators(function: ast.FunctionDef | ast.AsyncFunctionDef, module: ast.Module) -> set[str]:
    """Names of the ``functions_framework`` decorators on ``function`` (``http``, ``cloud_event``),
    whether written ``@functions_framework.x``, ``@ff.x`` (aliased import) or ``@x`` (from-import)."""
    module_aliases: set[str] = set()
    imported: dict[str, str] = {}
    for node in ast.walk(module):
        if isinstance(node, ast.Import):
            module_aliases |= {a.asname or a.name for a in node.names if a.name == "functions_framework"}
        elif isinstance(node, ast.ImportFrom) and node.module == "functions_framework":
            imported |= {a.asname or a.name: a.name for a in node.names}
    found = set()
    for decorator in function.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name):
            if target.value.id in module_aliases:
                found.add(target.attr)
        elif isinstance(target, ast.Name) and target.id in imported:
            found.add(imported[target.id])
    return found


def _catalog() -> dict[str, Any]:
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    try:
        from events.catalog import CATALOG
    except ImportError as exc:
        pytest.fail(f"the event catalog cannot be imported ({exc}): Trigger types are checked against it")
    return CATALOG


builds = pytest.mark.parametrize("kustomization", KUSTOMIZATIONS)


@builds
def test_kustomization_builds_offline(kustomization: str) -> None:
    # GIVEN a kustomization under infra/k8s (the base or an overlay)
    # WHEN it is built with `kubectl kustomize`, without a cluster or network
    resources = _build(kustomization)

    # THEN it yields named resources, all in namespace pic
    assert resources, f"{kustomization} built to nothing"
    for resource in resources:
        assert resource.get("apiVersion") and resource.get("kind") and resource["metadata"].get("name")
        if resource["kind"] != "Namespace":
            assert resource["metadata"].get("namespace") == "pic", f"{_name(resource)} is outside namespace pic"


@builds
def test_every_resource_is_part_of_pic(kustomization: str) -> None:
    # GIVEN the built manifests
    resources = _build(kustomization)

    # WHEN their labels are read
    unlabelled = [_name(r) for r in resources if r["metadata"].get("labels", {}).get(PART_OF[0]) != PART_OF[1]]

    # THEN every one says it is part of pic
    assert not unlabelled, f"missing {PART_OF[0]}: {PART_OF[1]} on {unlabelled}"


@builds
def test_trigger_types_are_catalogued_and_consumed_by_their_subscriber(kustomization: str) -> None:
    # GIVEN the Triggers that filter on an event type, and the event catalog
    triggers = [
        t for t in _of(_build(kustomization), TRIGGER) if "type" in t["spec"].get("filter", {}).get("attributes", {})
    ]
    catalog = _catalog()

    # WHEN each filtered type and subscriber is looked up in the catalog
    problems = []
    for trigger in triggers:
        event_type = trigger["spec"]["filter"]["attributes"]["type"]
        subscriber = trigger["spec"]["subscriber"]["ref"]["name"]
        if event_type not in catalog:
            problems.append(f"{_name(trigger)}: type {event_type} is not in events.catalog.CATALOG")
        elif subscriber not in catalog[event_type].consumers:
            problems.append(
                f"{_name(trigger)}: {subscriber} is not among the consumers of {event_type} "
                f"({catalog[event_type].consumers})"
            )

    # THEN every type is catalogued and the catalog names the subscriber as a consumer
    assert not problems, "\n".join(problems)


@builds
def test_trigger_subscribers_are_knative_services_of_the_same_build(kustomization: str) -> None:
    # GIVEN the built Triggers and Knative Services
    resources = _build(kustomization)
    services = {s["metadata"]["name"] for s in _of(resources, KNATIVE_SERVICE)}

    # WHEN each subscriber is resolved
    dangling = []
    for trigger in _of(resources, TRIGGER):
        ref = trigger["spec"]["subscriber"].get("ref", {})
        if (ref.get("apiVersion"), ref.get("kind")) != KNATIVE_SERVICE or ref.get("name") not in services:
            dangling.append(f"{_name(trigger)} -> {ref or trigger['spec']['subscriber']}")

    # THEN it is a Knative Service deployed by the same build
    assert not dangling, f"subscribers that are not Knative Services of this build: {dangling}"


@builds
def test_triggers_name_a_broker_and_a_dead_letter_sink_of_the_same_build(kustomization: str) -> None:
    # GIVEN the built Triggers and Brokers
    resources = _build(kustomization)
    brokers = {b["metadata"]["name"] for b in _of(resources, BROKER)}

    # WHEN their broker and dead-letter sink are resolved
    problems = []
    for trigger in _of(resources, TRIGGER):
        spec = trigger["spec"]
        if spec.get("broker") not in brokers:
            problems.append(f"{_name(trigger)}: broker {spec.get('broker')} is not in this build")
        sink = spec.get("delivery", {}).get("deadLetterSink")
        if not sink:
            problems.append(f"{_name(trigger)}: no delivery.deadLetterSink")
        elif "ref" in sink and (
            (sink["ref"].get("apiVersion"), sink["ref"].get("kind")) == BROKER
            and sink["ref"].get("name") not in brokers
        ):
            problems.append(f"{_name(trigger)}: dead-letter Broker {sink['ref'].get('name')} is not in this build")

    # THEN every Trigger has both, and both exist
    assert not problems, "\n".join(problems)


@builds
def test_every_function_source_defines_its_decorated_target(kustomization: str) -> None:
    # GIVEN each Knative Service's functions-framework variables
    problems = []
    for service in _of(_build(kustomization), KNATIVE_SERVICE):
        env = _function_env(service)
        source, target, signature = (
            env.get("FUNCTION_SOURCE"),
            env.get("FUNCTION_TARGET"),
            env.get("FUNCTION_SIGNATURE_TYPE"),
        )
        if not (source and target and signature in DECORATOR_BY_SIGNATURE):
            problems.append(f"{_name(service)}: FUNCTION_SOURCE/TARGET/SIGNATURE_TYPE incomplete or unknown: {env}")
            continue
        path = REPO_ROOT / source
        if not path.is_file():
            problems.append(f"{_name(service)}: FUNCTION_SOURCE {source} does not exist")
            continue

        # WHEN the source is parsed (not imported)
        module = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        functions = {
            node.name: node for node in module.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        }

        # THEN it defines the target at top level, decorated for the declared signature
        if target not in functions:
            problems.append(f"{_name(service)}: {source} has no top-level function {target}")
            continue
        expected = DECORATOR_BY_SIGNATURE[signature]
        found = _framework_decorators(functions[target], module)
        if expected not in found:
            problems.append(
                f"{_name(service)}: {source}:{target} is not decorated with functions_framework.{expected} "
                f"(signature {signature}; found {sorted(found) or 'none'})"
            )
    assert not problems, "\n".join(problems)


@builds
def test_routes_annotations_parse(kustomization: str) -> None:
    # GIVEN the Knative Services that declare routes for the gateway
    services = [
        s
        for s in _of(_build(kustomization), KNATIVE_SERVICE)
        if ROUTES_ANNOTATION in s["metadata"].get("annotations", {})
    ]

    problems = []
    for service in services:
        # WHEN the annotation is split into routes and segments
        routes = service["metadata"]["annotations"][ROUTES_ANNOTATION].split(",")
        if _function_env(service).get("FUNCTION_SIGNATURE_TYPE") != "http":
            problems.append(f"{_name(service)}: routes on a function whose signature is not http")
        if len(routes) != len(set(routes)):
            problems.append(f"{_name(service)}: duplicate routes in {routes}")
        for route in routes:
            segments = route.split("/")[1:]
            # THEN each route is /v1/... and every segment is a literal or a {name} placeholder, or a channel's
            # tree of pages: /<literal>/.../{name...} outside /v1 (generate_routes.py's prefix form, ADR 0019)
            if PREFIX_ROUTE.fullmatch(route) and not route.startswith("/v1/"):
                continue
            # a path-inserted well-known URI (RFC 8615, RFC 8414 §3.1): /.well-known/<name>/v1/... (the wallet issuer)
            if segments[:1] == [".well-known"] and len(segments) > 2 and ROUTE_SEGMENT.fullmatch(segments[1]):
                route, segments = "/" + "/".join(segments[2:]), segments[2:]
            if not route.startswith("/v1/") or not all(ROUTE_SEGMENT.fullmatch(s) for s in segments):
                problems.append(f"{_name(service)}: route {route!r} is not /v1/ followed by literals or {{name}}")
    assert not problems, "\n".join(problems)


EVENT_CONSUMER_LABEL = ("pic.madrid.es/event-consumer", "true")
FUNCTIONS_IMAGE = "pic-functions"
IRSA_ANNOTATION = "eks.amazonaws.com/role-arn"
IRSA_ROLE = re.compile(r"arn:aws:iam::(ACCOUNT_ID|\d{12}):role/(?P<role>[\w+=,.@-]+)")


CRON_JOB = ("batch/v1", "CronJob")


def _pod_spec(workload: dict[str, Any]) -> dict[str, Any]:
    """The pod template's spec of a Knative Service, a Deployment, a Job or a CronJob (under its jobTemplate)."""
    outer = workload["spec"]["jobTemplate"]["spec"] if workload.get("kind") == "CronJob" else workload["spec"]
    spec: dict[str, Any] = outer["template"]["spec"]
    return spec


def test_opa_bundle_copy_matches_policies() -> None:
    # GIVEN the generator that copies policies/ into infra/k8s/base/opa (kustomize reads nothing outside)
    spec = importlib.util.spec_from_file_location("generate_opa_bundle", K8S_DIR / "generate_opa_bundle.py")
    assert spec and spec.loader
    generator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generator)

    # WHEN the copy on disk is compared with what it would write now
    problems = generator.stale()

    # THEN they are the same: OPA in a cluster serves the policies the tests ran
    assert not problems, "infra/k8s/base/opa is stale; run `python infra/k8s/generate_opa_bundle.py`:\n" + "\n".join(
        problems
    )


@builds
def test_trigger_subscribers_are_admitted_from_the_broker(kustomization: str) -> None:
    # GIVEN the built Triggers and the Knative Services they deliver to
    resources = _build(kustomization)
    services = {s["metadata"]["name"]: s for s in _of(resources, KNATIVE_SERVICE)}
    subscribers = {t["spec"]["subscriber"]["ref"]["name"] for t in _of(resources, TRIGGER)}

    # WHEN each subscriber's pod labels are read
    unlabelled = [
        name
        for name in sorted(subscribers & services.keys())
        if services[name]["spec"]["template"].get("metadata", {}).get("labels", {}).get(EVENT_CONSUMER_LABEL[0])
        != EVENT_CONSUMER_LABEL[1]
    ]

    # THEN each carries the label NetworkPolicy allow-broker-to-event-functions admits the broker by
    assert not unlabelled, (
        f'Trigger subscribers without `{EVENT_CONSUMER_LABEL[0]}: "{EVENT_CONSUMER_LABEL[1]}"` in '
        f"spec.template.metadata.labels: {unlabelled}"
    )


@builds
def test_ingress_is_denied_by_default(kustomization: str) -> None:
    # GIVEN the built NetworkPolicies
    policies = _of(_build(kustomization), ("networking.k8s.io/v1", "NetworkPolicy"))

    # WHEN one selects every pod for ingress and allows nothing
    default_deny = [
        p
        for p in policies
        if p["spec"].get("podSelector") == {}
        and "Ingress" in p["spec"].get("policyTypes", [])
        and not p["spec"].get("ingress")
    ]

    # THEN it exists: every other ingress is an explicit exception
    assert default_deny, f"{kustomization}: no NetworkPolicy denies ingress to every pod of namespace pic"


def test_public_cloud_gives_every_function_workload_its_own_iam_role() -> None:
    # GIVEN the AWS overlay's workloads that run the functions image, and its ServiceAccounts
    resources = _build("overlays/public-cloud")
    kinds = [KNATIVE_SERVICE, ("apps/v1", "Deployment"), CRON_JOB]
    workloads = [
        w
        for w in [r for kind in kinds for r in _of(resources, kind)]
        if any(FUNCTIONS_IMAGE in c["image"] for c in _pod_spec(w)["containers"])
    ]
    accounts = {a["metadata"]["name"]: a for a in _of(resources, ("v1", "ServiceAccount"))}

    problems = []
    for workload in workloads:
        # WHEN its ServiceAccount and that account's IAM role are looked up
        name = workload["metadata"]["name"]
        account = _pod_spec(workload).get("serviceAccountName")
        if account != name:
            problems.append(f"{_name(workload)}: serviceAccountName is {account!r}, expected {name!r}")
            continue
        if account not in accounts:
            problems.append(f"{_name(workload)}: ServiceAccount {account} is not in the overlay")
            continue
        role = IRSA_ROLE.fullmatch(accounts[account]["metadata"].get("annotations", {}).get(IRSA_ANNOTATION, ""))
        # THEN each has its own account, bound to the IAM role named after it (an environment prefix allowed)
        if not role or not (role["role"] == name or role["role"].endswith(f"-{name}")):
            problems.append(f"ServiceAccount/{account}: {IRSA_ANNOTATION} is not arn:aws:iam::ACCOUNT_ID:role/{name}")
        if _pod_spec(workload).get("automountServiceAccountToken") is False:
            problems.append(f"{_name(workload)}: automountServiceAccountToken is false, IRSA expects the token")
    assert workloads, "the public-cloud overlay builds no workload running the functions image"
    assert not problems, "\n".join(problems)


# --- the campaign domain's object store (functions/campaign/files.py) --------------------------------

CAMPAIGN_BUCKET = "PIC_CAMPAIGN_BUCKET"
CLOUD_OVERLAYS = ["overlays/public-cloud", "overlays/private-cloud"]


def _workloads(resources: tuple[dict[str, Any], ...]) -> list[dict[str, Any]]:
    kinds = [KNATIVE_SERVICE, ("apps/v1", "Deployment"), ("batch/v1", "Job"), CRON_JOB]
    return [w for kind in kinds for w in _of(resources, kind)]


def _runs_campaign_code(container: dict[str, Any]) -> bool:
    """Whether the container runs functions.campaign: ``python -m functions.campaign.<x>``, or a Knative
    function whose FUNCTION_SOURCE is under functions/campaign/."""
    command = " ".join([*container.get("command", []), *container.get("args", [])])
    source = next((e.get("value", "") for e in container.get("env", []) if e["name"] == "FUNCTION_SOURCE"), "")
    return "functions.campaign." in command or source.startswith("functions/campaign/")


def _environment(container: dict[str, Any], resources: tuple[dict[str, Any], ...]) -> dict[str, str]:
    """The literal environment the container starts with: its ConfigMaps (envFrom, of the same build), then its
    own env, which wins."""
    maps = {m["metadata"]["name"]: m.get("data", {}) for m in _of(resources, ("v1", "ConfigMap"))}
    found: dict[str, str] = {}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            found.update(maps.get(source["configMapRef"]["name"], {}))
    found.update({e["name"]: e["value"] for e in container.get("env", []) if "value" in e})
    return found


def _campaign_containers(kustomization: str) -> list[tuple[dict[str, Any], dict[str, str]]]:
    resources = _build(kustomization)
    return [
        (workload, _environment(container, resources))
        for workload in _workloads(resources)
        for container in _pod_spec(workload)["containers"]
        if _runs_campaign_code(container)
    ]


@pytest.mark.parametrize("overlay", CLOUD_OVERLAYS)
def test_every_campaign_workload_in_a_cloud_overlay_shares_the_bucket(overlay: str) -> None:
    # GIVEN the cloud overlay's workloads whose container runs functions.campaign (the API, the event consumer,
    # the dispatcher, the export CronJob)
    found = _campaign_containers(overlay)
    names = {w["metadata"]["name"] for w, _ in found}
    assert {"pic-campaign", "pic-campaign-events", "pic-campaign-dispatch", "pic-campaign-export"} <= names, names

    # WHEN the bucket each starts with is read
    buckets = {_name(w): env.get(CAMPAIGN_BUCKET) for w, env in found}

    # THEN all have one and the same: without it each pod keeps its own scratch directory, and a run's members
    # written by the dispatcher never reach the conversions of pic-campaign-events
    assert all(buckets.values()), f"{overlay}: workloads without {CAMPAIGN_BUCKET}: {buckets}"
    assert len(set(buckets.values())) == 1, f"{overlay}: the campaign workloads name different buckets: {buckets}"


def test_make_run_keeps_the_campaign_files_in_the_local_directory() -> None:
    # GIVEN the local overlay's campaign workloads
    found = _campaign_containers("overlays/local")
    assert found, "overlays/local runs no functions.campaign workload"

    # THEN none is given a bucket (files.py: no PIC_CAMPAIGN_BUCKET, the directory $PIC_DATA_DIR/campaign)
    assert not [_name(w) for w, env in found if env.get(CAMPAIGN_BUCKET)]


def _cron_period_seconds(schedule: str) -> int:
    """The period of a ``*/N * * * *`` schedule, in seconds (the only shape the export uses)."""
    match = re.fullmatch(r"\*/([0-9]+) \* \* \* \*", schedule)
    assert match, f"schedule {schedule!r} is not */N minutes"
    return int(match.group(1)) * 60


@pytest.mark.parametrize("overlay", CLOUD_OVERLAYS)
def test_a_count_reads_the_export_the_cronjob_writes(overlay: str) -> None:
    # GIVEN the export CronJob's period and pic-campaign's environment in a cloud overlay
    resources = _build(overlay)
    (cron,) = [c for c in _of(resources, CRON_JOB) if c["metadata"]["name"] == "pic-campaign-export"]
    assert cron["spec"].get("concurrencyPolicy") == "Forbid", "two exports must never scan at once"
    period = _cron_period_seconds(cron["spec"]["schedule"])
    ((_, env),) = [(w, e) for w, e in _campaign_containers(overlay) if _name(w) == "Service/pic-campaign"]

    # THEN the count rewrites the export only when the CronJob has missed a period: at city scale a rewrite takes
    # minutes, longer than the function's request timeout
    assert float(env.get("PIC_CAMPAIGN_EXPORT_SECONDS", "60")) > period, (
        f"{overlay}: PIC_CAMPAIGN_EXPORT_SECONDS of pic-campaign must exceed the export's {period} s period"
    )


# --- event senders (docs/decisions/0011) ------------------------------------------------------------

EVENT_POLICY = ("eventing.knative.dev/v1alpha1", "EventPolicy")


def _generator(name: str) -> Any:
    spec = importlib.util.spec_from_file_location(name, K8S_DIR / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


def test_sender_manifests_match_the_catalog() -> None:
    # GIVEN the generator that writes infra/k8s/base/senders from the event catalog
    generator = _generator("generate_senders")

    # WHEN the files on disk are compared with what it would write now
    problems = generator.stale()

    # THEN they are the same: the broker admits exactly the senders the catalog names
    assert not problems, "infra/k8s/base/senders is stale; run `python infra/k8s/generate_senders.py`:\n" + "\n".join(
        problems
    )


def test_route_manifests_match_the_routes_annotations() -> None:
    # GIVEN the generator that writes infra/k8s/base/routes from the Services' routes annotations
    generator = _generator("generate_routes")

    # WHEN the files on disk are compared with what it would write now
    problems = generator.stale()

    # THEN they are the same: the cluster's API host routes what the annotations say
    assert not problems, "infra/k8s/base/routes is stale; run `python infra/k8s/generate_routes.py`:\n" + "\n".join(
        problems
    )


GATEWAY = ("gateway.networking.k8s.io/v1", "Gateway")


def _annotated_service(name: str, routes: str) -> str:
    return yaml.safe_dump(
        {
            "apiVersion": "serving.knative.dev/v1",
            "kind": "Service",
            "metadata": {"name": name, "annotations": {ROUTES_ANNOTATION: routes}},
        }
    )


def test_two_services_claiming_one_path_are_refused(tmp_path: Path) -> None:
    # GIVEN two Services whose patterns one request path matches (/v1/things/export)
    generator = _generator("generate_routes")
    (tmp_path / "service-a.yaml").write_text(_annotated_service("a", "/v1/things,/v1/things/{thing_id}"))
    (tmp_path / "service-b.yaml").write_text(_annotated_service("b", "/v1/things/export,/v1/things/{thing_id}/x"))

    # WHEN the routes are generated THEN it refuses, naming both patterns
    with pytest.raises(
        generator.RouteConflictError, match=r"/v1/things/\{thing_id\} \(a\) and /v1/things/export \(b\)"
    ):
        generator.expected_files(tmp_path)


def test_routes_sharing_a_prefix_are_ordered_most_specific_first(tmp_path: Path) -> None:
    # GIVEN one Service with overlapping patterns of its own (harmless: one backend) and one sharing a prefix
    generator = _generator("generate_routes")
    (tmp_path / "service-a.yaml").write_text(_annotated_service("a", "/v1/things/{thing_id},/v1/things/export"))
    (tmp_path / "service-b.yaml").write_text(_annotated_service("b", "/v1/things/{thing_id}/parts"))

    # WHEN the routes are generated
    files = generator.expected_files(tmp_path)
    route = yaml.safe_load(files[tmp_path / "routes" / "httproute-a.yaml"].split("\n", 1)[1])

    # THEN the literal pattern comes first, and each is anchored
    values = [m["path"]["value"] for m in route["spec"]["rules"][0]["matches"]]
    assert values == ["^/v1/things/export/?$", "^/v1/things/(?P<thing_id>[^/]+)/?$"]
    assert (tmp_path / "routes" / "httproute-b.yaml") in files


HTTP_ROUTE = ("gateway.networking.k8s.io/v1", "HTTPRoute")


@pytest.mark.parametrize("overlay", [k for k in KUSTOMIZATIONS if k.startswith("overlays/")])
def test_every_overlay_serves_the_api_on_its_own_host(overlay: str) -> None:
    # GIVEN an overlay's build
    resources = _build(overlay)

    # THEN it has the one Gateway, on a host of its own (not the base's placeholder), over HTTPS
    [gateway] = _of(resources, GATEWAY)
    [listener] = gateway["spec"]["listeners"]
    assert listener["protocol"] == "HTTPS" and listener["tls"]["certificateRefs"], listener
    assert listener["hostname"] != _generator("generate_routes").BASE_HOST, f"{overlay} does not set the API host"


@builds
def test_every_http_route_attaches_to_the_gateway_and_reaches_a_knative_service(kustomization: str) -> None:
    # GIVEN the built HTTPRoutes, Gateways and Knative Services
    resources = _build(kustomization)
    gateways = {g["metadata"]["name"] for g in _of(resources, GATEWAY)}
    services = {s["metadata"]["name"]: s for s in _of(resources, KNATIVE_SERVICE)}
    routed = set()
    for route in _of(resources, HTTP_ROUTE):
        # THEN each attaches to a Gateway of the build and sends to an HTTP function's Knative Service
        assert {p["name"] for p in route["spec"]["parentRefs"]} <= gateways, _name(route)
        for rule in route["spec"]["rules"]:
            for backend in rule["backendRefs"]:
                assert backend["name"] in services, f"{_name(route)}: no Knative Service {backend['name']}"
                assert _function_env(services[backend["name"]])["FUNCTION_SIGNATURE_TYPE"] == "http"
                routed.add(backend["name"])
    # AND every Service with routes is reachable through one
    annotated = {n for n, s in services.items() if s["metadata"].get("annotations", {}).get(ROUTES_ANNOTATION)}
    assert annotated == routed, f"annotated but not routed: {annotated - routed}; routed: {routed - annotated}"


@builds
def test_every_catalogued_type_has_a_sender_admitted_by_an_event_policy(kustomization: str) -> None:
    # GIVEN the built EventPolicies on Broker pic and the catalog
    catalog = _catalog()
    policies = [
        p
        for p in _of(_build(kustomization), EVENT_POLICY)
        if any(t.get("ref", {}).get("name") == "pic" for t in p["spec"].get("to", []))
    ]

    # WHEN the types each policy admits are collected
    admitted: set[str] = set()
    for policy in policies:
        for expression in policy["spec"].get("filters", []):
            admitted |= {f["exact"]["type"] for f in expression.get("any", []) if "type" in f.get("exact", {})}

    # THEN every catalogued type is admitted from someone, and every policy names its sender by subject
    assert not sorted(set(catalog) - admitted), "catalogued types no EventPolicy admits"
    assert all(
        all(f.get("sub", "").startswith("system:serviceaccount:pic:") for f in p["spec"]["from"]) for p in policies
    )


@builds
def test_each_outbox_relay_sends_as_its_domain_with_a_token_for_the_broker(kustomization: str) -> None:
    # GIVEN the built relay Deployments, ServiceAccounts and the broker's audience
    from events.catalog import BROKER_AUDIENCE, DOMAINS

    resources = _build(kustomization)
    relays = {
        d["metadata"]["name"]: d
        for d in _of(resources, ("apps/v1", "Deployment"))
        if d["metadata"].get("labels", {}).get("pic.madrid.es/outbox-relay") == "true"
    }
    accounts = {a["metadata"]["name"] for a in _of(resources, ("v1", "ServiceAccount"))}

    problems = []
    for domain, sender in DOMAINS.items():
        relay = relays.get(sender.account)
        if relay is None:
            problems.append(f"no relay Deployment {sender.account} for domain {domain}")
            continue
        # WHEN its pod spec is read
        pod = _pod_spec(relay)
        env = {e["name"]: e.get("value") for e in pod["containers"][0].get("env", [])}
        tokens = [
            s["serviceAccountToken"]
            for v in pod.get("volumes", [])
            for s in v.get("projected", {}).get("sources", [])
            if "serviceAccountToken" in s
        ]
        # THEN it runs as the domain's sender account, publishes that domain only, with a broker token
        if pod.get("serviceAccountName") != sender.account or sender.account not in accounts:
            problems.append(f"{sender.account}: must run as ServiceAccount {sender.account} (of the same build)")
        if env.get("PIC_RELAY_DOMAIN") != domain:
            problems.append(f"{sender.account}: PIC_RELAY_DOMAIN is {env.get('PIC_RELAY_DOMAIN')!r}")
        if [t.get("audience") for t in tokens] != [BROKER_AUDIENCE]:
            problems.append(f"{sender.account}: needs one projected token for {BROKER_AUDIENCE}, has {tokens}")
    assert not problems, "\n".join(problems)
