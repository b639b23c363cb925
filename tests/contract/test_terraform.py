"""Contract: the Terraform landing zones in infra/terraform agree with the pynamodb models and the Knative
manifests, read like a catalogue, and validate offline as far as the machine's providers allow.

- Tables: every table a model defines (``functions.core.tables.load_models``) exists in envs/aws with the same
  keys and key types, the same GSIs (name, keys, projection), TTL on ``expires_at`` where the model has it,
  point-in-time recovery and the customer-managed KMS key on; and there is no table without a model.
  The Terraform is read with python-hcl2, exactly as the env composes it (module calls and their inputs).
- Roles: every Knative Service, Deployment and CronJob of ``kubectl kustomize infra/k8s/base`` has an IRSA role in
  envs/aws trusting its service account (``serviceAccountName``, else the function's own name: the
  public-cloud overlay creates one ServiceAccount per function); overlays/local (event display) is not
  deployed to AWS and is not checked. Roles only touch tables and indexes the env declares.
- Toolchain: ``terraform fmt -check``; ``terraform init -backend=false -plugin-dir=<mirror>`` + ``validate``
  (+ ``terraform test`` with mocked providers) for every module, example and env whose providers are in the
  offline mirror. What needs other providers (kubernetes, helm) is named, with the command to run where the
  network is, never skipped silently.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import warnings
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.contract.test_manifests import _build as build_kustomization
from tests.contract.test_manifests import _pod_spec

REPO_ROOT = Path(__file__).resolve().parents[2]
TF_ROOT = REPO_ROOT / "infra" / "terraform"
MODULES = TF_ROOT / "modules"
ENVS = TF_ROOT / "envs"
AWS_ENV = ENVS / "aws"
PRIVATE_ENV = ENVS / "private"
K8S_DIR = REPO_ROOT / "infra" / "k8s"
K8S_BASE = K8S_DIR / "base"

TABLE_MODULE = "../../modules/dynamodb-table"
ROLE_MODULE = "../../modules/function-iam-role"
KMS_MODULE = "../../modules/kms-key"
ADDONS_MODULE = "../../modules/cluster-addons"
MODULE_FILES = ("main.tf", "variables.tf", "outputs.tf", "versions.tf", "README.md")
WORKLOADS = {("serving.knative.dev/v1", "Service"), ("apps/v1", "Deployment"), ("batch/v1", "CronJob")}
TTL_ATTRIBUTE = "expires_at"  # the local runtime enables TTL on it; TTLAttribute is not used
INTERPOLATION = re.compile(r"\$\{var\.([A-Za-z0-9_]+)\}")

if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

hcl2 = pytest.importorskip("hcl2", reason="python-hcl2 is not installed: `pip install -r requirements-dev.txt`")
HCL_OPTIONS = hcl2.SerializationOptions(
    with_comments=False, explicit_blocks=False, strip_string_quotes=True, preserve_heredocs=False
)


class TerraformNotValidatedOfflineWarning(UserWarning):
    """Part of infra/terraform needs providers that the offline mirror does not hold."""


# --- reading HCL ---------------------------------------------------------------------------------


@cache
def _load_file(path: Path) -> dict[str, list[Any]]:
    with path.open(encoding="utf-8") as handle:
        return hcl2.load(handle, serialization_options=HCL_OPTIONS)  # type: ignore[no-any-return]


def _blocks(directory: Path, kind: str) -> dict[str, Any]:
    """Blocks of one kind (module, variable, output, ...) of every .tf file in ``directory``, by name."""
    found: dict[str, Any] = {}
    for path in sorted(directory.glob("*.tf")):
        for block in _load_file(path).get(kind, []):
            for name, body in block.items():
                assert name not in found, f"{kind} {name!r} is declared twice in {directory}"
                found[name] = body
    return found


def _resources(directory: Path, resource_type: str) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for path in sorted(directory.glob("*.tf")):
        for block in _load_file(path).get("resource", []):
            found.update(block.get(resource_type, {}))
    return found


def _modules_from(directory: Path, source: str) -> dict[str, dict[str, Any]]:
    return {name: body for name, body in _blocks(directory, "module").items() if body.get("source") == source}


def _variable_defaults(directory: Path) -> dict[str, Any]:
    return {name: body["default"] for name, body in _blocks(directory, "variable").items() if "default" in body}


def _resolve(value: Any, defaults: dict[str, Any], where: str) -> Any:
    """A literal, or a string whose ``${var.x}`` parts are replaced by the variables' defaults."""
    if not isinstance(value, str):
        return value

    def default(match: re.Match[str]) -> str:
        name = match.group(1)
        assert name in defaults, f"{where}: var.{name} has no default, so the contract cannot read {value!r}"
        return str(defaults[name])

    resolved = INTERPOLATION.sub(default, value)
    assert "${" not in resolved, f"{where}: {value!r} must be a literal or use only variables with defaults"
    return resolved


def _literal(value: Any, where: str) -> Any:
    assert not (isinstance(value, str) and "${" in value), f"{where} must be a literal in the env, got {value!r}"
    return value


# --- the models ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Index:
    name: str
    hash_key: str
    range_key: str | None
    projection: str
    non_key_attributes: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Table:
    hash_key: str
    range_key: str | None
    attributes: frozenset[tuple[str, str]]
    indexes: frozenset[Index]
    ttl_attribute: str | None


def _keys(key_schema: list[Any]) -> tuple[str, str | None]:
    by_type = {k["KeyType"]: k["AttributeName"] for k in key_schema}
    return by_type["HASH"], by_type.get("RANGE")


