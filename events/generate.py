"""Generates ``schemas/`` from the code: the single source of PIC's contracts.

- ``schemas/<event type>.json``: the JSON Schema (draft 2020-12) of each catalog type's ``data``;
- ``schemas/asyncapi.yaml``: AsyncAPI 3.0, one channel per event type, who sends and who receives it;
- ``schemas/openapi.json``: OpenAPI 3.1 of every capability's channel API (the ``ROUTES`` of
  ``functions/<capability>/main.py``).

``python -m events.generate`` (``make schemas``) writes them; ``--check`` writes nothing and exits 1
listing the files that are stale, missing or no longer generated. The output is deterministic (sorted
keys, 2-space indent, trailing newline), so a diff in ``schemas/`` is always a contract change.
"""

from __future__ import annotations

import argparse
import importlib
import json
import re
import sys
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from events.base import EventData
from events.catalog import CATALOG, EventSpec
from functions.core.audit import MAX_PURPOSE, PURPOSE_PATTERN
from functions.core.http import Route
from functions.core.settings import Settings

REPO_ROOT = Path(__file__).resolve().parents[1]
SCHEMAS_DIR = REPO_ROOT / "schemas"
FUNCTIONS_DIR = REPO_ROOT / "functions"
# A valid structured CloudEvent per type, kept valid by tests/contract/test_schemas.py: each message's example
EXAMPLES_DIR = REPO_ROOT / "tests" / "fixtures" / "events"

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
# The canonical base of every ``dataschema`` (the default, not whatever this shell's environment says).
SCHEMA_BASE_URL: str = Settings.model_fields["schema_base_url"].default
TYPE_PREFIX = "es.madrid.pic."
EVENT_SCHEMA_GLOB = f"{TYPE_PREFIX}*.json"
ASYNCAPI_FILE = "asyncapi.yaml"
OPENAPI_FILE = "openapi.json"

PROBLEM_CONTENT_TYPE = "application/problem+json"
TRACEPARENT_PATTERN = r"^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$"
PROBLEM_STATUSES = {
    400: ("MalformedRequest", "The body is not JSON, or too large (problem `malformed-request`)."),
    401: ("Unauthenticated", "No valid bearer token (problem `unauthenticated`)."),
    403: ("Forbidden", "The policy does not allow this caller to do this (problem `forbidden`)."),
    404: (
        "NotFound",
        "No such route or resource (problems `not-found`, `subscription-not-found`; `micro-app-off` to a citizen "
        "whose micro-app the route belongs to is switched off).",
    ),
    415: ("UnsupportedMediaType", "The body is not `application/json` (problem `unsupported-media-type`)."),
    422: (
        "Unprocessable",
        "The request is well-formed but not valid: field errors in `errors` (problems `validation`, "
        "`consent-invalid`, `idempotency-key-reused`).",
    ),
}


# ---- rendering --------------------------------------------------------------------------------------


def dump_json(document: Any) -> str:
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


