"""The kernel's entry points meet hostile bodies: a bounded read (``BodyLimit``), one JSON reader for
HTTP bodies (``parse_body``) and for events (the guard in front of the CloudEvents SDK), each refusal a
problem document — through the real functions-framework app where the framework is involved."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterable
from typing import Any

import pytest
from functions_framework import _function_registry, create_app
from pydantic import BaseModel
from werkzeug.test import EnvironBuilder, run_wsgi_app
from werkzeug.wrappers import Request, Response

from functions.core.errors import MalformedRequestError
from functions.core.http import BodyLimit, parse_body
from tests.unit.conftest import ROOT

DEEP = b"[" * 10_000 + b"]" * 10_000
ECHO = "echo_http"  # registered below as an HTTP entry point, as @functions_framework.http registers one


class Body(BaseModel):
    topic: str


def _echo_length(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """An app that says how many bytes of body it was handed, and with which Content-Length."""
    body = Request(environ).get_data()
    answer = {"read": len(body), "declared": environ.get("CONTENT_LENGTH")}
    return Response(json.dumps(answer), content_type="application/json")(environ, start_response)


@pytest.fixture(autouse=True)
def _echo_is_an_http_entry_point(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(_function_registry.REGISTRY_MAP, ECHO, _function_registry.HTTP_SIGNATURE_TYPE)


def _run(app: Any, environ: dict[str, Any]) -> tuple[int, str, dict[str, Any]]:
    """Status, Content-Type and JSON body of ``app``'s answer to exactly ``environ``."""
    body, status, headers = run_wsgi_app(app, environ)
    return int(status.split()[0]), headers.get("Content-Type", ""), json.loads(b"".join(body))


def _call(app: Any, body: bytes, *, chunked: bool) -> tuple[int, str, dict[str, Any]]:
    builder = EnvironBuilder(method="POST", path="/v1/x", input_stream=io.BytesIO(body))
    environ = builder.get_environ()
    if chunked:  # what gunicorn hands on for Transfer-Encoding: chunked: no length, a terminated stream
        environ.pop("CONTENT_LENGTH", None)
        environ["wsgi.input_terminated"] = True
    else:
        environ["CONTENT_LENGTH"] = str(len(body))
    return _run(app, environ)


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_body_over_the_limit_is_a_413_problem_and_never_reaches_the_app(chunked: bool) -> None:
    # GIVEN an app behind a 1,000-byte limit WHEN a larger body arrives, announced or chunked
    status, content_type, body = _call(BodyLimit(_echo_length, 1000, ECHO), b"x" * 5000, chunked=chunked)

    # THEN 413 problem+json, the app never called
    assert (status, content_type) == (413, "application/problem+json")
    assert body["type"] == "/problems/payload-too-large" and body["instance"] == "/v1/x"


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_refused_body_is_read_to_its_end_so_the_connection_can_serve_the_next_request(chunked: bool) -> None:
    # GIVEN a body over the limit, on a connection the client will use again
    stream = io.BytesIO(b"x" * 300_000)
    environ = EnvironBuilder(method="PUT", path="/v1/x", input_stream=stream).get_environ()
    if chunked:
        environ.pop("CONTENT_LENGTH", None)
        environ["wsgi.input_terminated"] = True
    else:
        environ["CONTENT_LENGTH"] = "300000"

    # WHEN it is refused
    status, _, _ = _run(BodyLimit(_echo_length, 1000, ECHO), environ)

    # THEN all of it was read and thrown away (gunicorn would drop the connection over 64 KiB left unread)
    assert status == 413 and stream.tell() == 300_000


def test_an_event_functions_app_is_not_limited_by_its_modules_http_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN the limit installed by a module on the app of its event entry point
    monkeypatch.setitem(_function_registry.REGISTRY_MAP, "echo_events", _function_registry.CLOUDEVENT_SIGNATURE_TYPE)
    environ = EnvironBuilder(method="POST", path="/", data=b"z" * 5000).get_environ()

    # WHEN the broker delivers a larger event THEN it reaches the function (the broker's ingress bounds it)
    status, _, body = _run(BodyLimit(_echo_length, 1000, "echo_events"), environ)
    assert (status, body["read"]) == (200, 5000)


