"""Fuzzing the channel API against the running platform, as part of the suite.

- schemathesis over every operation of ``schemas/openapi.json``, as each kind of caller: a citizen (half
  the cases on their own record), an agent of level 1 with an area, with and without an ``Access-Purpose``,
  and a system;
- schemathesis' stateful testing over the OpenAPI links (``events/generate.py``: a POST that answers an id
  is linked to every operation that takes it), so the ids are real and the calls reach past the 404s;
- a corpus of hostile bodies (depth, size, encodings, control characters, numbers, duplicate members,
  content types), path parameters and query strings against EVERY route of every function, found the
  way ``events/generate.py`` finds them, so a new route joins without anyone listing it.

The rule everywhere: never a 5xx, and every refusal is a problem document naming its own status.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable, Iterator
from typing import Any, NamedTuple

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from events.generate import discover_routes, path_parameters
from functions.core.http import Route
from local.harness import ROOT, Platform, start_platform

pytestmark = pytest.mark.functional
SCHEMA = schemathesis.openapi.from_path(str(ROOT / "schemas/openapi.json"))
OPERATIONS = [result.ok() for result in SCHEMA.get_all_operations()]
ROUTES = [(capability, route) for capability, routes in discover_routes().items() for route in routes]
CITIZEN = "c-fuzz"
AGENT = {"role": "agent", "level": 1, "area": "hacienda"}
PURPOSE = "EXP-FUZZ-0001"
# Examples per operation and caller; the stateful scenarios per caller and their length. Tuned to keep the
# module within a few minutes on a loaded two-core machine.
EXAMPLES = 6
SCENARIOS, STEPS = 8, 5


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    """A platform of its own: the hundreds of accepted requests fan out into events (audit records, data-subject
    requests, projections) that keep the broker busy for minutes; other modules must not wait behind them."""
    data_dir = tmp_path_factory.mktemp("pic-fuzz") / "data"
    data_dir.mkdir()
    running = start_platform(data_dir)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def callers(platform: Platform) -> dict[str, dict[str, str]]:
    """The headers of each kind of caller (tokens minted once per module)."""
    agent = platform.as_("agent-fuzz", **AGENT)
    return {
        "citizen": platform.as_(CITIZEN),
        "agent-with-purpose": {**agent, "Access-Purpose": PURPOSE},
        "agent-without-purpose": agent,
        "system": platform.as_("svc-fuzz", role="system"),
    }


CALLERS = ["citizen", "agent-with-purpose", "agent-without-purpose", "system"]


def assert_no_server_error_and_problems(status: int, content_type: str, text: str, what: str) -> None:
    """The rule of this module: no 5xx; a 4xx is ``application/problem+json`` whose ``status`` is its own."""
    assert status < 500, (what, status, text[:500])
    if status >= 400:
        assert content_type.startswith("application/problem+json"), (what, status, content_type, text[:300])
        assert json.loads(text)["status"] == status, (what, text[:300])


PROBLEM = "application/problem+json"  # a refusal before the route matched (the body limit, the server's own)


def assert_no_server_error_and_open311_errors(status: int, text: str, what: str) -> None:
    """Open311 GeoReport v2 routes refuse with the spec's list of ``{code, description}`` (JSON or XML), the code
    being the status."""
    assert status < 500, (what, status, text[:500])
    if status >= 400:
        if text.startswith("<?xml"):
            assert f"<code>{status}</code>" in text, (what, text[:300])
        else:
            assert json.loads(text)[0]["code"] == status, (what, text[:300])


def _as(case: Any, headers: dict[str, str]) -> None:
    """Send ``case`` as the caller: its own credentials and purpose, never those the generator made up."""
    case.headers = {
        k: v for k, v in (case.headers or {}).items() if k.lower() not in ("authorization", "access-purpose")
    }
    case.headers.update(headers)


def _check(case: Any, response: Any) -> None:
    content_type = (response.headers.get("content-type") or [""])[0]
    open311 = case.formatted_path.startswith("/open311/") and not content_type.startswith(PROBLEM)
    if open311:  # GeoReport v2's own error list (functions/incident/open311.py)
        assert_no_server_error_and_open311_errors(response.status_code, response.text, case.formatted_path)
        return
    assert_no_server_error_and_problems(
        response.status_code, content_type, response.text, f"{case.method} {case.formatted_path}"
    )


# ---- schemathesis: every operation, every kind of caller -------------------------------------------------


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda op: op.label)
def test_no_input_the_schema_describes_makes_a_server_error(
    platform: Platform, callers: dict[str, dict[str, str]], operation: Any, caller: str
) -> None:
    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        # GIVEN a request the schema describes (or almost), from this kind of caller
        case = data.draw(operation.as_strategy())
        if case.path_parameters and "citizen_id" in case.path_parameters and data.draw(st.booleans()):
            case.path_parameters["citizen_id"] = CITIZEN  # half the cases act on the citizen's own record
        _as(case, callers[caller])
        # WHEN it is sent
        response = case.call(base_url=platform.base)
        # THEN never a server error, and every refusal is a problem document naming its status
        _check(case, response)

    check()


@pytest.mark.parametrize("caller", CALLERS)
def test_linked_operations_in_sequence_make_no_server_error(
    platform: Platform, callers: dict[str, dict[str, str]], caller: str
) -> None:
    # GIVEN the state machine of the OpenAPI links: a POST that answers an id, then what takes that id
    headers = callers[caller]

    class Scenario(SCHEMA.as_state_machine()):  # type: ignore[misc]
        def before_call(self, case: Any) -> None:
            if case.path_parameters and "citizen_id" in case.path_parameters:
                case.path_parameters["citizen_id"] = CITIZEN
            _as(case, headers)

        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"base_url": platform.base}

        def validate_response(self, response: Any, case: Any, **kwargs: Any) -> None:
            # THEN no step of any sequence is a server error; refusals are problems
            _check(case, response)

    # WHEN sequences of linked calls run as this caller
    Scenario.run(
        settings=settings(
            max_examples=SCENARIOS,
            stateful_step_count=STEPS,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
        )
    )


# ---- a corpus of hostile requests against every route ------------------------------------------------------

DEEP = b"[" * 10_000 + b"]" * 10_000


class Hostile(NamedTuple):
    """A body as it is sent: its bytes (or chunks, sent chunked) and Content-Type (None: no header)."""

    body: bytes | Callable[[], Iterable[bytes]]
    content_type: str | None = "application/json"


BODIES: dict[str, Hostile] = {
    "deep-array": Hostile(DEEP),
    "deep-object": Hostile(b'{"a":' * 10_000 + b"1" + b"}" * 10_000),
    "over-64KiB": Hostile(b'{"a": "' + b"x" * 70_000 + b'"}'),
    "4MiB-chunked": Hostile(lambda: (b" " * 65536 for _ in range(64))),
    "invalid-utf8": Hostile(b'{"a": "caf\xe9", "b": "\xff\xfe"}'),
    "utf16-with-bom": Hostile('{"a": "b"}'.encode("utf-16")),
    "utf8-bom": Hostile(b'\xef\xbb\xbf{"a": "b"}'),
    "nul-raw": Hostile(b'{"a": "x\x00y"}'),
    "control-characters-escaped": Hostile(b'{"a": "\\u0000\\u001b[31m\\u202e\\u0007", "b": "\\r\\n\\t"}'),
    "lone-surrogate": Hostile(b'{"a": "\\ud800", "b": "\\udfff"}'),
    "huge-numbers": Hostile(b'{"a": 1e999, "b": -1e400, "c": 123456789012345678901234567890}'),
    "nan-infinity": Hostile(b'{"a": NaN, "b": Infinity}'),
    "duplicate-members": Hostile(b'{"right": "access", "right": "erasure", "granted": true, "granted": false}'),
    "top-level-scalars": Hostile(b'"just a string"'),
    "top-level-array": Hostile(b"[1, 2, 3]"),
    "null": Hostile(b"null"),
    "empty": Hostile(b""),
    "truncated": Hostile(b'{"granted": true, "text_version": "2026-'),
    "json-as-text-plain": Hostile(b'{"granted": true}', "text/plain"),
    "form-encoded": Hostile(b"granted=true&text_version=2026-01", "application/x-www-form-urlencoded"),
    "multipart": Hostile(
        b'--b\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--b--\r\n', "multipart/form-data; boundary=b"
    ),
    "json-declared-utf16": Hostile('{"a": "b"}'.encode("utf-16-le"), "application/json; charset=utf-16"),
    "xml": Hostile(
        b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><a>&x;</a>', "application/xml"
    ),
    "no-content-type": Hostile(b'{"a": 1}', None),
    "csv-with-formulas": Hostile(b'citizen_id,name\n=1+1,"=HYPERLINK(""http://evil"",""x"")"\n', "text/csv"),
    "csv-huge-cell": Hostile(b"citizen_id,name\nc-1," + b"x" * 200_000 + b"\n", "text/csv"),
    "csv-nul": Hostile(b"citizen_id,name\nc-1,a\x00b\n", "text/csv"),
}

PATH_VALUES: dict[str, str] = {
    "nul": "%00",
    "newline": "a%0Ab",
    "invalid-utf8": "%FF%FE",
    "overlong-utf8": "%C0%AE%C0%AE",
    "traversal": "..%2F..%2Fetc%2Fpasswd",
    "dot-dot": "..",
    "emoji": "%F0%9F%98%80",
    "rtl-override": "%E2%80%AEfdp.exe",
    "long": "a" * 2000,
    "space-and-quote": "a%20b%22'",
    "formula": "=HYPERLINK(%22http:%2F%2Fevil%22)",
}
HOSTILE_HEADERS: dict[str, str] = {
    "traceparent": "00-zz-\x01-" + "f" * 300,
    "Access-Purpose": "EXP-\x01\x7f" + "p" * 300,
    "Idempotency-Key": "k" * 300,
    "Accept": "application/problem+json;q=abc, */*;q=x",
    "X-Forwarded-For": "\x00, 999.999.999.999",
    "Accept-Language": "caf\xe9;q=2",
}
HOSTILE_QUERY = (
    "?limit=-1&limit=abc&cursor=%FF%FE&cursor=!!!&version=x&page=99999999999999999999999&%00=%00&q=%E2%80%AE"
)


def route_id(entry: tuple[str, Route]) -> str:
    capability, route = entry
    return f"{capability}:{route.method} {route.rule}"


def path_of(
    route: Route, value: Callable[[str], str] = lambda name: CITIZEN if name == "citizen_id" else "x-fuzz-1"
) -> str:
    """The route's path with every parameter filled by ``value(name)``."""
    path = route.openapi_path
    for name in path_parameters(route):
        path = path.replace("{" + name + "}", value(name))
    return path