class _PlainDumper(yaml.SafeDumper):
    """Never writes YAML anchors/aliases: a shared dict is written out in full at each place."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def dump_yaml(document: Any) -> str:
    text: str = yaml.dump(
        document,
        Dumper=_PlainDumper,
        sort_keys=True,
        indent=2,
        default_flow_style=False,
        allow_unicode=True,
        width=120,
    )
    return text if text.endswith("\n") else text + "\n"


def project_version() -> str:
    with (REPO_ROOT / "pyproject.toml").open("rb") as handle:
        return str(tomllib.load(handle)["project"]["version"])


# ---- event data schemas -----------------------------------------------------------------------------


def schema_url(event_type: str) -> str:
    """The ``$id`` of a type's data schema, which is also every such event's ``dataschema``."""
    return f"{SCHEMA_BASE_URL}{event_type}.json"


def schema_file(event_type: str) -> str:
    return f"{event_type}.json"


def model_of(spec: EventSpec) -> type[EventData]:
    return spec.model


def event_schema(spec: EventSpec) -> dict[str, Any]:
    """The JSON Schema of ``spec``'s data, as consumers validate it (pydantic's validation mode)."""
    schema = model_of(spec).model_json_schema(mode="validation")
    schema.pop("title", None)
    schema.pop("description", None)
    return {
        "$schema": JSON_SCHEMA_DIALECT,
        "$id": schema_url(spec.type),
        "title": spec.type,
        "description": spec.description,
        **schema,
    }


# ---- AsyncAPI ---------------------------------------------------------------------------------------


def channel_id(event_type: str) -> str:
    """``es.madrid.pic.consent.changed.v1`` -> ``consent_changed_v1`` (types never hold ``_``)."""
    return event_type.removeprefix(TYPE_PREFIX).replace(".", "_")


def slug(name: str) -> str:
    """A component-safe key from a service name (or a catalog's free-text producer)."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def cloudevent_headers() -> dict[str, Any]:
    """The CloudEvents 1.0 context attributes PIC uses (in HTTP binary mode, ``ce-`` headers)."""
    return {
        "type": "object",
        "description": (
            "CloudEvents 1.0 context attributes. Binary mode: `ce-<name>` HTTP headers and the data as the "
            "body; structured mode: members of the `application/cloudevents+json` envelope beside `data`."
        ),
        "required": ["specversion", "id", "source", "type"],
        "properties": {
            "specversion": {"type": "string", "const": "1.0"},
            "id": {
                "type": "string",
                "minLength": 1,
                "description": "unique per source; consumers deduplicate on source + id (at-least-once delivery)",
            },
            "source": {"type": "string", "format": "uri-reference", "minLength": 1},
            "type": {"type": "string", "description": "es.madrid.pic.<domain>.<event>.v<N>"},
            "subject": {"type": "string", "description": "the citizen or entity id the event is about"},
            "time": {"type": "string", "format": "date-time"},
            "datacontenttype": {"type": "string", "const": "application/json"},
            "dataschema": {"type": "string", "format": "uri"},
            "traceparent": {
                "type": "string",
                "pattern": TRACEPARENT_PATTERN,
                "description": "W3C Trace Context, as the CloudEvents distributed-tracing extension",
            },
        },
    }


def _message(spec: EventSpec) -> dict[str, Any]:
    source: dict[str, Any] = (
        {"const": spec.source} if re.fullmatch(r"/[a-z0-9/_-]+", spec.source) else {"description": spec.source}
    )
    return {
        "name": spec.type,
        "title": model_of(spec).__name__,
        "summary": spec.description,
        "contentType": "application/json",
        "headers": {
            "allOf": [
                {"$ref": "#/components/schemas/CloudEventHeaders"},
                {
                    "properties": {
                        "type": {"const": spec.type},
                        "dataschema": {"const": schema_url(spec.type)},
                        "source": source,
                    }
                },
            ]
        },
        "payload": {"$ref": f"./{schema_file(spec.type)}"},
        **_examples(spec),
    }


def _examples(spec: EventSpec) -> dict[str, Any]:
    """AsyncAPI 3.0's message ``examples``: the type's valid fixture (its context attributes as headers, its
    data as payload), read as a file — what the documentation pages show beside the schema."""
    path = EXAMPLES_DIR / schema_file(spec.type)
    if not path.is_file():
        return {}
    event = json.loads(path.read_text(encoding="utf-8"))
    headers = {key: value for key, value in event.items() if key != "data"}
    return {"examples": [{"name": "fixture", "summary": f"a valid {spec.type}", "headers": headers,
                          "payload": event.get("data")}]}  # fmt: skip


def asyncapi_document(specs: Iterable[EventSpec]) -> dict[str, Any]:
    channels: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    for spec in sorted(specs, key=lambda s: s.type):
        cid = channel_id(spec.type)
        channels[cid] = {
            "address": spec.type,
            "title": spec.type,
            "description": spec.description,
            "messages": {cid: {"$ref": f"#/components/messages/{cid}"}},
        }
        messages[cid] = _message(spec)
        ref = {
            "channel": {"$ref": f"#/channels/{cid}"},
            "messages": [{"$ref": f"#/channels/{cid}/messages/{cid}"}],
        }
        operations[f"send_{cid}"] = {
            "action": "send",
            "summary": f"{spec.producer} publishes {spec.type}",
            "x-pic-service": spec.producer,
            # who the broker accepts it from (ADR 0011): each identity and the CloudEvent source it is bound to
            "x-pic-senders": [
                {"account": sender.account, "source": sender.source, "description": sender.description}
                for sender in spec.senders
            ],
            **ref,
        }
        for consumer in sorted(spec.consumers):
            operations[f"receive_{cid}__{slug(consumer)}"] = {
                "action": "receive",
                "summary": f"{consumer} receives {spec.type} (a Knative Trigger on the broker)",
                "x-pic-service": consumer,
                **ref,
            }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "PIC events",
            "version": project_version(),
            "description": (
                "CloudEvents 1.0 of the Plataforma Integral Ciudadana, published through the outbox to the "
                "Knative Broker and delivered by Triggers at least once. Generated from events/catalog.py by "
                "`make schemas`: do not edit."
            ),
        },
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": {"CloudEventHeaders": cloudevent_headers()}},
    }