def test_a_chunked_body_within_the_limit_reaches_the_app_with_its_length() -> None:
    # GIVEN a chunked body within the limit WHEN it arrives
    status, _, body = _call(BodyLimit(_echo_length, 1000, ECHO), b"y" * 999, chunked=True)

    # THEN the app reads all of it, with the Content-Length the kernel put
    assert (status, body) == (200, {"read": 999, "declared": "999"})


def test_a_content_length_that_is_not_a_number_is_a_400_problem() -> None:
    environ = EnvironBuilder(method="POST", path="/v1/x", data=b"{}").get_environ()
    environ["CONTENT_LENGTH"] = "12abc"
    status, _, body = _run(BodyLimit(_echo_length, 1000, ECHO), environ)
    assert (status, body["type"]) == (400, "/problems/malformed-request")


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (DEEP, "deeper than 32"),
        (b'{"topic": "\xff"}', "not UTF-8"),
        (b'{"topic": "a", "topic": "b"}', "appears twice"),
        (b'{"topic": "\\udc00"}', "not valid JSON"),
    ],
    ids=["deep", "invalid-utf8", "duplicate", "lone-surrogate"],
)
def test_parse_body_refuses_hostile_json_as_a_malformed_request(raw: bytes, reason: str) -> None:
    # GIVEN a JSON request with a hostile body
    request = Request(EnvironBuilder(method="PUT", data=raw, content_type="application/json").get_environ())

    # WHEN the kernel parses it THEN a 400 malformed-request says why
    with pytest.raises(MalformedRequestError, match=reason):
        parse_body(request, Body)


@pytest.fixture(scope="module")
def event_app() -> Any:
    """A real event function, as functions-framework serves it (refused events never reach the store)."""
    app = create_app("notification_events", str(ROOT / "functions/notification/main.py"), "cloudevent")
    return app.test_client()


def _binary_event() -> dict[str, str]:
    return {
        "ce-specversion": "1.0",
        "ce-id": "e-hostile-1",
        "ce-source": "/legacy/tributos",
        "ce-type": "es.madrid.pic.notification.requested.v1",
        "Content-Type": "application/json",
    }


@pytest.mark.parametrize(
    ("raw", "reason"),
    [(DEEP, "deeper than 32"), (b'{"template": "x", "template": "y"}', "appears twice")],
    ids=["deep", "duplicate"],
)
def test_a_binary_event_with_hostile_data_is_a_400_the_broker_dead_letters(
    event_app: Any, raw: bytes, reason: str
) -> None:
    # GIVEN a binary-mode event whose data is hostile JSON
    # WHEN the broker delivers it
    response = event_app.post("/", data=raw, headers=_binary_event())

    # THEN 400 invalid-event (dead-lettered at once, with the reason), instance source#id
    assert response.status_code == 400, response.data[:300]
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.json["type"] == "/problems/invalid-event" and reason in response.json["detail"]
    assert response.json["instance"] == "/legacy/tributos#e-hostile-1"


@pytest.mark.parametrize(
    "envelope",
    [
        b'{"specversion": "1.0", "id": "e-2", "source": "/s", "type": "t", "data": ' + DEEP + b"}",
        b'{"specversion": "1.0", "id": "e-3", "source": "/s", "type": "t", "data": {"a": "\xc3\x28"}}',
    ],
    ids=["deep-data", "invalid-utf8"],
)
def test_a_structured_event_with_hostile_json_is_a_400_problem(event_app: Any, envelope: bytes) -> None:
    # GIVEN a structured-mode event that is not acceptable JSON WHEN it is delivered
    response = event_app.post("/", data=envelope, headers={"Content-Type": "application/cloudevents+json"})

    # THEN 400 invalid-event as a problem, not a 500 from the SDK's parser
    assert response.status_code == 400, response.data[:300]
    assert response.json["type"] == "/problems/invalid-event"