@cache
def _model_tables() -> dict[str, Table]:
    """Tables the pynamodb models define, by domain name (the physical name without the env prefix)."""
    from functions.core.settings import get_settings
    from functions.core.tables import load_models

    prefix = get_settings().table_prefix
    tables = {}
    for name, model in load_models().items():
        schema = model._get_schema()
        assert not schema["local_secondary_indexes"], (
            f"{name} has local secondary indexes: teach modules/dynamodb-table (and this contract) about them"
        )
        hash_key, range_key = _keys(schema["key_schema"])
        indexes = set()
        for gsi in schema["global_secondary_indexes"]:
            index_hash, index_range = _keys(gsi["key_schema"])
            projection = gsi["projection"]
            indexes.add(
                Index(
                    gsi["index_name"],
                    index_hash,
                    index_range,
                    projection["ProjectionType"],
                    frozenset(projection.get("NonKeyAttributes", [])),
                )
            )
        tables[name.removeprefix(prefix)] = Table(
            hash_key,
            range_key,
            frozenset((a["AttributeName"], a["AttributeType"]) for a in schema["attribute_definitions"]),
            frozenset(indexes),
            TTL_ATTRIBUTE if TTL_ATTRIBUTE in model.get_attributes() else None,
        )
    assert tables, "no pynamodb model registered a table (functions.core.store.defines_table)"
    return tables


# --- the env's tables ----------------------------------------------------------------------------


def _table_domain(module_name: str, body: dict[str, Any]) -> str:
    match = re.fullmatch(r"\$\{var\.table_prefix\}([A-Za-z0-9_.-]+)", str(body.get("name", "")))
    assert match, f'module.{module_name}: name must be "${{var.table_prefix}}<domain>", got {body.get("name")!r}'
    return match.group(1)


def _terraform_table(module_name: str, body: dict[str, Any]) -> Table:
    where = f"envs/aws module.{module_name}"
    indexes = set()
    for gsi in _literal(body.get("global_secondary_indexes", []), f"{where} global_secondary_indexes"):
        assert "projection_type" in gsi, f"{where}: index {gsi.get('name')!r} must state its projection_type"
        indexes.add(
            Index(
                _literal(gsi["name"], where),
                _literal(gsi["hash_key"], where),
                _literal(gsi.get("range_key"), where),
                _literal(gsi["projection_type"], where),
                frozenset(_literal(gsi.get("non_key_attributes", []), where)),
            )
        )
    return Table(
        _literal(body["hash_key"], f"{where} hash_key"),
        _literal(body.get("range_key"), f"{where} range_key"),
        frozenset((a["name"], a["type"]) for a in _literal(body["attributes"], f"{where} attributes")),
        frozenset(indexes),
        _literal(body.get("ttl_attribute_name"), f"{where} ttl_attribute_name"),
    )


def _terraform_tables() -> dict[str, tuple[str, Table]]:
    """Tables envs/aws declares, by domain name: (module name, shape)."""
    tables: dict[str, tuple[str, Table]] = {}
    for module_name, body in _modules_from(AWS_ENV, TABLE_MODULE).items():
        domain = _table_domain(module_name, body)
        assert domain not in tables, f"table {domain!r} is declared twice (module.{tables[domain][0]}, {module_name})"
        tables[domain] = (module_name, _terraform_table(module_name, body))
    return tables


# Tables only a store without TransactWriteItems needs (functions/core/transactions.py, ADR 0005): the AWS
# landing zone commits with TransactWriteItems, so it deliberately has none of them; on premises the
# bootstrap creates them from the models like every other table.
EMULATION_ONLY = frozenset({"transactions"})


def test_every_model_table_is_in_the_aws_landing_zone_with_its_keys_indexes_and_ttl() -> None:
    # GIVEN the tables the pynamodb models define (but those only emulated transactions use)
    models = {name: table for name, table in _model_tables().items() if name not in EMULATION_ONLY}

    # WHEN envs/aws is read as Terraform composes it
    declared = _terraform_tables()

    # THEN each model table is declared with the same keys, attribute types, GSIs and TTL
    missing = sorted(set(models) - set(declared))
    assert not missing, f"tables with a model but no Terraform in envs/aws: {missing}"
    for domain, model in models.items():
        module_name, table = declared[domain]
        where = f"table {domain!r} (envs/aws module.{module_name})"
        assert (table.hash_key, table.range_key) == (model.hash_key, model.range_key), f"{where}: keys differ"
        assert table.attributes == model.attributes, (
            f"{where}: key attributes {sorted(table.attributes)} != model's {sorted(model.attributes)}"
        )
        assert table.indexes == model.indexes, f"{where}: GSIs {table.indexes} != model's {model.indexes}"
        assert table.ttl_attribute == model.ttl_attribute, (
            f"{where}: TTL on {table.ttl_attribute!r}, the model expects {model.ttl_attribute!r}"
        )


def test_no_table_exists_without_a_model() -> None:
    # GIVEN the model tables
    models = _model_tables()

    # WHEN every DynamoDB table of every env is listed (module calls and raw resources)
    extra = sorted(set(_terraform_tables()) - set(models))
    raw = {env.name: sorted(_resources(env, "aws_dynamodb_table")) for env in ENVS.iterdir() if env.is_dir()}
    private_tables = sorted(_modules_from(PRIVATE_ENV, TABLE_MODULE))

    # THEN none lacks a model, tables are only made through the module, and the private cloud makes none
    # (its tables come from the models at bootstrap: envs/private/README.md)
    assert not extra, f"tables in envs/aws without a pynamodb model: {extra}"
    assert not any(raw.values()), f"aws_dynamodb_table outside modules/dynamodb-table: {raw}"
    assert not private_tables, f"envs/private must not declare tables (bootstrap creates them): {private_tables}"