# ---- OpenAPI ----------------------------------------------------------------------------------------


def discover_routes() -> dict[str, list[Route]]:
    """Every capability whose ``functions/<name>/main.py`` declares ``ROUTES``, by capability name."""
    found: dict[str, list[Route]] = {}
    for main in sorted(FUNCTIONS_DIR.glob("*/main.py")):
        name = main.parent.name
        module = importlib.import_module(f"functions.{name}.main")
        routes = getattr(module, "ROUTES", None)
        if routes is None:
            continue
        if not isinstance(routes, list) or not all(isinstance(r, Route) for r in routes):
            raise TypeError(f"functions/{name}/main.py: ROUTES must be a list of functions.core.http.Route")
        found[name] = routes
    return found


PATH_PARAM = re.compile(r"<(?:(?P<converter>[^:<>]+):)?(?P<name>[^<>]+)>")


def path_parameters(route: Route) -> list[str]:
    params = []
    for match in PATH_PARAM.finditer(route.rule):
        if match.group("converter"):
            raise ValueError(
                f"{route.rule}: werkzeug converter <{match.group(0)[1:-1]}> is not supported by Route.openapi_path"
            )
        params.append(match.group("name"))
    return params


def problem_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "title": "Problem",
        "description": "RFC 9457 problem details; `type` is documented in docs/problems.md under its slug.",
        "required": ["type", "title", "status"],
        "properties": {
            "type": {"type": "string", "format": "uri-reference", "examples": ["/problems/validation"]},
            "title": {"type": "string"},
            "status": {"type": "integer", "minimum": 400, "maximum": 599},
            "detail": {"type": "string"},
            "instance": {"type": "string", "format": "uri-reference"},
            "errors": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["field", "message"],
                    "properties": {
                        "field": {"type": "string", "description": "dotted path of the field, `(body)` for all"},
                        "message": {"type": "string"},
                        "code": {"type": "string", "description": "machine-readable reason (pydantic's type)"},
                    },
                },
            },
        },
        "additionalProperties": True,
    }


def _problem_ref(status: int) -> dict[str, str]:
    return {"$ref": f"#/components/responses/{PROBLEM_STATUSES[status][0]}"}


def operation_id(capability: str, route: Route) -> str:
    return f"{capability}_{route.handler.__name__}"