def _send(platform: Platform, method: str, path: str, headers: dict[str, str], hostile: Hostile | None = None) -> None:
    all_headers = dict(headers)
    body: Any = None
    if hostile is not None:
        body = hostile.body() if callable(hostile.body) else hostile.body
        if hostile.content_type:
            all_headers["Content-Type"] = hostile.content_type
    all_headers.setdefault("Idempotency-Key", str(uuid.uuid4()))
    response = platform.http.request(method, platform.url(path), data=body, headers=all_headers, timeout=60)
    if path.startswith("/open311/") and not response.headers.get("Content-Type", "").startswith(PROBLEM):
        assert_no_server_error_and_open311_errors(response.status_code, response.text, f"{method} {path}")
        return
    assert_no_server_error_and_problems(
        response.status_code, response.headers.get("Content-Type", ""), response.text, f"{method} {path}"
    )


def _callers_for(route: Route, callers: dict[str, dict[str, str]]) -> list[dict[str, str]]:
    """The citizen reaches the kernel's body parsing on every route that declares a body (it comes before
    the policy); a route that reads its own body after the policy (bulk) is also tried as a system."""
    if route.request_model is None and route.method in ("POST", "PUT"):
        return [callers["citizen"], callers["system"]]
    return [callers["citizen"]]