def test_every_table_is_encrypted_with_the_customer_key_and_recoverable() -> None:
    # GIVEN the table module's resource and defaults, and the env's KMS module calls
    table_resource = _resources(MODULES / "dynamodb-table", "aws_dynamodb_table")["this"]
    module_variables = _blocks(MODULES / "dynamodb-table", "variable")
    kms_modules = _modules_from(AWS_ENV, KMS_MODULE)

    # WHEN the module's wiring is read
    pitr = table_resource["point_in_time_recovery"][0]
    sse = table_resource["server_side_encryption"][0]

    # THEN the module always encrypts with the given key and turns PITR on unless told otherwise
    assert sse == {"enabled": True, "kms_key_arn": "${var.kms_key_arn}"}, f"module SSE wiring changed: {sse}"
    assert "default" not in module_variables["kms_key_arn"], "kms_key_arn must stay required (no AWS-owned key)"
    assert pitr["enabled"] == "${var.point_in_time_recovery_enabled}", f"module PITR wiring changed: {pitr}"
    assert module_variables["point_in_time_recovery_enabled"]["default"] is True

    # AND every env table passes a customer key made by the kms-key module and keeps PITR on
    for module_name, body in _modules_from(AWS_ENV, TABLE_MODULE).items():
        assert body.get("point_in_time_recovery_enabled", True) is True, f"module.{module_name} turns PITR off"
        key = re.fullmatch(r"\$\{module\.([A-Za-z0-9_-]+)\.key_arn\}", str(body.get("kms_key_arn")))
        assert key and key.group(1) in kms_modules, f"module.{module_name}: kms_key_arn must be a kms-key module's"
        assert kms_modules[key.group(1)].get("create", True) is True, f"module.{key.group(1)} is not created"


def test_the_aws_table_prefix_is_the_one_the_functions_are_given() -> None:
    # GIVEN the base pic-config ConfigMap the functions read
    config = yaml.safe_load((K8S_BASE / "configmap-pic-config.yaml").read_text(encoding="utf-8"))

    # WHEN the landing zones' default table prefixes are read
    prefixes = {env: _variable_defaults(ENVS / env).get("table_prefix") for env in ("aws", "private")}

    # THEN they equal PIC_TABLE_PREFIX, so that Terraform's tables are the functions' tables
    assert prefixes == {"aws": config["data"]["PIC_TABLE_PREFIX"], "private": config["data"]["PIC_TABLE_PREFIX"]}


# --- functions and their roles -------------------------------------------------------------------


def _kustomize(directory: Path) -> list[dict[str, Any]]:
    """What kustomize builds (one build per kustomization for the whole contract suite)."""
    return list(build_kustomization(str(directory.relative_to(K8S_DIR))))


def _functions_image() -> str:
    """The one image every function runs (the base kustomization's `images:` entry)."""
    kustomization = yaml.safe_load((K8S_BASE / "kustomization.yaml").read_text(encoding="utf-8"))
    (image,) = [entry["name"] for entry in kustomization.get("images", [])]
    return str(image)


def _image_name(reference: str) -> str:
    """The image's name without its tag or digest (a registry's :port is kept)."""
    name = reference.split("@")[0]
    last = name.rsplit("/", 1)[-1]
    return name.rsplit(":", 1)[0] if ":" in last else name


@cache
def _base_functions() -> tuple[tuple[str, str, str], ...]:
    """(function, namespace, service account) of every Knative Service, Deployment and CronJob of the base that runs
    the functions image (OPA, also a base Deployment, reaches nothing in AWS). The service account is the
    one the workload runs as on EKS: the public-cloud overlay's serviceAccountName when that overlay exists,
    else the base's, else the function's own name."""
    image = _functions_image()
    public_cloud = K8S_BASE.parent / "overlays" / "public-cloud"
    deployed = {}
    if (public_cloud / "kustomization.yaml").is_file():
        for resource in _kustomize(public_cloud):
            if (resource.get("apiVersion"), resource.get("kind")) in WORKLOADS:
                deployed[resource["metadata"]["name"]] = _pod_spec(resource).get("serviceAccountName")
    functions = []
    for resource in _kustomize(K8S_BASE):
        if (resource.get("apiVersion"), resource.get("kind")) not in WORKLOADS:
            continue
        meta, pod = resource["metadata"], _pod_spec(resource)
        if not any(_image_name(c["image"]) == image for c in pod["containers"]):
            continue
        account = deployed.get(meta["name"]) or pod.get("serviceAccountName") or meta["name"]
        functions.append((meta["name"], meta["namespace"], account))
    assert functions, f"infra/k8s/base has no Knative Service or Deployment running {image}"
    return tuple(sorted(functions))


def _roles() -> dict[str, tuple[str, str, dict[str, Any]]]:
    """IRSA roles of envs/aws: module name -> (namespace, service account, module body)."""
    defaults = _variable_defaults(AWS_ENV)
    roles = {}
    for module_name, body in _modules_from(AWS_ENV, ROLE_MODULE).items():
        where = f"envs/aws module.{module_name}"
        roles[module_name] = (
            _resolve(body["namespace"], defaults, f"{where} namespace"),
            _resolve(body["service_account"], defaults, f"{where} service_account"),
            body,
        )
    return roles