def route_links(capabilities: dict[str, list[Route]]) -> dict[int, dict[str, Any]]:
    """OpenAPI links of every route that gives ids (``Route.links``): to every operation whose path takes
    one of them, the rest of its path filled from the same request's path (e.g. the citizen id) — so a
    new route taking ``{request_id}`` is linked without anyone listing it. Keyed by ``id(route)``."""
    everything = [(capability, route) for capability, routes in capabilities.items() for route in routes]
    found: dict[int, dict[str, Any]] = {}
    for _, source in everything:
        if not source.links:
            continue
        known = set(path_parameters(source))
        links: dict[str, Any] = {}
        for capability, target in everything:
            params = path_parameters(target)
            if target is source or not set(params) & set(source.links) or not set(params) <= known | set(source.links):
                continue
            values = {
                p: f"$response.body#{source.links[p]}" if p in source.links else f"$request.path.{p}" for p in params
            }
            links[operation_id(capability, target)] = {
                "operationId": operation_id(capability, target),
                "parameters": values,
            }
        found[id(source)] = dict(sorted(links.items()))
    return found


def _operation(
    capability: str, route: Route, refs: Mapping[Any, dict[str, Any]], links: Mapping[int, dict[str, Any]]
) -> dict[str, Any]:
    parameters: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}} for name in path_parameters(route)
    ]
    if route.idempotent_writes:
        parameters.append({"$ref": "#/components/parameters/IdempotencyKey"})
    if not route.public:
        parameters.append({"$ref": "#/components/parameters/AccessPurpose"})
    success: dict[str, Any] = {"description": route.summary}
    if route.response_model is not None:
        success["content"] = {"application/json": {"schema": refs[(route.response_model, "serialization")]}}
    elif route.status != 204:
        success["content"] = {"application/json": {"schema": {"type": "object"}}}
    if route.idempotent_writes:
        success["headers"] = {"Idempotent-Replayed": {"$ref": "#/components/headers/IdempotentReplayed"}}
    if route.links:
        success["links"] = links[id(route)]
    statuses = [404, 422]
    if route.request_model is not None:
        statuses += [400, 415]
    if not route.public:
        statuses += [401, 403]
    responses: dict[str, Any] = {str(route.status): success}
    responses.update({str(status): _problem_ref(status) for status in sorted(statuses)})
    responses["default"] = {"$ref": "#/components/responses/Error"}
    operation: dict[str, Any] = {
        "operationId": operation_id(capability, route),
        "summary": route.summary,
        "tags": [capability],
        "responses": responses,
        "security": [] if route.public else [{"bearerAuth": []}],
    }
    if route.handler.__doc__:
        operation["description"] = " ".join(route.handler.__doc__.split())
    if route.action:  # what policies/authz decides, and what the access log records (docs/security.md)
        operation["x-pic-action"] = route.action
    if route.reads:
        operation["x-pic-reads"] = {"resource": route.reads.resource, "sections": list(route.reads.sections)}
    if parameters:
        operation["parameters"] = parameters
    if route.request_model is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": refs[(route.request_model, "validation")]}},
        }
    return operation


