"""Open311 GeoReport v2 on the wire (http://wiki.open311.org/GeoReport_v2/): the same answer in JSON or XML, and the
spec's error list.

- JSON: ``Content-Type: application/json; charset=utf-8``; lists at the top level, as the spec's examples.
- XML: ``Content-Type: text/xml; charset=utf-8``, the declaration with ``encoding="utf-8"``, no namespace, the
  spec's element names (``services/service``, ``service_requests/request``, ``service_definition`` with
  ``attributes/attribute`` and ``values/value``, ``errors/error``); booleans as ``true``/``false``, a null as an
  empty element (the spec's ``<account_id/>``). The JSON is the Spark convention's mapping of that XML.
- Errors: ``[{"code": <HTTP status>, "description": "..."}]`` (``<errors><error><code/><description/>``), with the
  spec's statuses: 400 for a missing or malformed argument, 403 for an api_key refused, 404 for an unknown
  service_code, request or token. PIC's other refusals keep their own status (413, 429...).
"""

from __future__ import annotations

import json
from typing import Any, Literal
from xml.etree import ElementTree as ET

import flask

from functions.core.errors import PicError

Format = Literal["json", "xml"]
JSON_TYPE = "application/json; charset=utf-8"
XML_TYPE = "text/xml; charset=utf-8"
# the spec's list element of each answer's items
ITEM = {"services": "service", "service_requests": "request", "errors": "error", "attributes": "attribute",
        "values": "value", "keywords": "keyword", "formats": "format", "endpoints": "endpoint"}  # fmt: skip


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _element(parent: ET.Element, name: str, value: Any) -> None:
    child = ET.SubElement(parent, name)
    if isinstance(value, dict):
        for key, inner in value.items():
            _element(child, key, inner)
    elif isinstance(value, list):
        for inner in value:
            _element(child, ITEM.get(name, "item"), inner)
    else:
        child.text = _text(value)


def to_xml(root: str, body: list[Any] | dict[str, Any]) -> bytes:
    """The spec's XML: ``root`` holding the list's items (or the object's fields), UTF-8 with its declaration."""
    element = ET.Element(root)
    if isinstance(body, list):
        for item in body:
            _element(element, ITEM[root], item)
    else:
        for key, value in body.items():
            _element(element, key, value)
    return bytes(ET.tostring(element, encoding="utf-8", xml_declaration=True))


def answer(fmt: Format, root: str, body: list[Any] | dict[str, Any], status: int = 200) -> tuple[int, bytes, str]:
    if fmt == "xml":
        return status, to_xml(root, body), XML_TYPE
    return status, json.dumps(body, ensure_ascii=False).encode(), JSON_TYPE


def errors_body(fmt: Format, error: PicError) -> flask.Response:
    """A refusal as the spec's error list; a problem's field errors become one entry each."""
    status = 400 if error.status == 422 else error.status  # GeoReport v2 has no 422: a bad argument is a 400
    entries = [{"code": status, "description": f"{e.get('field')}: {e.get('message')}"} for e in error.errors or []]
    entries = entries or [{"code": status, "description": error.detail}]
    code, body, content_type = answer(fmt, "errors", entries, status)
    return flask.Response(body, status=code, content_type=content_type, headers=error.headers)


def problem_body(fmt: Format) -> Any:
    """The ``Route.problem_body`` of an Open311 route of that format."""

    def render(error: PicError) -> flask.Response:
        return errors_body(fmt, error)

    return render