def test_every_function_has_an_iam_role_for_its_service_account() -> None:
    # GIVEN the functions that the base manifests deploy, with the service account each runs as on EKS
    workloads = _base_functions()

    # WHEN the IRSA roles of envs/aws are read
    trusted = {(namespace, account): name for name, (namespace, account, _) in _roles().items()}

    # THEN every function's service account is trusted by a role, and every role serves a function
    without = [f"{fn} ({ns}/{sa})" for fn, ns, sa in workloads if (ns, sa) not in trusted]
    assert not without, f"functions without an IAM role in envs/aws (functions.tf): {without}"
    deployed = {(ns, sa) for _, ns, sa in workloads}
    orphans = sorted(name for key, name in trusted.items() if key not in deployed)
    assert not orphans, f"roles in envs/aws for service accounts no function uses: {orphans}"


def test_roles_only_touch_declared_tables_and_their_indexes() -> None:
    # GIVEN the tables of envs/aws by module name
    tables = {module_name: table for module_name, table in _terraform_tables().values()}

    # WHEN each role's permissions are read
    for module_name, (_, _, body) in _roles().items():
        permissions = body.get("table_permissions", [])
        assert permissions, f"module.{module_name} grants no table access"
        for permission in permissions:
            target = re.fullmatch(r"\$\{module\.([A-Za-z0-9_-]+)\.table_arn\}", str(permission["table_arn"]))

            # THEN each names a table module of the env, and only indexes that table has
            assert target and target.group(1) in tables, (
                f"module.{module_name} {permission['sid']}: table_arn must be a table module's table_arn"
            )
            indexes = {index.name for index in tables[target.group(1)].indexes}
            unknown = sorted(set(permission.get("index_actions", {})) - indexes)
            assert not unknown, f"module.{module_name} {permission['sid']}: no such index {unknown}"
            assert body.get("kms_key_arns"), f"module.{module_name} cannot use the tables' key"


def _granted(body: dict[str, Any]) -> dict[str, set[str]]:
    """A role's actions by table module name."""
    granted: dict[str, set[str]] = {}
    for permission in body.get("table_permissions", []):
        target = re.fullmatch(r"\$\{module\.([A-Za-z0-9_-]+)\.table_arn\}", str(permission["table_arn"]))
        if target:
            granted.setdefault(target.group(1), set()).update(permission.get("actions", []))
    return granted


def test_an_http_function_that_takes_idempotent_writes_may_write_what_they_commit() -> None:
    # GIVEN the HTTP functions with routes that commit units of work under an Idempotency-Key (they write
    # their domain's items, the outbox rows of what they announce, and the key's record)
    from events.generate import discover_routes

    writers = {
        f"pic-{capability}"
        for capability, routes in discover_routes().items()
        if any(r.idempotent_writes for r in routes)
    }
    roles = {account: body for _, (_, account, body) in _roles().items()}

    # THEN the role each runs as may put outbox rows and read and put Idempotency-Key records (a role that
    # only reads would be AccessDenied on AWS at the first payment, as pic-payment's once was)
    for account in sorted(writers):
        granted = _granted(roles[account])
        assert "dynamodb:PutItem" in granted.get("table_outbox", set()), f"{account}: no PutItem on the outbox"
        assert {"dynamodb:GetItem", "dynamodb:PutItem"} <= granted.get("table_idempotency", set()), (
            f"{account}: cannot read and write Idempotency-Key records"
        )
        writes = [table for table, actions in granted.items() if "dynamodb:PutItem" in actions]
        assert set(writes) - {"table_outbox", "table_idempotency", "table_audit"}, f"{account} writes no domain table"


# --- the campaign bucket (buckets.tf) and functions/campaign/files.py ----------------------------


def _campaign_keys() -> tuple[str, set[str]]:
    """The export's key and the key prefixes (``runs/``, ``snapshots/``) functions/campaign/handlers.py writes."""
    source = (REPO_ROOT / "functions" / "campaign" / "handlers.py").read_text(encoding="utf-8")
    (export,) = re.findall(r'^EXPORT = "([^"]+)"$', source, flags=re.MULTILINE)
    prefixes = set(re.findall(r'key = f"([a-z]+/)\{', source))
    assert prefixes, "functions/campaign/handlers.py writes no keyed file any more: revisit buckets.tf"
    return export, prefixes


def test_the_campaign_bucket_keeps_a_runs_members_past_the_longest_conversion_window() -> None:
    # GIVEN the keys the campaign code writes, the longest conversion window a campaign may ask for, and the
    # bucket's lifecycle
    from functions.campaign.service import Conversion

    export, prefixes = _campaign_keys()
    (longest,) = [m.le for m in Conversion.model_fields["days"].metadata if getattr(m, "le", None) is not None]
    local = _module_locals(AWS_ENV)
    retention = _variable_defaults(AWS_ENV)["campaign_run_retention_days"]
    lifecycle = _resources(AWS_ENV, "aws_s3_bucket_lifecycle_configuration")["campaign"]
    locals_in = re.compile(r"\$\{local\.([a-z_]+)\}")
    expiring = {
        locals_in.sub(lambda m: str(local[m.group(1)]), rule["filter"][0]["prefix"]): rule["expiration"][0]["days"]
        for rule in lifecycle["rule"]
        if rule["filter"][0].get("prefix")
    }

    # THEN the roles' prefixes are the code's, the files of every prefix expire (never the export), only after
    # the longest window has passed, and versions and dead uploads do not pile up
    assert local["campaign_export"] == export
    assert {local["campaign_runs"], local["campaign_segments"]} == prefixes
    assert set(expiring) == prefixes, f"lifecycle rules for {sorted(expiring)}, the code writes {sorted(prefixes)}"
    assert all(days == "${var.campaign_run_retention_days}" for days in expiring.values())
    assert retention > longest, f"campaign_run_retention_days {retention} must exceed the {longest}-day window"
    (housekeeping,) = [rule for rule in lifecycle["rule"] if not rule["filter"][0].get("prefix")]
    assert housekeeping["noncurrent_version_expiration"][0]["noncurrent_days"] == 7
    assert housekeeping["abort_incomplete_multipart_upload"][0]["days_after_initiation"] >= 1


