"""Contracts that cannot break silently: ``schemas/`` compared with the last release kept in ``contracts/released/``.

A contract is each event type's data schema (``schemas/<type>.json``) and each operation of the channel API
(``schemas/openapi.json``). Whoever reads the data decides what breaks:

- **Events** — consumers read what producers publish, and PIC's consumers refuse unknown fields (the models are
  ``extra="forbid"``: a closed content model). The rule is Confluent Schema Registry's default, BACKWARD: the new
  schema reads every event the released one admitted (the events in the broker, the dead letters a replay sends
  again, the consumers upgraded first). Breaking: a field removed or renamed, a type changed or narrowed, an enum
  narrowed, a required field added (or an optional one made required), a constraint tightened (length, range,
  pattern, format, items), a closed model where extra fields were allowed. Compatible: an optional field, a
  widened enum or constraint, a new event type.
- **The API** — the server reads what clients send (request bodies and parameters: checked like events), and
  clients read what it answers (responses: nothing they rely on may go). Breaking, as oasdiff's checks of level
  ERR: a path or operation removed, a success response removed, a media type removed, a new required parameter
  or request body, a request field made required or tightened, a response field removed or made optional, a
  type changed, security added to a public operation. Compatible: new paths, operations, optional parameters
  and fields, new response fields.

A break is allowed only as a new version: a ``.v2`` event type (CloudEvents 1.0 §3.1.1 ``dataschema``:
"Incompatible changes to the schema SHOULD be reflected by a different URI"; the type is PIC's versioned name)
or a new path (``/v2/...``). The old one may then be removed, its successor being there; ``make
release-contracts`` records the new baseline when the platform is published. docs/contracts.md says how.

Sources: Confluent Schema Registry, "Schema Evolution and Compatibility" (BACKWARD, FORWARD, FULL) and its JSON
Schema differences (io.confluent.kafka.schemaregistry.json.diff.Difference.Type, whose names the rules take);
oasdiff's breaking-changes checks (https://github.com/oasdiff/oasdiff/blob/main/BREAKING-CHANGES.md); CloudEvents
1.0 (https://github.com/cloudevents/spec/blob/v1.0.2/cloudevents/spec.md, ``type`` and ``dataschema``).

No library does this: PyPI's json-schema diff tools show differences without compatibility rules, oasdiff is a
Go binary; this module is pure (JSON in, breaks out) and ``python -m events.compat`` is its command line.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

REPO_ROOT = Path(__file__).resolve().parents[1]
SCHEMAS_DIR = REPO_ROOT / "schemas"
RELEASED_DIR = REPO_ROOT / "contracts" / "released"
MANIFEST = "RELEASE.json"
OPENAPI_FILE = "openapi.json"
ASYNCAPI_FILE = "asyncapi.yaml"
EVENT_GLOB = "es.madrid.pic.*.json"
VERSIONED_TYPE = re.compile(r"^(?P<stem>.+)\.v(?P<n>[0-9]+)$")
PATH_VERSION = re.compile(r"^/v(?P<n>[0-9]+)(?=/|$)")
METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
ALL_TYPES = frozenset({"string", "number", "integer", "boolean", "object", "array", "null"})
_ANY: dict[str, Any] = {}
_NOTHING: dict[str, Any] = {"not": {}}
UPPER_BOUNDS = ("maxLength", "maxItems", "maximum", "exclusiveMaximum", "maxProperties")
LOWER_BOUNDS = ("minLength", "minItems", "minimum", "exclusiveMinimum", "minProperties")

# Who reads: "reads-old" — the new schema must read whatever the released one admitted (event data, request
# bodies, parameters); "old-reads" — readers of the release must read whatever the new one produces (responses).
Direction = Literal["reads-old", "old-reads"]
READS_OLD: Direction = "reads-old"
OLD_READS: Direction = "old-reads"


@dataclass(frozen=True, order=True)
class Break:
    """One incompatible change: the contract (event type, or ``METHOD /path``), where in it, the rule, why."""

    contract: str
    where: str
    rule: str
    detail: str

    def __str__(self) -> str:
        where = f" {self.where}:" if self.where else ""
        return f"{self.contract}:{where} {self.rule}: {self.detail}"


# ---- JSON Schema --------------------------------------------------------------------------------------------------


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _enum(schema: Mapping[str, Any]) -> list[Any] | None:
    """The values a schema is limited to (``enum`` or ``const``), or None."""
    if "const" in schema:
        return [schema["const"]]
    return list(schema["enum"]) if isinstance(schema.get("enum"), list) else None


def types_of(schema: Mapping[str, Any]) -> frozenset[str]:
    """The JSON types a single (non-union) schema admits; all of them when it says nothing."""
    declared = schema.get("type")
    if isinstance(declared, str):
        return frozenset({declared})
    if isinstance(declared, list):
        return frozenset(declared)
    values = _enum(schema)
    if values is not None:
        return frozenset(_json_type(v) for v in values)
    if "properties" in schema or "additionalProperties" in schema or "required" in schema:
        return frozenset({"object"})
    if "items" in schema:
        return frozenset({"array"})
    return ALL_TYPES


def _covers(reader: frozenset[str], writer: frozenset[str]) -> bool:
    """Whether a reader of types ``reader`` reads every value of types ``writer`` (an integer is a number)."""
    return all(t in reader or (t == "integer" and "number" in reader) for t in writer)


def _shown(values: Iterable[Any]) -> str:
    return ", ".join(sorted(json.dumps(v, ensure_ascii=False) for v in values))


def _join(where: str, name: str) -> str:
    return f"{where}.{name}" if where else name


class SchemaDiff:
    """Compares two JSON Schemas (draft 2020-12, as pydantic writes them: local ``$ref``s, ``anyOf`` for
    optional values and unions, ``oneOf`` with a discriminator), each resolved inside its own document."""

    def __init__(self, contract: str, old_doc: Mapping[str, Any], new_doc: Mapping[str, Any]) -> None:
        self.contract = contract
        self.old_doc = old_doc
        self.new_doc = new_doc
        self.breaks: list[Break] = []
        self._active: set[tuple[int, int]] = set()  # the pairs being compared down the current path

    def _break(self, where: str, rule: str, detail: str) -> None:
        self.breaks.append(Break(self.contract, where, rule, detail))

    @staticmethod
    def resolve(doc: Mapping[str, Any], schema: Any) -> dict[str, Any]:
        """``schema`` with its local ``$ref`` chain followed (``True``/absent: any value; ``False``: none)."""
        hops = 0
        while isinstance(schema, dict) and isinstance(schema.get("$ref"), str) and schema["$ref"].startswith("#"):
            node: Any = doc
            try:
                for part in schema["$ref"].removeprefix("#/").split("/"):
                    if part:
                        node = node[part.replace("~1", "/").replace("~0", "~")]
            except (KeyError, IndexError, TypeError):
                raise KeyError(schema["$ref"]) from None
            schema, hops = node, hops + 1
            if hops > 64:
                raise ValueError(f"$ref loop at {schema}")
        if schema is True or schema is None:
            return _ANY
        if schema is False:
            return _NOTHING
        if not isinstance(schema, dict):  # not a schema of draft 2020-12 (a draft-4 tuple of items): read as any
            return _ANY
        return schema  # the node itself: its identity guards recursion

    def branches(self, doc: Mapping[str, Any], schema: Any) -> list[dict[str, Any]]:
        """The alternatives a schema admits: the members of its ``anyOf``/``oneOf`` (flattened), or itself."""
        resolved = self.resolve(doc, schema)
        union = resolved.get("anyOf") or resolved.get("oneOf")
        if not isinstance(union, list):
            return [resolved]
        return [branch for member in union for branch in self.branches(doc, member)]

    def compare(self, old: Any, new: Any, where: str, direction: Direction) -> None:
        """Every way ``new`` breaks whoever reads under ``direction``."""
        olds, news = self.branches(self.old_doc, old), self.branches(self.new_doc, new)
        writers, readers = (olds, news) if direction == READS_OLD else (news, olds)
        every = frozenset().union(*(types_of(w) for w in writers))
        for writer in writers:
            wtypes = types_of(writer)
            fitting = [r for r in readers if _covers(types_of(r), wtypes)]
            if not fitting:
                self._type_break(where, direction, wtypes, every, readers)
                continue
            reader = self._closest(writer, fitting)
            old_one, new_one = (writer, reader) if direction == READS_OLD else (reader, writer)
            self._compare_one(old_one, new_one, where, direction)

    def _type_break(
        self,
        where: str,
        direction: Direction,
        wtypes: frozenset[str],
        every: frozenset[str],
        readers: list[dict[str, Any]],
    ) -> None:
        """``wtypes`` (of all the written ``every``) no reader takes: narrowed if some of ``every`` still is."""
        rtypes = frozenset().union(*(types_of(r) for r in readers)) if readers else frozenset()
        numbers = {"number", "integer"}
        if direction == READS_OLD:
            kept = rtypes & every or (rtypes & numbers and every & numbers)
            rule = "TYPE_NARROWED" if kept else "TYPE_CHANGED"
            detail = (
                f"the release admitted {'|'.join(sorted(wtypes))}, now only {'|'.join(sorted(rtypes)) or 'nothing'}"
            )
        else:
            rule = "TYPE_CHANGED"
            detail = f"may now be {'|'.join(sorted(wtypes))}; the release's readers expect {'|'.join(sorted(rtypes))}"
        self._break(where, rule, detail)

    @staticmethod
    def _closest(writer: dict[str, Any], fitting: list[dict[str, Any]]) -> dict[str, Any]:
        """Of the union members that may read ``writer``, the one that is its counterpart: same title (pydantic
        names a model's schema after it), else same constant values (a discriminator), else the first."""
        for reader in fitting:
            if writer.get("title") and reader.get("title") == writer.get("title"):
                return reader
        consts = {
            k: v["const"] for k, v in writer.get("properties", {}).items() if isinstance(v, dict) and "const" in v
        }
        for reader in fitting:
            props = reader.get("properties", {})
            if consts and all(isinstance(props.get(k), dict) and props[k].get("const") == v for k, v in consts.items()):
                return reader
        return fitting[0]

    def _compare_one(self, old: dict[str, Any], new: dict[str, Any], where: str, direction: Direction) -> None:
        pair = (id(old), id(new))
        if pair in self._active:  # a recursive model met again inside itself: compared where it started
            return
        self._active.add(pair)
        try:
            if direction == READS_OLD:
                self._enum(old, new, where)
                self._bounds(old, new, where)
            if "object" in types_of(old) and "object" in types_of(new):
                self._object(old, new, where, direction)
            if "array" in types_of(old) and "array" in types_of(new) and ("items" in old or "items" in new):
                self.compare(old.get("items", {}), new.get("items", {}), f"{where}[]", direction)
        finally:
            self._active.discard(pair)

    def _enum(self, old: dict[str, Any], new: dict[str, Any], where: str) -> None:
        old_values, new_values = _enum(old), _enum(new)
        if new_values is None:
            return
        if old_values is None:
            self._break(where, "ENUM_ADDED", f"any value was admitted, now only {_shown(new_values)}")
            return
        gone = [v for v in old_values if v not in new_values]
        if gone:
            self._break(where, "ENUM_NARROWED", f"{_shown(gone)} admitted by the release, no longer")

    def _bounds(self, old: dict[str, Any], new: dict[str, Any], where: str) -> None:
        for keyword in UPPER_BOUNDS + LOWER_BOUNDS:
            if keyword not in new:
                continue
            upper = keyword in UPPER_BOUNDS
            name = re.sub(r"(?<!^)([A-Z])", r"_\1", keyword).upper()
            if keyword not in old:
                self._break(where, f"{name}_ADDED", f"{keyword} {new[keyword]} where the release had none")
            elif (new[keyword] < old[keyword]) if upper else (new[keyword] > old[keyword]):
                rule = f"{name}_DECREASED" if upper else f"{name}_INCREASED"
                self._break(where, rule, f"{keyword} {old[keyword]} -> {new[keyword]}")
        for keyword in ("pattern", "format"):
            if keyword in new and new[keyword] != old.get(keyword):
                change = "CHANGED" if keyword in old else "ADDED"
                was = json.dumps(old[keyword]) if keyword in old else "none"
                self._break(where, f"{keyword.upper()}_{change}", f"{keyword} {was} -> {json.dumps(new[keyword])}")
        if "multipleOf" in new and ("multipleOf" not in old or (old["multipleOf"] / new["multipleOf"]) % 1 != 0):
            self._break(where, "MULTIPLE_OF_CHANGED", f"multipleOf {old.get('multipleOf')} -> {new['multipleOf']}")
        if new.get("uniqueItems") and not old.get("uniqueItems"):
            self._break(where, "UNIQUE_ITEMS_ADDED", "repeated items were admitted, no longer")

    def _object(self, old: dict[str, Any], new: dict[str, Any], where: str, direction: Direction) -> None:
        old_props, new_props = old.get("properties", {}), new.get("properties", {})
        old_required, new_required = set(old.get("required", [])), set(new.get("required", []))
        for name in sorted(set(old_props) - set(new_props)):
            detail = (
                "the release's events carry it and the new model refuses it (removed or renamed)"
                if direction == READS_OLD
                else "the release's clients read it (removed or renamed)"
            )
            self._break(_join(where, name), "PROPERTY_REMOVED", detail)
        if direction == READS_OLD:
            for name in sorted(new_required - old_required):
                if name in old_props:
                    self._break(_join(where, name), "PROPERTY_BECAME_REQUIRED", "optional in the release")
                else:
                    self._break(_join(where, name), "REQUIRED_PROPERTY_ADDED", "the release's data does not have it")
            self._additional(old, new, where)
        else:
            for name in sorted(old_required - new_required):
                if name in new_props:
                    self._break(_join(where, name), "REQUIRED_PROPERTY_REMOVED", "the release always answered it")
        for name in sorted(set(old_props) & set(new_props)):
            self.compare(old_props[name], new_props[name], _join(where, name), direction)

    def _additional(self, old: dict[str, Any], new: dict[str, Any], where: str) -> None:
        """Names outside ``properties`` (a map's keys): a closed model, or a narrower value or key schema."""
        old_extra, new_extra = old.get("additionalProperties", True), new.get("additionalProperties", True)
        if new_extra is False and old_extra is not False:
            self._break(where, "ADDITIONAL_PROPERTIES_NARROWED", "other fields were admitted, no longer")
        elif isinstance(new_extra, dict) and old_extra is not False:
            self.compare(old_extra if isinstance(old_extra, dict) else {}, new_extra, f"{where}{{*}}", READS_OLD)
        if "propertyNames" in new:
            self.compare(
                old.get("propertyNames", {"type": "string"}), new["propertyNames"], f"{where}{{name}}", READS_OLD
            )


def compare_schemas(
    contract: str, old: Mapping[str, Any], new: Mapping[str, Any], direction: Direction = READS_OLD, where: str = ""
) -> list[Break]:
    """The breaks of one JSON Schema document against its released version."""
    diff = SchemaDiff(contract, old, new)
    diff.compare(old, new, where, direction)
    return sorted(set(diff.breaks))


# ---- event types ---------------------------------------------------------------------------------------------------


def successor(name: str, names: Iterable[str], pattern: re.Pattern[str]) -> str | None:
    """The newest later version of ``name`` among ``names`` (``x.v1`` -> ``x.v2``; ``/v1/a`` -> ``/v2/a``)."""
    match = pattern.search(name)
    if not match:
        return None
    later = []
    for other in names:
        found = pattern.search(other)
        if found and int(found["n"]) > int(match["n"]):
            same = (
                found["stem"] == match["stem"]
                if "stem" in pattern.groupindex
                else pattern.sub("", other, count=1) == pattern.sub("", name, count=1)
            )
            if same:
                later.append((int(found["n"]), other))
    return max(later)[1] if later else None


def compare_events(old: Mapping[str, Mapping[str, Any]], new: Mapping[str, Mapping[str, Any]]) -> list[Break]:
    """Each released event type's data schema against the current one (keyed by type). A new type is an addition;
    a removed one breaks its consumers, unless its successor version is published."""
    breaks: list[Break] = []
    for event_type in sorted(old):
        if event_type not in new:
            if successor(event_type, new, VERSIONED_TYPE) is None:
                breaks.append(
                    Break(
                        event_type, "", "EVENT_TYPE_REMOVED", "its consumers still subscribe; publish a successor .vN"
                    )
                )
            continue
        breaks += compare_schemas(event_type, old[event_type], new[event_type], READS_OLD, "data")
    return breaks


# ---- OpenAPI -------------------------------------------------------------------------------------------------------


def _resolved(doc: Mapping[str, Any], node: Any) -> dict[str, Any]:
    return SchemaDiff.resolve(doc, node)


PATH_PARAMETER = re.compile(r"\{([^{}]+)\}")


def template(path: str) -> str:
    """A path with its parameters unnamed (``/v1/a/{id}`` -> ``/v1/a/{}``): renaming one changes no URL."""
    return PATH_PARAMETER.sub("{}", path)


def _parameters(
    doc: Mapping[str, Any], operation: Mapping[str, Any], path: str
) -> dict[tuple[str, str], dict[str, Any]]:
    """An operation's parameters by where and name (a header's name in lower case; a path parameter by its place in
    the path, as clients fill it in)."""
    places = PATH_PARAMETER.findall(path)
    found = {}
    for raw in operation.get("parameters", []):
        param = _resolved(doc, raw)
        where, name = str(param.get("in")), str(param.get("name"))
        if where == "path" and name in places:
            name = f"#{places.index(name) + 1}"
        found[(where, name.lower() if where == "header" else name)] = param
    return found


def _public(doc: Mapping[str, Any], operation: Mapping[str, Any]) -> bool:
    security = operation.get("security", doc.get("security", []))
    return not security or any(requirement == {} for requirement in security)


def compare_operation(
    contract: str,
    old_doc: Mapping[str, Any],
    new_doc: Mapping[str, Any],
    old: Mapping[str, Any],
    new: Mapping[str, Any],
    paths: tuple[str, str] = ("", ""),
) -> list[Break]:
    """One operation (of ``paths``: the released one's and the current one's) against its released version:
    parameters and request body read by the server (the new one must read what clients of the release send),
    responses read by those clients."""
    diff = SchemaDiff(contract, old_doc, new_doc)
    if _public(old_doc, old) and not _public(new_doc, new):
        diff._break("security", "SECURITY_ADDED", "the release's clients call it without credentials")
    old_params, new_params = _parameters(old_doc, old, paths[0]), _parameters(new_doc, new, paths[1])
    for key, param in sorted(new_params.items()):
        where = f"parameter {key[0]} {key[1]}"
        if param.get("required") and key not in old_params:
            diff._break(where, "NEW_REQUIRED_PARAMETER", "the release's clients do not send it")
        elif param.get("required") and not old_params[key].get("required"):
            diff._break(where, "PARAMETER_BECAME_REQUIRED", "optional in the release")
        if key in old_params:
            diff.compare(old_params[key].get("schema", {}), param.get("schema", {}), where, READS_OLD)
    _request_body(diff, old, new)
    _responses(diff, old, new)
    return sorted(set(diff.breaks))


def _request_body(diff: SchemaDiff, old: Mapping[str, Any], new: Mapping[str, Any]) -> None:
    old_body = _resolved(diff.old_doc, old["requestBody"]) if "requestBody" in old else None
    new_body = _resolved(diff.new_doc, new["requestBody"]) if "requestBody" in new else None
    if new_body is None:
        return
    if new_body.get("required") and not (old_body or {}).get("required"):
        rule = "REQUEST_BODY_BECAME_REQUIRED" if old_body is not None else "NEW_REQUIRED_REQUEST_BODY"
        diff._break("request body", rule, "the release's clients send none")
    if old_body is None:
        return
    new_content = new_body.get("content", {})
    for media, item in sorted(old_body.get("content", {}).items()):
        where = f"request body ({media})"
        if media not in new_content:
            diff._break(where, "REQUEST_MEDIA_TYPE_REMOVED", "the release's clients send it")
            continue
        diff.compare(item.get("schema", {}), new_content[media].get("schema", {}), where, READS_OLD)


def _responses(diff: SchemaDiff, old: Mapping[str, Any], new: Mapping[str, Any]) -> None:
    new_responses = new.get("responses", {})
    for status, raw in sorted(old.get("responses", {}).items()):
        where = f"response {status}"
        if status not in new_responses:
            if status.startswith("2"):
                diff._break(where, "SUCCESS_RESPONSE_REMOVED", "the release's clients expect it")
            continue
        old_content = _resolved(diff.old_doc, raw).get("content", {})
        new_content = _resolved(diff.new_doc, new_responses[status]).get("content", {})
        for media, item in sorted(old_content.items()):
            if media not in new_content:
                diff._break(f"{where} ({media})", "RESPONSE_MEDIA_TYPE_REMOVED", "the release's clients read it")
                continue
            diff.compare(item.get("schema", {}), new_content[media].get("schema", {}), f"{where} ({media})", OLD_READS)


def compare_openapi(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[Break]:
    """Every released path and operation against the current document (a path found by its template: renaming a
    path parameter changes no URL). New ones are additions; a removed path breaks its clients unless its successor
    version (``/v2/...``) is served."""
    breaks: list[Break] = []
    new_paths = new.get("paths", {})
    by_template = {template(path): path for path in new_paths}
    for path, item in sorted(old.get("paths", {}).items()):
        current = path if path in new_paths else by_template.get(template(path))
        if current is None:
            if successor(path, new_paths, PATH_VERSION) is None:
                methods = [m.upper() for m in METHODS if m in item]
                for method in methods:
                    breaks.append(Break(f"{method} {path}", "", "PATH_REMOVED", "serve a successor path (/v2/...)"))
            continue
        for method in METHODS:
            if method not in item:
                continue
            contract = f"{method.upper()} {path}"
            if method not in new_paths[current]:
                breaks.append(Break(contract, "", "OPERATION_REMOVED", "the release's clients call it"))
                continue
            breaks += compare_operation(contract, old, new, item[method], new_paths[current][method], (path, current))
    return breaks


# ---- releases ------------------------------------------------------------------------------------------------------


def read_contracts(directory: Path) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """The event data schemas (by type) and the OpenAPI document of a ``schemas/``-shaped directory."""
    events = {
        path.name.removesuffix(".json"): json.loads(path.read_text(encoding="utf-8"))
        for path in sorted(directory.glob(EVENT_GLOB))
    }
    openapi_path = directory / OPENAPI_FILE
    openapi = json.loads(openapi_path.read_text(encoding="utf-8")) if openapi_path.is_file() else {}
    return events, openapi


def check(released: Path, current: Path) -> list[Break]:
    """Every break of ``current`` (a ``schemas/`` directory) against the release in ``released``."""
    old_events, old_api = read_contracts(released)
    new_events, new_api = read_contracts(current)
    return compare_events(old_events, new_events) + compare_openapi(old_api, new_api)


def _release_key(directory: Path) -> tuple[str, int, str]:
    manifest = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
    number = re.fullmatch(r"v([0-9]+)", str(manifest["release"]))
    return str(manifest["date"]), int(number.group(1)) if number else 0, str(manifest["release"])


def releases(root: Path = RELEASED_DIR) -> list[Path]:
    """The released baselines, oldest first (by date, then release number)."""
    found = [path for path in root.iterdir() if (path / MANIFEST).is_file()] if root.is_dir() else []
    return sorted(found, key=_release_key)


def latest_release(root: Path = RELEASED_DIR) -> Path:
    found = releases(root)
    if not found:
        raise FileNotFoundError(f"no release in {root}: `make release-contracts` cuts the first")
    return found[-1]


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def contract_files(directory: Path) -> list[Path]:
    return sorted([*directory.glob(EVENT_GLOB), directory / OPENAPI_FILE, directory / ASYNCAPI_FILE])


def altered(release: Path) -> list[str]:
    """Files of a release that are not what its manifest recorded (edited, missing or added): a baseline is
    never edited to let a break through."""
    recorded: dict[str, str] = json.loads((release / MANIFEST).read_text(encoding="utf-8"))["files"]
    present = {p.name for p in release.iterdir() if p.name != MANIFEST}
    out = [f"{name}: missing" for name in sorted(set(recorded) - present)]
    out += [f"{name}: not in {MANIFEST}" for name in sorted(present - set(recorded))]
    out += [f"{name}: edited" for name in sorted(set(recorded) & present) if digest(release / name) != recorded[name]]
    return out


def _git(*args: str) -> str:
    done = subprocess.run(["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, check=False)  # noqa: S603,S607
    return done.stdout.strip() if done.returncode == 0 else ""


def next_name(root: Path = RELEASED_DIR) -> str:
    numbers = [int(m.group(1)) for p in releases(root) if (m := re.fullmatch(r"v([0-9]+)", p.name))]
    return f"v{max(numbers, default=0) + 1}"


def cut_release(
    current: Path = SCHEMAS_DIR, root: Path = RELEASED_DIR, name: str = "", date: str = "", commit: str = ""
) -> Path:
    """Copy ``current`` into ``root/<name>`` with its manifest (release, date, commit, each file's SHA-256).
    Refused when it breaks the last release: a break is a new version, never a new baseline."""
    if root.is_dir() and releases(root):
        breaks = check(latest_release(root), current)
        if breaks:
            raise ValueError("not released, it breaks the last release:\n  " + "\n  ".join(map(str, breaks)))
    name = name or next_name(root)
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", name):
        raise ValueError(f"{name!r} is not a release name (letters, digits, . _ -)")
    target = root / name
    if target.exists():
        raise FileExistsError(f"{target} exists: a release is never rewritten")
    target.mkdir(parents=True)
    files = {}
    for path in contract_files(current):
        shutil.copyfile(path, target / path.name)
        files[path.name] = digest(path)
    manifest = {
        "release": name,
        "date": date or datetime.now(UTC).date().isoformat(),
        "commit": commit or _git("rev-parse", "HEAD") or "unknown",
        "what": "schemas/ as published: the baseline `make test` compares every event type and the API with",
        "files": files,
    }
    (target / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return target


# ---- command line --------------------------------------------------------------------------------------------------


def _check_command(released: Path | None, current: Path) -> int:
    release = released or latest_release()
    breaks = check(release, current)
    name = (
        json.loads((release / MANIFEST).read_text(encoding="utf-8"))["release"]
        if (release / MANIFEST).is_file()
        else release.name
    )
    if breaks:
        print(
            f"{len(breaks)} breaking change(s) against release {name} (a break needs a new version: docs/contracts.md):"
        )
        print(*(f"  {b}" for b in breaks), sep="\n")
        return 1
    print(f"{current} is compatible with release {name}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m events.compat", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    checking = sub.add_parser("check", help="compare schemas with the last release; exit 1 listing each break")
    checking.add_argument("--current", type=Path, default=SCHEMAS_DIR, help="a schemas/ directory (default: schemas/)")
    checking.add_argument("--released", type=Path, default=None, help="a release directory (default: the last)")
    releasing = sub.add_parser("release", help="record schemas/ as the next release in contracts/released/")
    releasing.add_argument("--name", default="", help="the release's name (default: the next vN)")
    args = parser.parse_args(argv)
    try:
        if args.command == "check":
            return _check_command(args.released, args.current)
        from events import generate  # the generator imports every capability: only when cutting a release

        if generate.stale():
            print("schemas/ is stale: run `make schemas` first, then release what the code says", file=sys.stderr)
            return 1
        target = cut_release(name=args.name)
        print(f"released {target.relative_to(REPO_ROOT)}: commit it (git add {target.relative_to(REPO_ROOT)})")
        return 0
    except (ValueError, FileNotFoundError, FileExistsError) as refused:
        print(refused, file=sys.stderr)
        return 1
    except KeyError as dangling:  # a $ref that resolves to nothing: the document is not valid, say which
        print(f"a $ref does not resolve: {dangling}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