def openapi_document(capabilities: dict[str, list[Route]]) -> dict[str, Any]:
    modes: list[tuple[type[BaseModel], JsonSchemaMode]] = []
    for routes in capabilities.values():
        for route in routes:
            if route.request_model is not None:
                modes.append((route.request_model, "validation"))
            if route.response_model is not None:
                modes.append((route.response_model, "serialization"))
    unique = sorted(set(modes), key=lambda pair: (pair[0].__module__, pair[0].__qualname__, pair[1]))
    refs, defs = models_json_schema(unique, ref_template="#/components/schemas/{model}")
    schemas: dict[str, Any] = dict(defs.get("$defs", {}))
    if "Problem" in schemas:
        raise ValueError("a request/response model is called Problem: the name is taken by RFC 9457 problems")
    schemas["Problem"] = problem_schema()

    paths: dict[str, dict[str, Any]] = {}
    links = route_links(capabilities)
    for capability, routes in capabilities.items():
        for route in routes:
            item = paths.setdefault(route.openapi_path, {})
            method = route.method.lower()
            if method in item:
                raise ValueError(f"{route.method} {route.rule} is declared twice")
            item[method] = _operation(capability, route, refs, links)

    problem_content = {PROBLEM_CONTENT_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    responses = {name: {"description": text, "content": problem_content} for name, text in PROBLEM_STATUSES.values()}
    responses["Error"] = {
        "description": "Any other problem: 405, 409 `conflict`, 500 `internal`, 503 `policy-unavailable`.",
        "content": problem_content,
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "PIC channel API",
            "version": project_version(),
            "description": (
                "The HTTP API the channels (app, web, CRM, IVR, bot) call. Errors are RFC 9457 problems "
                "(docs/problems.md). Generated from the ROUTES of functions/*/main.py by `make schemas`: do not edit."
            ),
        },
        "jsonSchemaDialect": JSON_SCHEMA_DIALECT,
        "tags": [{"name": name} for name in sorted(capabilities)],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "responses": responses,
            "parameters": {
                "IdempotencyKey": {
                    "name": "Idempotency-Key",
                    "in": "header",
                    "required": False,
                    "description": (
                        "Makes the write safe to retry: the same key and body replay the first response "
                        "(`Idempotent-Replayed: true`); the same key with another body is a 422 "
                        "`idempotency-key-reused` problem."
                    ),
                    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
                },
                "AccessPurpose": {
                    "name": "Access-Purpose",
                    "in": "header",
                    "required": False,
                    "description": (
                        "Why an agent acts on this citizen's data (a case, the appointment being attended): "
                        "required of agents on every route that names a citizen (RGPD art. 5.1.b); kept with "
                        "the proof and in the citizen's access log. A reference or a few words."
                    ),
                    "schema": {"type": "string", "maxLength": MAX_PURPOSE, "pattern": PURPOSE_PATTERN},
                },
            },
            "headers": {
                "IdempotentReplayed": {
                    "description": "`true` when this is the replay of an earlier request with the same Idempotency-Key",
                    "schema": {"type": "string", "const": "true"},
                }
            },
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": "OIDC access token: Cl@ve for citizens, the council's IdP for agents.",
                }
            },
        },
    }


# ---- the files --------------------------------------------------------------------------------------


def render() -> dict[str, str]:
    """Every generated file's name (relative to ``schemas/``) and its exact content."""
    specs = sorted(CATALOG.values(), key=lambda s: s.type)
    files = {schema_file(spec.type): dump_json(event_schema(spec)) for spec in specs}
    files[ASYNCAPI_FILE] = dump_yaml(asyncapi_document(specs))
    files[OPENAPI_FILE] = dump_json(openapi_document(discover_routes()))
    return files


def stale(directory: Path | None = None, files: dict[str, str] | None = None) -> list[str]:
    """Names of files in ``directory`` that differ from ``files``, are missing, or are no longer generated."""
    directory = SCHEMAS_DIR if directory is None else directory
    files = render() if files is None else files
    out = [name for name, text in sorted(files.items()) if _read(directory / name) != text]
    out += sorted(p.name for p in directory.glob(EVENT_SCHEMA_GLOB) if p.name not in files)
    return out


def _read(path: Path) -> str | None:
    return path.read_text(encoding="utf-8") if path.is_file() else None


def write(directory: Path | None = None) -> list[str]:
    """Write what changed and remove event schemas of types no longer in the catalog; the names touched."""
    directory = SCHEMAS_DIR if directory is None else directory
    files = render()
    directory.mkdir(parents=True, exist_ok=True)
    touched = stale(directory, files)
    for name in touched:
        path = directory / name
        if name in files:
            path.write_text(files[name], encoding="utf-8")
        else:
            path.unlink()
    return touched


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m events.generate", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if schemas/ is stale")
    args = parser.parse_args(argv)
    if args.check:
        names = stale()
        if names:
            print("stale in schemas/ (run `make schemas`):", *(f"  {name}" for name in names), sep="\n")
            return 1
        print("schemas/ is up to date")
        return 0
    names = write()
    print(f"schemas/: {len(names)} file(s) updated", *(f"  {name}" for name in names), sep="\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