def test_the_campaign_bucket_is_the_one_the_public_cloud_overlay_names() -> None:
    # GIVEN the bucket's name in envs/aws and PIC_CAMPAIGN_BUCKET in the public-cloud overlay's pic-config
    template = _module_locals(AWS_ENV)["campaign_bucket_name"]
    (config,) = [
        r for r in _kustomize(K8S_DIR / "overlays" / "public-cloud")
        if r["kind"] == "ConfigMap" and r["metadata"]["name"] == "pic-config"
    ]  # fmt: skip

    # WHEN Terraform's interpolations are written as the overlay's deploy-time placeholders
    placeholders = template.replace("${var.environment}", "ENVIRONMENT").replace(
        "${data.aws_caller_identity.current.account_id}", "ACCOUNT_ID"
    )

    # THEN they are the same name, and the bucket is the one the roles and the output point at
    assert "${" not in placeholders, (
        f"buckets.tf campaign_bucket_name uses more than environment and account: {template}"
    )
    assert config["data"]["PIC_CAMPAIGN_BUCKET"] == placeholders
    bucket = _resources(AWS_ENV, "aws_s3_bucket")["campaign"]
    assert bucket["bucket"] == "${local.campaign_bucket_name}"


def test_each_campaign_role_reaches_the_bucket_with_its_key_through_s3_only() -> None:
    # GIVEN the roles of the workloads that run functions.campaign with a bucket (the API, events, dispatcher,
    # export)
    roles = {account: body for _, (_, account, body) in _roles().items()}
    campaign = ["pic-campaign", "pic-campaign-events", "pic-campaign-dispatch", "pic-campaign-export"]

    for account in campaign:
        permissions = roles[account].get("bucket_permissions", [])
        # THEN each has the campaign bucket, encrypted with the env's key, and a run's reader only reads
        assert permissions, f"{account}: no bucket_permissions, files.py would be AccessDenied"
        for permission in permissions:
            assert permission["bucket_arn"] == "${aws_s3_bucket.campaign.arn}", account
            assert permission["kms_key_arn"] == "${module.kms.key_arn}", f"{account}: cannot use the bucket's key"
    events = roles["pic-campaign-events"]["bucket_permissions"]
    assert {a for p in events for a in p["actions"]} == {"s3:GetObject"}, "pic-campaign-events only reads runs"
    lake = ["pic-lake", "pic-lake-flusher", "pic-lake-snapshot"]  # the data platform's writers (lake.tf)
    for account in lake:
        for permission in roles[account]["bucket_permissions"]:
            assert permission["bucket_arn"] == "${aws_s3_bucket.lake.arn}", account
            assert permission["kms_key_arn"] == "${module.kms_lake.key_arn}", f"{account}: not the lake's own key"
    others = [body for account, body in roles.items() if account not in campaign + lake]
    campaign_arn = "${aws_s3_bucket.campaign.arn}"
    assert not [body["service_account"] for body in others
                if any(p["bucket_arn"] == campaign_arn for p in body.get("bucket_permissions", []))]  # fmt: skip


# --- the cluster side (kubernetes/helm: parsed, checked against infra/k8s) ------------------------


def test_cluster_addons_match_what_the_pic_manifests_expect() -> None:
    # GIVEN the base manifests (namespace, OPA) and the cluster-addons module
    base = _kustomize(K8S_BASE)
    namespace = next(r for r in base if r["kind"] == "Namespace")
    base_opa = {(r["metadata"]["namespace"], r["metadata"]["name"]) for r in base if r["kind"] == "Deployment"}
    defaults = _variable_defaults(MODULES / "cluster-addons")
    manifests = _resources(MODULES / "cluster-addons", "kubernetes_manifest")

    # WHEN the module's defaults, custom resources (those written out, not the CRDs it downloads) and the
    # envs' OPA choice are read
    kinds = {
        body["manifest"]["kind"]: body["manifest"] for body in manifests.values() if isinstance(body["manifest"], dict)
    }
    enabled = {
        env.name: _resolve(body.get("enable_opa", defaults["enable_opa"]), _variable_defaults(env), env.name)
        for env in (AWS_ENV, PRIVATE_ENV)
        for body in _modules_from(env, ADDONS_MODULE).values()
    }

    # THEN SinkBinding reaches the namespace that opts in, Serving and Eventing are the operator's custom
    # resources, and no landing zone installs a second OPA where the base's pic-opa runs
    assert defaults["sinkbinding_selection_mode"] == "inclusion"
    assert namespace["metadata"]["labels"].get("bindings.knative.dev/include") == "true"
    assert set(kinds) == {"KnativeServing", "KnativeEventing"}
    assert {m["apiVersion"] for m in kinds.values()} == {"operator.knative.dev/v1beta1"}
    assert ("pic", "pic-opa") in base_opa, "the base no longer ships pic-opa: let the add-ons install OPA"
    assert not any(enabled.values()), f"the base ships pic-opa; cluster add-ons must not install OPA: {enabled}"