@pytest.mark.parametrize("entry", ROUTES, ids=route_id)
def test_hostile_bodies_on_every_route_are_refused_as_problems(
    platform: Platform, callers: dict[str, dict[str, str]], entry: tuple[str, Route]
) -> None:
    _, route = entry
    for headers in _callers_for(route, callers):
        for name, hostile in BODIES.items():
            # GIVEN a hostile body WHEN it is sent to this route THEN no 5xx, refusals are problems
            try:
                _send(platform, route.method, path_of(route), headers, hostile)
            except requests.RequestException as exc:  # pragma: no cover - a hang or a reset is a failure too
                raise AssertionError(f"{name}: no answer: {exc}") from exc


@pytest.mark.parametrize("entry", ROUTES, ids=route_id)
def test_hostile_path_parameters_and_queries_on_every_route_are_refused_as_problems(
    platform: Platform, callers: dict[str, dict[str, str]], entry: tuple[str, Route]
) -> None:
    _, route = entry
    for value in PATH_VALUES.values() if path_parameters(route) else []:
        # GIVEN every path parameter replaced by a hostile value WHEN sent THEN no 5xx, refusals are problems
        _send(platform, route.method, path_of(route, lambda _name, v=value: v), callers["citizen"])
    for caller in ("citizen", "agent-with-purpose"):
        # GIVEN a hostile query string WHEN sent THEN the same
        _send(platform, route.method, path_of(route) + HOSTILE_QUERY, callers[caller])
    # GIVEN hostile headers (control characters, over-long purpose and key, broken trace context) THEN the same
    _send(platform, route.method, path_of(route), {**callers["agent-with-purpose"], **HOSTILE_HEADERS})
