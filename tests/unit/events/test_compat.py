"""The compatibility rules of ``events.compat``, each as a case in both directions: the change that breaks whoever
reads, and its counterpart that does not (Confluent's BACKWARD for event data and request bodies; oasdiff's ERR
checks for the API)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from events import compat
from events.compat import OLD_READS, READS_OLD, compare_events, compare_openapi, compare_schemas


def _obj(properties: dict[str, Any], required: tuple[str, ...] = (), closed: bool = True) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": properties, "required": list(required)}
    if closed:
        schema["additionalProperties"] = False
    return schema


def _rules(old: dict[str, Any], new: dict[str, Any], direction: compat.Direction = READS_OLD) -> list[str]:
    return [b.rule for b in compare_schemas("t.v1", old, new, direction)]


BASE = _obj({"id": {"type": "string", "maxLength": 10}, "n": {"type": "integer"}}, ("id",))


def _with(**changes: Any) -> dict[str, Any]:
    schema = copy.deepcopy(BASE)
    for name, value in changes.items():
        if value is None:
            schema["properties"].pop(name)
        else:
            schema["properties"][name] = value
    return schema


# ---- event data (the new model reads what the release admitted) ----------------------------------------------------


def test_the_same_schema_breaks_nothing() -> None:
    assert _rules(BASE, copy.deepcopy(BASE)) == []


def test_removing_a_field_breaks_and_adding_an_optional_one_does_not() -> None:
    assert _rules(BASE, _with(n=None)) == ["PROPERTY_REMOVED"]
    assert _rules(BASE, _with(note={"type": "string"})) == []


def test_renaming_a_field_is_its_removal() -> None:
    renamed = _with(n=None, count={"type": "integer"})
    (found,) = compare_schemas("t.v1", BASE, renamed, READS_OLD, "data")
    assert (found.rule, found.where) == ("PROPERTY_REMOVED", "data.n")


def test_adding_a_required_field_breaks() -> None:
    new = _with(note={"type": "string"})
    new["required"].append("note")
    assert _rules(BASE, new) == ["REQUIRED_PROPERTY_ADDED"]


def test_making_an_optional_field_required_breaks_and_the_reverse_does_not() -> None:
    required = copy.deepcopy(BASE)
    required["required"].append("n")
    assert _rules(BASE, required) == ["PROPERTY_BECAME_REQUIRED"]
    assert _rules(required, BASE) == []


@pytest.mark.parametrize(
    ("old", "new", "rule"),
    [
        ({"type": "string"}, {"type": "integer"}, "TYPE_CHANGED"),
        ({"type": "number"}, {"type": "integer"}, "TYPE_NARROWED"),
        ({"anyOf": [{"type": "string"}, {"type": "null"}]}, {"type": "string"}, "TYPE_NARROWED"),
    ],
)
def test_changing_or_narrowing_a_type_breaks(old: dict[str, Any], new: dict[str, Any], rule: str) -> None:
    assert _rules(_with(n=old), _with(n=new)) == [rule]
    assert _rules(_with(n=new), _with(n=old)) == ([] if rule == "TYPE_NARROWED" else [rule])


def test_changing_a_pattern_breaks_both_ways() -> None:
    first, second = _with(id={"type": "string", "pattern": "^a"}), _with(id={"type": "string", "pattern": "^b"})
    assert _rules(first, second) == _rules(second, first) == ["PATTERN_CHANGED"]


def test_widening_a_type_does_not_break() -> None:
    assert _rules(_with(n={"type": "integer"}), _with(n={"type": "number"})) == []
    assert _rules(_with(n={"type": "integer"}), _with(n={"anyOf": [{"type": "integer"}, {"type": "null"}]})) == []


def test_narrowing_an_enum_breaks_and_widening_it_does_not() -> None:
    old = _with(n={"type": "string", "enum": ["a", "b"]})
    narrowed = _with(n={"type": "string", "enum": ["a"]})
    assert _rules(old, narrowed) == ["ENUM_NARROWED"]
    assert _rules(narrowed, old) == []
    assert _rules(_with(n={"type": "string"}), narrowed) == ["ENUM_ADDED"]
    assert _rules(_with(n={"const": "a"}), _with(n={"const": "b"})) == ["ENUM_NARROWED"]


@pytest.mark.parametrize(
    ("old", "new", "rule"),
    [
        ({"maxLength": 10}, {"maxLength": 5}, "MAX_LENGTH_DECREASED"),
        ({}, {"maxLength": 5}, "MAX_LENGTH_ADDED"),
        ({"minLength": 1}, {"minLength": 3}, "MIN_LENGTH_INCREASED"),
        ({}, {"pattern": "^a"}, "PATTERN_ADDED"),
        ({}, {"format": "email"}, "FORMAT_ADDED"),
    ],
)
def test_tightening_a_string_breaks_and_loosening_it_does_not(
    old: dict[str, Any], new: dict[str, Any], rule: str
) -> None:
    tight, loose = _with(id={"type": "string", **new}), _with(id={"type": "string", **old})
    assert _rules(loose, tight) == [rule]
    assert _rules(tight, loose) == []


@pytest.mark.parametrize(
    ("old", "new", "rule"),
    [
        ({"maximum": 10}, {"maximum": 9}, "MAXIMUM_DECREASED"),
        ({"minimum": 0}, {"minimum": 1}, "MINIMUM_INCREASED"),
        ({}, {"exclusiveMinimum": 0}, "EXCLUSIVE_MINIMUM_ADDED"),
        ({"multipleOf": 1}, {"multipleOf": 5}, "MULTIPLE_OF_CHANGED"),
    ],
)
def test_tightening_a_range_breaks_and_loosening_it_does_not(
    old: dict[str, Any], new: dict[str, Any], rule: str
) -> None:
    tight, loose = _with(n={"type": "integer", **new}), _with(n={"type": "integer", **old})
    assert _rules(loose, tight) == [rule]
    assert _rules(tight, loose) == []


def test_tightening_an_array_breaks_and_its_items_are_compared() -> None:
    loose = _with(tags={"type": "array", "items": {"type": "string", "enum": ["x", "y"]}})
    tight = _with(
        tags={"type": "array", "items": {"type": "string", "enum": ["x"]}, "maxItems": 3, "uniqueItems": True}
    )
    found = compare_schemas("t.v1", loose, tight, READS_OLD, "data")
    assert {(b.where, b.rule) for b in found} == {
        ("data.tags", "MAX_ITEMS_ADDED"),
        ("data.tags", "UNIQUE_ITEMS_ADDED"),
        ("data.tags[]", "ENUM_NARROWED"),
    }
    assert _rules(tight, loose) == []


def test_closing_an_open_model_breaks_and_opening_it_does_not() -> None:
    open_, closed = _obj({"a": {"type": "string"}}, closed=False), _obj({"a": {"type": "string"}})
    assert _rules(open_, closed) == ["ADDITIONAL_PROPERTIES_NARROWED"]
    assert _rules(closed, open_) == []


def test_a_map_whose_values_narrow_breaks() -> None:
    old = _with(m={"type": "object", "additionalProperties": {"type": "string"}})
    new = _with(m={"type": "object", "additionalProperties": {"type": "string", "maxLength": 3}})
    assert _rules(old, new) == ["MAX_LENGTH_ADDED"]
    assert _rules(new, old) == []


def test_refs_are_followed_in_each_document_and_the_place_named() -> None:
    old = {"$defs": {"Actor": _obj({"kind": {"enum": ["a", "b"], "type": "string"}}, ("kind",))},
           **_obj({"actor": {"$ref": "#/$defs/Actor"}}, ("actor",))}  # fmt: skip
    new = copy.deepcopy(old)
    new["$defs"]["Actor"]["properties"]["kind"]["enum"] = ["a"]
    (found,) = compare_schemas("es.madrid.pic.x.v1", old, new, READS_OLD, "data")
    assert str(found) == 'es.madrid.pic.x.v1: data.actor.kind: ENUM_NARROWED: "b" admitted by the release, no longer'


def test_a_discriminated_union_compares_each_member_with_its_counterpart() -> None:
    def union(call_lines: list[str]) -> dict[str, Any]:
        call = _obj({"kind": {"const": "call"}, "line": {"type": "string", "enum": call_lines}}, ("kind",))
        chat = _obj({"kind": {"const": "chat"}, "room": {"type": "string"}}, ("kind",))
        return _obj({"channel": {"oneOf": [dict(call, title="Call"), dict(chat, title="Chat")]}})

    assert _rules(union(["010", "012"]), union(["010"])) == ["ENUM_NARROWED"]
    assert _rules(union(["010"]), union(["010", "012"])) == []
    without_chat = union(["010"])
    without_chat["properties"]["channel"]["oneOf"].pop()
    assert compare_schemas("t.v1", union(["010"]), without_chat), "a removed member of a union is a break"


def test_a_recursive_model_is_compared_once_per_place() -> None:
    tree = {"$defs": {"Node": _obj({"label": {"type": "string"}, "children": {"type": "array",
            "items": {"$ref": "#/$defs/Node"}}})}, "$ref": "#/$defs/Node"}  # fmt: skip
    smaller = copy.deepcopy(tree)
    smaller["$defs"]["Node"]["properties"]["label"]["maxLength"] = 3
    assert _rules(tree, copy.deepcopy(tree)) == []
    assert _rules(tree, smaller) == ["MAX_LENGTH_ADDED"]


def test_event_types_added_are_additions_removed_ones_break_unless_their_successor_is_published() -> None:
    released = {"es.madrid.pic.a.done.v1": BASE}
    assert compare_events(released, {**released, "es.madrid.pic.b.done.v1": BASE}) == []
    (gone,) = compare_events(released, {"es.madrid.pic.b.done.v1": BASE})
    assert (gone.contract, gone.rule) == ("es.madrid.pic.a.done.v1", "EVENT_TYPE_REMOVED")
    assert compare_events(released, {"es.madrid.pic.a.done.v2": _with(n=None)}) == []


# ---- the API (the server reads requests, the release's clients read responses) --------------------------------------


def _api(
    request: dict[str, Any] | None = None,
    response: dict[str, Any] | None = None,
    parameters: list[dict[str, Any]] | None = None,
    security: list[dict[str, list[str]]] | None = None,
    path: str = "/v1/things/{id}",
) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "responses": {
            "200": {
                "description": "ok",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Out"}}},
            },
            "404": {"$ref": "#/components/responses/NotFound"},
        },
        "parameters": [
            {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}},
            *(parameters or []),
        ],
        "security": security if security is not None else [{"bearerAuth": []}],
    }
    if request is not None:
        operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": request}}}
    return {
        "openapi": "3.1.0",
        "paths": {path: {"put": operation}},
        "components": {
            "schemas": {
                "Out": response or _obj({"id": {"type": "string"}, "n": {"type": "integer"}}, ("id", "n"), False)
            },
            "responses": {"NotFound": {"description": "no", "content": {"application/problem+json": {"schema": {}}}}},
        },
    }


def _api_rules(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    return [b.rule for b in compare_openapi(old, new)]


REQUEST = _obj({"a": {"type": "string"}}, ("a",))


def test_removing_a_path_breaks_unless_its_successor_version_is_served() -> None:
    old = _api()
    gone = _api(path="/v1/other")
    assert _api_rules(old, gone) == ["PATH_REMOVED"]
    assert str(compare_openapi(old, gone)[0]).startswith("PUT /v1/things/{id}: PATH_REMOVED")
    assert _api_rules(old, _api(path="/v2/things/{id}")) == []
    added = _api()
    added["paths"]["/v1/more"] = added["paths"]["/v1/things/{id}"]
    assert _api_rules(old, added) == []


def test_renaming_a_path_parameter_changes_no_url_and_breaks_nothing() -> None:
    renamed = _api(path="/v1/things/{thing_id}")
    renamed["paths"]["/v1/things/{thing_id}"]["put"]["parameters"][0]["name"] = "thing_id"
    assert _api_rules(_api(), renamed) == []


def test_removing_an_operation_breaks() -> None:
    new = _api()
    new["paths"]["/v1/things/{id}"]["get"] = new["paths"]["/v1/things/{id}"].pop("put")
    assert _api_rules(_api(), new) == ["OPERATION_REMOVED"]


def test_a_new_required_parameter_breaks_and_an_optional_one_does_not() -> None:
    limit = {"name": "limit", "in": "query", "schema": {"type": "integer"}}
    assert _api_rules(_api(), _api(parameters=[{**limit, "required": True}])) == ["NEW_REQUIRED_PARAMETER"]
    assert _api_rules(_api(), _api(parameters=[limit])) == []
    assert _api_rules(_api(parameters=[limit]), _api(parameters=[{**limit, "required": True}])) == [
        "PARAMETER_BECAME_REQUIRED"
    ]
    assert _api_rules(_api(parameters=[limit]), _api(parameters=[{**limit, "schema": {"type": "string"}}])) == [
        "TYPE_CHANGED"
    ]


def test_a_new_required_request_field_breaks_and_an_optional_one_does_not() -> None:
    more = copy.deepcopy(REQUEST)
    more["properties"]["b"] = {"type": "string"}
    assert _api_rules(_api(REQUEST), _api(more)) == []
    more["required"].append("b")
    assert _api_rules(_api(REQUEST), _api(more)) == ["REQUIRED_PROPERTY_ADDED"]
    assert _api_rules(_api(), _api(REQUEST)) == ["NEW_REQUIRED_REQUEST_BODY"]


def test_a_tightened_request_field_breaks() -> None:
    tight = _obj({"a": {"type": "string", "maxLength": 2}}, ("a",))
    assert _api_rules(_api(REQUEST), _api(tight)) == ["MAX_LENGTH_ADDED"]
    assert _api_rules(_api(tight), _api(REQUEST)) == []


def test_removing_a_response_field_breaks_and_adding_one_does_not() -> None:
    out = _obj({"id": {"type": "string"}, "n": {"type": "integer"}}, ("id", "n"), False)
    fewer = _obj({"id": {"type": "string"}}, ("id",), False)
    more = _obj({"id": {"type": "string"}, "n": {"type": "integer"}, "x": {"type": "string"}}, ("id", "n"), False)
    (found,) = compare_openapi(_api(response=out), _api(response=fewer))
    assert (found.where, found.rule) == ("response 200 (application/json).n", "PROPERTY_REMOVED")
    assert _api_rules(_api(response=out), _api(response=more)) == []


def test_a_response_field_made_optional_or_of_another_type_breaks() -> None:
    out = _obj({"id": {"type": "string"}, "n": {"type": "integer"}}, ("id", "n"), False)
    optional = _obj({"id": {"type": "string"}, "n": {"type": "integer"}}, ("id",), False)
    assert _api_rules(_api(response=out), _api(response=optional)) == ["REQUIRED_PROPERTY_REMOVED"]
    assert _api_rules(_api(response=optional), _api(response=out)) == []
    retyped = _obj({"id": {"type": "integer"}, "n": {"type": "integer"}}, ("id", "n"), False)
    assert _api_rules(_api(response=out), _api(response=retyped)) == ["TYPE_CHANGED"]
    nullable = _obj({"id": {"type": "string"}, "n": {"anyOf": [{"type": "integer"}, {"type": "null"}]}}, ("id", "n"))
    assert _api_rules(_api(response=out), _api(response=nullable)) == ["TYPE_CHANGED"]


def test_a_response_that_answers_less_does_not_break_its_readers() -> None:
    out = _obj({"id": {"type": "string"}}, ("id",), False)
    tighter = _obj({"id": {"type": "string", "maxLength": 5, "enum": ["a"]}}, ("id",), False)
    assert compare_schemas("x", out, tighter, OLD_READS) == []


def test_removing_a_success_response_or_a_media_type_breaks_and_a_problem_does_not() -> None:
    old, new = _api(), _api()
    responses = new["paths"]["/v1/things/{id}"]["put"]["responses"]
    responses["201"] = responses.pop("200")
    assert _api_rules(old, new) == ["SUCCESS_RESPONSE_REMOVED"]
    new = _api()
    del new["paths"]["/v1/things/{id}"]["put"]["responses"]["404"]
    assert _api_rules(old, new) == []
    new = _api()
    content = new["paths"]["/v1/things/{id}"]["put"]["responses"]["200"]["content"]
    content["application/xml"] = content.pop("application/json")
    assert _api_rules(old, new) == ["RESPONSE_MEDIA_TYPE_REMOVED"]


def test_security_added_to_a_public_operation_breaks_and_removed_does_not() -> None:
    assert _api_rules(_api(security=[]), _api()) == ["SECURITY_ADDED"]
    assert _api_rules(_api(), _api(security=[])) == []


# ---- releases --------------------------------------------------------------------------------------------------------


def _schemas(directory: Path, event: dict[str, Any], api: dict[str, Any]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "es.madrid.pic.a.done.v1.json").write_text(json.dumps(event), encoding="utf-8")
    (directory / "openapi.json").write_text(json.dumps(api), encoding="utf-8")
    (directory / "asyncapi.yaml").write_text("asyncapi: 3.0.0\n", encoding="utf-8")
    return directory


def test_a_release_records_each_file_and_an_edit_to_it_is_seen(tmp_path: Path) -> None:
    current = _schemas(tmp_path / "schemas", BASE, _api())
    root = tmp_path / "released"
    first = compat.cut_release(current, root, date="2026-12-07", commit="abc")
    manifest = json.loads((first / compat.MANIFEST).read_text(encoding="utf-8"))
    assert (first.name, manifest["release"], manifest["commit"]) == ("v1", "v1", "abc")
    assert set(manifest["files"]) == {"es.madrid.pic.a.done.v1.json", "openapi.json", "asyncapi.yaml"}
    assert compat.altered(first) == []
    (first / "openapi.json").write_text("{}", encoding="utf-8")
    assert compat.altered(first) == ["openapi.json: edited"]


def test_the_next_release_is_compared_with_the_last_and_refused_when_it_breaks(tmp_path: Path) -> None:
    root = tmp_path / "released"
    compat.cut_release(_schemas(tmp_path / "one", BASE, _api()), root, date="2026-12-07")
    with pytest.raises(ValueError, match="PROPERTY_REMOVED"):
        compat.cut_release(_schemas(tmp_path / "two", _with(n=None), _api()), root, date="2026-12-08")
    second = compat.cut_release(
        _schemas(tmp_path / "three", _with(x={"type": "string"}), _api()), root, date="2026-12-08"
    )
    assert second.name == "v2" and compat.latest_release(root) == second
    with pytest.raises(FileExistsError):
        compat.cut_release(tmp_path / "three", root, name="v2")


def test_the_command_line_says_what_broke_and_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    release = compat.cut_release(_schemas(tmp_path / "one", BASE, _api()), tmp_path / "released", date="2026-12-07")
    broken = _schemas(tmp_path / "two", _with(n={"type": "string"}), _api())
    assert compat.main(["check", "--released", str(release), "--current", str(broken)]) == 1
    out = capsys.readouterr().out
    assert "1 breaking change(s) against release v1" in out
    assert "es.madrid.pic.a.done.v1: data.n: TYPE_CHANGED: the release admitted integer, now only string" in out
    assert compat.main(["check", "--released", str(release), "--current", str(tmp_path / "one")]) == 0


def test_a_dangling_ref_is_said_not_a_traceback(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    release = compat.cut_release(_schemas(tmp_path / "one", BASE, _api()), tmp_path / "released", date="2026-12-07")
    broken = _schemas(tmp_path / "two", _with(n={"$ref": "#/$defs/Missing"}), _api())
    assert compat.main(["check", "--released", str(release), "--current", str(broken)]) == 2
    assert "a $ref does not resolve: '#/$defs/Missing'" in capsys.readouterr().err