def test_the_broker_authenticates_senders_and_admits_only_what_an_event_policy_allows() -> None:
    # GIVEN the KnativeEventing custom resource the cluster add-ons install, and the base's EventPolicies
    manifests = _resources(MODULES / "cluster-addons", "kubernetes_manifest")
    (eventing,) = [
        body["manifest"]
        for body in manifests.values()
        if isinstance(body["manifest"], dict) and body["manifest"]["kind"] == "KnativeEventing"
    ]
    policies = [r for r in _kustomize(K8S_BASE) if r["kind"] == "EventPolicy"]

    # WHEN its feature flags are read (the module's local, which its config-features is set from)
    local_values = {
        k: v for block in _load_file(MODULES / "cluster-addons" / "main.tf").get("locals", []) for k, v in block.items()
    }
    assert '"config-features" = local.eventing_features' in str(eventing["spec"]), "config-features must be set"
    features = local_values.get("eventing_features", {})

    # THEN senders need an OIDC token and, where no EventPolicy applies, nothing is admitted
    assert features.get("authentication-oidc") == "enabled", features
    assert features.get("default-authorization-mode") == "deny-all", features
    assert policies, "the base ships no EventPolicy: deny-all would refuse every event"


def test_each_landing_zone_installs_the_cluster_addons_with_a_durable_broker() -> None:
    # GIVEN the two landing zones
    for env in (AWS_ENV, PRIVATE_ENV):
        # WHEN their cluster add-ons are read
        addons = _modules_from(env, ADDONS_MODULE)
        defaults = _variable_defaults(env)

        # THEN each installs them once, with the Kafka broker by default (in-memory channels lose events)
        assert len(addons) == 1, f"{env.name}: expected one cluster-addons module call, got {sorted(addons)}"
        (body,) = addons.values()
        assert _resolve(body["broker_class"], defaults, f"{env.name} broker_class") == "Kafka"


def _module_locals(directory: Path) -> dict[str, Any]:
    return {
        k: v
        for path in sorted(directory.glob("*.tf"))
        for b in _load_file(path).get("locals", [])
        for k, v in b.items()
    }


def test_the_cluster_addons_serve_the_generated_api_gateway_on_each_overlays_host() -> None:
    # GIVEN the generated Gateway pic-api of the base, each overlay's build, and the cluster-addons module
    module = MODULES / "cluster-addons"
    (gateway,) = [r for r in _kustomize(K8S_BASE) if r["kind"] == "Gateway"]
    api = _module_locals(module)["api"]
    defaults = _variable_defaults(module)
    certificate = (module / "charts" / "pic-gateways" / "templates" / "certificate.yaml").read_text(encoding="utf-8")

    # WHEN the names the module installs, configures and outputs are compared with the Gateway's
    (listener,) = gateway["spec"]["listeners"]
    secrets = {ref["name"] for ref in listener["tls"]["certificateRefs"]}

    # THEN by default the module implements the Gateway's class with Knative on net-gateway-api, and
    # certifies the Secret the Gateway terminates TLS with
    assert defaults["api_gateway"] == api["gateway_class"] == gateway["spec"]["gatewayClassName"]
    assert defaults["serving_ingress"] == "gateway-api"
    assert api["gateway_name"] == gateway["metadata"]["name"]
    assert secrets == {api["tls_secret"]}
    assert api["service"] == f"{gateway['metadata']['name']}-{gateway['spec']['gatewayClassName']}"
    assert "secretName: {{ required" in certificate
    assert defaults["gateway_api_version"] == "v1.6.1", "infra/k8s/schemas validates the routes against v1.6.1"

    # AND each landing zone serves the API on the host its overlay gives the Gateway pic-api
    for env, overlay in ((AWS_ENV, "public-cloud"), (PRIVATE_ENV, "private-cloud")):
        (built,) = [r for r in _kustomize(REPO_ROOT / "infra" / "k8s" / "overlays" / overlay) if r["kind"] == "Gateway"]
        (body,) = _modules_from(env, ADDONS_MODULE).values()
        env_defaults = _variable_defaults(env)
        host = _resolve(body["api_host"], env_defaults, f"{env.name} api_host")
        assert host == built["spec"]["listeners"][0]["hostname"], f"{env.name}: api_host {host!r} != {overlay}'s"
        assert _resolve(body["api_gateway"], env_defaults, f"{env.name} api_gateway") == api["gateway_class"]


# --- the catalogue -------------------------------------------------------------------------------


def _module_dirs() -> list[Path]:
    return sorted(path for path in MODULES.iterdir() if path.is_dir())


def _required_providers(directory: Path) -> dict[str, dict[str, str]]:
    providers: dict[str, dict[str, str]] = {}
    for path in sorted(directory.glob("*.tf")):
        for terraform in _load_file(path).get("terraform", []):
            for block in terraform.get("required_providers", []):
                providers.update(block)
    return providers


def test_every_terraform_file_parses() -> None:
    # GIVEN every Terraform file, including the cluster side that cannot be validated offline
    files = sorted(TF_ROOT.rglob("*.tf"))
    files = [f for f in files if ".terraform" not in f.parts]

    # WHEN each is parsed with python-hcl2
    failures = []
    for path in files:
        try:
            _load_file(path)
        except Exception as exc:
            failures.append(f"{path.relative_to(REPO_ROOT)}: {exc}")

    # THEN all parse
    assert files and not failures, "\n".join(failures)


