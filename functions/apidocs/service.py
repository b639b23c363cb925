"""What the documentation pages show, read from the published specifications (pure: documents in, views out).

The OpenAPI 3.1 document (``schemas/openapi.json``) becomes domains of operations — each with its parameters,
request body, responses and the problems it may answer — and the models they use as field tables; the AsyncAPI 3.0
document (``schemas/asyncapi.yaml``) and each type's JSON Schema become event types with their producer,
consumers, senders, data fields and an example. Nothing here is written twice: a page is these views rendered.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from functions.core.errors import NotFoundError

TYPE_PREFIX = "es.madrid.pic."
METHODS = ("get", "put", "post", "patch", "delete")
SCHEMA_REF = "#/components/schemas/"
DOMAIN = re.compile(r"^[a-z][a-z0-9-]{0,39}$")
EVENT_TYPE = re.compile(r"^es\.madrid\.pic\.[a-z0-9.-]{1,150}\.v[0-9]+$")
CONSTRAINTS = (
    ("minLength", "min length"),
    ("maxLength", "max length"),
    ("minimum", "≥"),
    ("exclusiveMinimum", ">"),
    ("maximum", "≤"),
    ("exclusiveMaximum", "<"),
    ("minItems", "min items"),
    ("maxItems", "max items"),
    ("pattern", "pattern"),
    ("format", "format"),
)


@dataclass(frozen=True)
class Field:
    """One property of a model: its type (with the anchor of the model it names, if any), whether it is
    required, its constraints and its description."""

    name: str
    type: str
    anchor: str
    required: bool
    constraints: str
    description: str


@dataclass(frozen=True)
class Model:
    name: str
    anchor: str
    description: str
    fields: tuple[Field, ...]
    shape: str  # what it is when it has no fields of its own: "object", "array of X", "one of A | B"


@dataclass(frozen=True)
class Parameter:
    name: str
    where: str
    required: bool
    type: str
    description: str


@dataclass(frozen=True)
class Response:
    status: str
    description: str
    media: str
    type: str
    anchor: str
    problem: bool


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    anchor: str
    summary: str
    description: str
    action: str
    signed_in: bool
    reads: str
    parameters: tuple[Parameter, ...]
    request: Response | None
    responses: tuple[Response, ...]


@dataclass(frozen=True)
class Domain:
    name: str
    operations: tuple[Operation, ...]
    models: tuple[Model, ...]


@dataclass(frozen=True)
class Problem:
    name: str
    description: str


@dataclass(frozen=True)
class Api:
    title: str
    version: str
    description: str
    domains: tuple[Domain, ...]
    problems: tuple[Problem, ...]
    problem_fields: tuple[Field, ...]


@dataclass(frozen=True)
class Sender:
    account: str
    source: str
    description: str


@dataclass(frozen=True)
class EventType:
    type: str
    domain: str
    anchor: str
    model: str
    description: str
    producer: str
    source: str
    consumers: tuple[str, ...]
    senders: tuple[Sender, ...]
    models: tuple[Model, ...]
    example: str


@dataclass(frozen=True)
class Events:
    title: str
    version: str
    description: str
    types: tuple[EventType, ...]

    def domains(self) -> dict[str, list[EventType]]:
        grouped: dict[str, list[EventType]] = {}
        for event in self.types:
            grouped.setdefault(event.domain, []).append(event)
        return grouped

    def find(self, event_type: str) -> EventType:
        for event in self.types:
            if event.type == event_type:
                return event
        raise NotFoundError(f"no event type {event_type[:160]!r}: /docs/events lists them")


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


# ---- schemas as types and fields ---------------------------------------------------------------------------------


def _ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


class Describer:
    """Types and field tables of the schemas of one document; ``anchor`` names where a model is shown."""

    def __init__(self, doc: Mapping[str, Any], prefix: str, anchor_prefix: str) -> None:
        self.doc = doc
        self.prefix = prefix  # "#/components/schemas/" or "#/$defs/"
        self.anchor_prefix = anchor_prefix
        self.used: list[str] = []  # models met, in the order met

    def anchor(self, name: str) -> str:
        return f"{self.anchor_prefix}{slug(name)}"

    def model(self, name: str) -> dict[str, Any]:
        found = self.doc
        for part in self.prefix.removeprefix("#/").strip("/").split("/"):
            found = found[part]
        return dict(found[name])

    def type_of(self, schema: Any) -> tuple[str, str]:
        """A schema as a reader says it (``string``, ``array of Actor``, ``Actor | null``) and the anchor of the
        one model it names ("" if none or several)."""
        if not isinstance(schema, Mapping):
            return "any", ""
        if isinstance(schema.get("$ref"), str):
            name = _ref_name(schema["$ref"])
            if name not in self.used:
                self.used.append(name)
            return name, self.anchor(name)
        union = schema.get("anyOf") or schema.get("oneOf")
        if isinstance(union, list):
            parts = [self.type_of(member) for member in union]
            anchors = {anchor for _, anchor in parts if anchor}
            return " | ".join(text for text, _ in parts), anchors.pop() if len(anchors) == 1 else ""
        if "const" in schema:
            return json.dumps(schema["const"], ensure_ascii=False), ""
        kind = schema.get("type")
        if kind == "array":
            inner, anchor = self.type_of(schema.get("items", {}))
            return f"array of {inner}", anchor
        if kind == "object" and isinstance(schema.get("additionalProperties"), Mapping):
            inner, anchor = self.type_of(schema["additionalProperties"])
            return f"map of {inner}", anchor
        if isinstance(kind, list):
            return " | ".join(kind), ""
        return str(kind or "any"), ""

    @staticmethod
    def constraints(schema: Mapping[str, Any]) -> str:
        found: list[str] = []
        for member in [schema, *(schema.get("anyOf") or [])]:
            if not isinstance(member, Mapping):
                continue
            if isinstance(member.get("enum"), list):
                found.append("one of " + ", ".join(json.dumps(v, ensure_ascii=False) for v in member["enum"]))
            found += [f"{label} {member[key]}" for key, label in CONSTRAINTS if key in member]
        if "default" in schema and schema["default"] is not None:
            found.append(f"default {json.dumps(schema['default'], ensure_ascii=False)}")
        return "; ".join(found)

    def fields(self, schema: Mapping[str, Any]) -> tuple[Field, ...]:
        required = set(schema.get("required", []))
        out = []
        for name, prop in schema.get("properties", {}).items():
            text, anchor = self.type_of(prop)
            description = str(prop.get("description") or "") if isinstance(prop, Mapping) else ""
            out.append(Field(name, text, anchor, name in required, self.constraints(prop), description))
        return tuple(out)

    def describe(self, name: str, schema: Mapping[str, Any]) -> Model:
        fields = self.fields(schema)
        shape = "" if fields else self.type_of({k: v for k, v in schema.items() if k != "title"})[0]
        return Model(name, self.anchor(name), str(schema.get("description", "")), fields, shape)

    def models(self) -> tuple[Model, ...]:
        """Every model met so far and those they name in turn, each once."""
        out, done = [], 0
        while done < len(self.used):
            name = self.used[done]
            out.append(self.describe(name, self.model(name)))
            done += 1
        return tuple(out)


# ---- the API -------------------------------------------------------------------------------------------------------


def _resolve(doc: Mapping[str, Any], node: Any) -> dict[str, Any]:
    while isinstance(node, Mapping) and isinstance(node.get("$ref"), str):
        target: Any = doc
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return dict(node) if isinstance(node, Mapping) else {}


def _response(describer: Describer, status: str, raw: Any) -> Response:
    resolved = _resolve(describer.doc, raw)
    problem = isinstance(raw, Mapping) and str(raw.get("$ref", "")).startswith("#/components/responses/")
    name = _ref_name(str(raw.get("$ref", ""))) if problem and isinstance(raw, Mapping) else ""
    content = resolved.get("content", {})
    media = next(iter(content), "")
    text, anchor = describer.type_of(content[media].get("schema", {})) if media and not problem else ("", "")
    return Response(status, name or str(resolved.get("description", "")), media, text, anchor, problem)


def _operation(describer: Describer, path: str, method: str, raw: Mapping[str, Any]) -> Operation:
    doc = describer.doc
    parameters = []
    for entry in raw.get("parameters", []):
        param = _resolve(doc, entry)
        text, _ = describer.type_of(param.get("schema", {}))
        parameters.append(Parameter(str(param["name"]), str(param["in"]), bool(param.get("required")), text,
                                    " ".join(str(param.get("description", "")).split())))  # fmt: skip
    request = None
    if "requestBody" in raw:
        body = _resolve(doc, raw["requestBody"])
        media = next(iter(body.get("content", {})), "")
        text, anchor = describer.type_of(body["content"][media].get("schema", {})) if media else ("", "")
        request = Response("", "", media, text, anchor, False)
    responses = tuple(_response(describer, status, value) for status, value in raw.get("responses", {}).items())
    reads = raw.get("x-pic-reads") or {}
    return Operation(
        method=method.upper(),
        path=path,
        anchor=f"op-{slug(str(raw.get('operationId') or method + path))}",
        summary=str(raw.get("summary", "")),
        description=str(raw.get("description", "")),
        action=str(raw.get("x-pic-action", "")),
        signed_in=bool(raw.get("security")),
        reads=", ".join(reads.get("sections", [])),
        parameters=tuple(parameters),
        request=request,
        responses=responses,
    )


def api(doc: Mapping[str, Any]) -> Api:
    """The whole API by domain (the OpenAPI tags: one per capability), each with the models it uses."""
    by_tag: dict[str, list[tuple[str, str, Mapping[str, Any]]]] = {}
    for path, item in doc.get("paths", {}).items():
        for method in METHODS:
            if method in item:
                for tag in item[method].get("tags", ["api"]):
                    by_tag.setdefault(tag, []).append((path, method, item[method]))
    domains = []
    for tag in sorted(by_tag):
        describer = Describer(doc, SCHEMA_REF, f"{tag}-model-")
        operations = tuple(_operation(describer, path, method, raw) for path, method, raw in sorted(by_tag[tag]))
        domains.append(Domain(tag, operations, describer.models()))
    components = doc.get("components", {})
    problems = tuple(
        Problem(name, str(value.get("description", ""))) for name, value in components.get("responses", {}).items()
    )
    problem_schema = components.get("schemas", {}).get("Problem", {})
    info = doc.get("info", {})
    return Api(
        str(info.get("title", "")),
        str(info.get("version", "")),
        str(info.get("description", "")),
        tuple(domains),
        problems,
        Describer(doc, SCHEMA_REF, "problem-").fields(problem_schema),
    )


def domain(whole: Api, name: str) -> Domain:
    if DOMAIN.match(name):
        for found in whole.domains:
            if found.name == name:
                return found
    raise NotFoundError(f"no API domain {name[:40]!r}: /docs/api lists them")


# ---- the events ----------------------------------------------------------------------------------------------------


def _event(event_type: str, channel: Mapping[str, Any], doc: Mapping[str, Any], schema: Mapping[str, Any]) -> EventType:
    cid = next(iter(channel.get("messages", {})), "")
    message = doc.get("components", {}).get("messages", {}).get(cid, {})
    operations = [
        op for op in doc.get("operations", {}).values() if op.get("channel", {}).get("$ref", "").endswith(f"/{cid}")
    ]
    send: Mapping[str, Any] = next((op for op in operations if op.get("action") == "send"), {})
    consumers = tuple(sorted(str(op.get("x-pic-service")) for op in operations if op.get("action") == "receive"))
    senders = tuple(
        Sender(str(s.get("account")), str(s.get("source") or ""), str(s.get("description", "")))
        for s in send.get("x-pic-senders", [])
    )
    source_schema = message.get("headers", {}).get("allOf", [{}, {}])[-1].get("properties", {}).get("source", {})
    source = str(source_schema.get("const") or source_schema.get("description") or "")
    describer = Describer(schema, "#/$defs/", f"{slug(event_type)}-")
    root = describer.describe(str(message.get("title") or event_type), schema)
    examples = message.get("examples") or []
    event = {**examples[0].get("headers", {}), "data": examples[0].get("payload")} if examples else None
    example = json.dumps(event, indent=2, ensure_ascii=False) if event else ""  # structured mode, as sent
    return EventType(
        type=event_type,
        domain=event_type.removeprefix(TYPE_PREFIX).split(".", 1)[0],
        anchor=slug(event_type),
        model=str(message.get("title", "")),
        description=str(channel.get("description", "")),
        producer=str(send.get("x-pic-service", "")),
        source=source,
        consumers=consumers,
        senders=senders,
        models=(root, *describer.models()),
        example=example,
    )


def events(doc: Mapping[str, Any], schemas: Mapping[str, Mapping[str, Any]]) -> Events:
    """Every event type of the AsyncAPI document, with its data schema (``schemas`` by type)."""
    types = tuple(
        _event(str(channel["address"]), channel, doc, schemas.get(str(channel["address"]), {}))
        for _, channel in sorted(doc.get("channels", {}).items(), key=lambda kv: str(kv[1].get("address")))
    )
    info = doc.get("info", {})
    return Events(str(info.get("title", "")), str(info.get("version", "")), str(info.get("description", "")), types)


def valid_event_type(event_type: str) -> bool:
    return EVENT_TYPE.match(event_type) is not None