@pytest.mark.parametrize("module", _module_dirs(), ids=lambda path: path.name)
def test_module_reads_like_a_catalogue_entry(module: Path) -> None:
    # GIVEN a module under infra/terraform/modules
    # WHEN its files, variables, outputs and provider pins are read
    missing = [name for name in MODULE_FILES if not (module / name).is_file()]
    variables = _blocks(module, "variable")
    outputs = _blocks(module, "output")
    providers = _required_providers(module)

    # THEN it has the standard files and a complete example, a create toggle, typed and described
    # variables, described outputs and pinned providers; AWS modules carry plan tests
    assert not missing, f"{module.name} lacks {missing}"
    assert (module / "examples" / "complete" / "main.tf").is_file(), f"{module.name} lacks examples/complete"
    assert "create" in variables, f"{module.name} has no create toggle"
    for name, body in variables.items():
        assert body.get("type") and body.get("description"), f"{module.name} variable {name} needs type+description"
    assert outputs and all(body.get("description") for body in outputs.values()), f"{module.name} outputs"
    assert providers, f"{module.name} pins no provider"
    for name, pin in providers.items():
        assert pin.get("source") and pin.get("version"), f"{module.name} provider {name} is not pinned"
    if "aws" in providers:
        assert list((module / "tests").glob("*.tftest.hcl")), f"{module.name} has no terraform tests"


@pytest.mark.parametrize("env", [AWS_ENV, PRIVATE_ENV], ids=lambda path: path.name)
def test_env_is_documented_with_a_commented_remote_backend(env: Path) -> None:
    # GIVEN a landing zone
    backend = (env / "backend.tf").read_text(encoding="utf-8")

    # WHEN its backend, variables and docs are read
    variables = _blocks(env, "variable")

    # THEN the remote backend is there, commented (so that validate runs anywhere), every variable is
    # typed and described, and the README and an example tfvars exist
    assert re.search(r'^#\s*backend "(s3|kubernetes|pg)"', backend, re.MULTILINE), f"{env.name}: no commented backend"
    assert not _load_file(env / "backend.tf"), f"{env.name}: the backend must stay commented out"
    for name, body in variables.items():
        assert body.get("type") and body.get("description"), f"{env.name} variable {name} needs type+description"
    assert (env / "README.md").is_file() and (env / "terraform.tfvars.example").is_file()


# --- the toolchain: fmt, and init/validate/test offline ------------------------------------------


def _terraform() -> str:
    binary = shutil.which("terraform")
    if binary is None:
        pytest.skip(
            "terraform is not installed, so infra/terraform is NOT formatted-checked nor validated. Install "
            "Terraform >= 1.9 (HashiCorp's apt repository or release zip) and rerun."
        )
    return binary


def _plugin_mirror() -> Path | None:
    """A directory holding registry.terraform.io (a provider filesystem mirror), if there is one."""
    configured = os.environ.get("PIC_TF_PLUGIN_DIR")
    candidates = [Path(configured)] if configured else []
    opt = Path("/opt")
    if opt.is_dir():
        candidates += sorted(path.parent for path in opt.glob("*/registry.terraform.io"))
        candidates += sorted(path.parent for path in opt.glob("*/*/registry.terraform.io"))
    return next((path for path in candidates if (path / "registry.terraform.io").is_dir()), None)


def _mirrored_providers(mirror: Path) -> set[str]:
    """Sources (namespace/name) of the providers in the mirror."""
    registry = mirror / "registry.terraform.io"
    return {f"{ns.name}/{name.name}" for ns in registry.iterdir() if ns.is_dir() for name in ns.iterdir()}


def test_terraform_is_formatted(tmp_path: Path) -> None:
    # GIVEN terraform
    terraform = _terraform()

    # WHEN `terraform fmt -check` runs over infra/terraform (no providers needed)
    result = subprocess.run(
        [terraform, "fmt", "-check", "-recursive", "-diff", str(TF_ROOT)],
        capture_output=True,
        text=True,
        timeout=120,
        env=_terraform_env(tmp_path),
        check=False,
    )

    # THEN nothing needs formatting
    assert result.returncode == 0, f"run `terraform fmt -recursive infra/terraform`:\n{result.stdout}{result.stderr}"


def _terraform_env(workdir: Path) -> dict[str, str]:
    cli_config = workdir / "terraform.rc"
    cli_config.touch()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TF_")}
    env.update(
        TF_CLI_CONFIG_FILE=str(cli_config),  # ignore the user's provider installation settings
        TF_IN_AUTOMATION="1",
        TF_INPUT="0",
        CHECKPOINT_DISABLE="1",  # no version check over the network
    )
    return env


@dataclass
class Check:
    """One directory's offline validation: the commands run, or why it could not run."""

    label: str
    directory: Path | None = None
    commands: tuple[tuple[str, ...], ...] = ()
    skipped: str | None = None
    trimmed: str | None = None
    failure: str | None = None


def _online_command(label: str, with_test: bool) -> str:
    test = " && terraform test" if with_test else ""
    return f"cd infra/terraform/{label} && terraform init -backend=false && terraform validate{test}"


def _plan_checks(copy: Path, mirrored: set[str]) -> list[Check]:
    """What can be validated offline: modules, their examples and the AWS-only part of each env."""
    checks = []
    for module in _module_dirs():
        label = f"modules/{module.name}"
        has_tests = bool(list((module / "tests").glob("*.tftest.hcl")))
        for target, with_test in ((label, has_tests), (f"{label}/examples/complete", False)):
            needs = {pin["source"] for pin in _required_providers(TF_ROOT / target).values()} - mirrored
            if needs:
                checks.append(
                    Check(
                        target,
                        skipped=f"{target} needs {sorted(needs)}, not in the offline mirror: NOT validated here "
                        f"(parsed with python-hcl2 only). With network: `{_online_command(target, with_test)}`",
                    )
                )
                continue
            commands = [("init", "-backend=false"), ("validate",)]
            if with_test:
                commands.append(("test",))
            checks.append(Check(target, copy / target, tuple(commands)))
    for env in (AWS_ENV, PRIVATE_ENV):
        checks.append(_env_check(env, copy, mirrored))
    return checks


def _env_check(env: Path, copy: Path, mirrored: set[str]) -> Check:
    """Validate an env without the files that need unmirrored providers (its cluster side), if anything
    remains to validate; the copy's versions.tf keeps only the mirrored providers."""
    label = f"envs/{env.name}"
    needs = {name: pin["source"] for name, pin in _required_providers(env).items() if pin["source"] not in mirrored}
    target = copy / label
    dropped = []
    for path in sorted(env.glob("*.tf")):
        content = _load_file(path)
        uses_provider = any(name in needs for block in content.get("provider", []) for name in block)
        calls_module = any(
            not str(body["source"]).startswith(".")  # a registry module: its providers are unknown here
            or {pin["source"] for pin in _required_providers((env / body["source"]).resolve()).values()} - mirrored
            for block in content.get("module", [])
            for body in block.values()
        )
        if uses_provider or calls_module:
            dropped.append(path.name)
            (target / path.name).unlink()
    online = _online_command(label, False)
    if not needs:
        return Check(label, target, (("init", "-backend=false"), ("validate",)))
    remaining = [p for p in target.glob("*.tf") if _load_file(p).get("module") or _load_file(p).get("resource")]
    if not remaining:
        return Check(
            label,
            skipped=f"{label} needs {sorted(needs.values())}, not in the offline mirror: NOT validated here "
            f"(parsed with python-hcl2 only). With network: `{online}`",
        )
    pins = "".join(
        f'    {name} = {{\n      source  = "{pin["source"]}"\n      version = "{pin["version"]}"\n    }}\n'
        for name, pin in _required_providers(env).items()
        if name not in needs
    )
    (target / "versions.tf").write_text(
        f'terraform {{\n  required_version = ">= 1.9"\n\n  required_providers {{\n{pins}  }}\n}}\n', encoding="utf-8"
    )
    return Check(
        label,
        target,
        (("init", "-backend=false"), ("validate",)),
        trimmed=f"{label} validated WITHOUT {dropped} (they need {sorted(needs.values())}, not in the offline "
        f"mirror; parsed with python-hcl2 only). With network: `{online}`",
    )


def _run(check: Check, terraform: str, mirror: Path, env: dict[str, str]) -> Check:
    assert check.directory is not None
    for command in check.commands:
        argv = [terraform, *command, "-no-color"]
        if command[0] == "init":
            argv += [f"-plugin-dir={mirror}", "-input=false"]
        result = subprocess.run(argv, cwd=check.directory, capture_output=True, text=True, timeout=300, env=env)
        if result.returncode != 0:
            check.failure = f"`terraform {' '.join(command)}` in {check.label} failed:\n{result.stdout}{result.stderr}"
            break
    return check


@pytest.fixture(scope="module")
def offline_validation() -> Iterator[dict[str, Check]]:
    """Copy infra/terraform to a temporary directory (no .terraform or lock files in the work tree) and run
    every check there, two at a time."""
    terraform = _terraform()
    mirror = _plugin_mirror()
    if mirror is None:
        pytest.skip(
            "no provider mirror (a directory holding registry.terraform.io under /opt, or PIC_TF_PLUGIN_DIR): "
            "infra/terraform is NOT validated. Build one where the network is with "
            "`terraform providers mirror <dir>` in each module, or run `terraform init && terraform validate`."
        )
    with tempfile.TemporaryDirectory(prefix="pic-terraform-") as tmp:
        copy = Path(tmp) / "terraform"
        shutil.copytree(TF_ROOT, copy, ignore=shutil.ignore_patterns(".terraform", ".terraform.lock.hcl", "*.tfstate*"))
        env = _terraform_env(Path(tmp))
        checks = _plan_checks(copy, _mirrored_providers(mirror))
        runnable = [c for c in checks if c.directory is not None]
        with ThreadPoolExecutor(max_workers=2) as pool:
            list(pool.map(lambda c: _run(c, terraform, mirror, env), runnable))
        yield {check.label: check for check in checks}


OFFLINE_TARGETS = [
    *(f"modules/{m.name}" for m in _module_dirs()),
    *(f"modules/{m.name}/examples/complete" for m in _module_dirs()),
    "envs/aws",
    "envs/private",
]


@pytest.mark.parametrize("target", OFFLINE_TARGETS)
def test_terraform_validates_offline(target: str, offline_validation: dict[str, Check]) -> None:
    # GIVEN a module, an example or an env, copied with the offline provider mirror
    check = offline_validation[target]

    # WHEN `terraform init -backend=false -plugin-dir=<mirror>`, `validate` (and `test`) ran on it
    if check.skipped:
        warnings.warn(check.skipped, TerraformNotValidatedOfflineWarning, stacklevel=1)
        pytest.skip(check.skipped)
    if check.trimmed:
        warnings.warn(check.trimmed, TerraformNotValidatedOfflineWarning, stacklevel=1)

    # THEN every command succeeded
    assert check.failure is None, check.failure
