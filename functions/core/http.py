"""HTTP entry points: routing, authentication, body parsing, idempotency and RFC 9457 errors, once.

A capability's ``main.py`` declares its ``Route``s and hands them to ``HttpFunction``; the same route
table feeds ``schemas/openapi.json``.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

import flask
import pydantic
from pydantic import BaseModel
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule

from functions.core import idempotency, jsontext, server_errors
from functions.core.auth import Subject, get_authenticator
from functions.core.errors import (
    PROBLEM_CONTENT_TYPE,
    MalformedRequestError,
    MethodNotAllowedError,
    NotFoundError,
    PayloadTooLargeError,
    PicError,
    UnsupportedMediaTypeError,
    ValidationError,
    pydantic_errors,
)
from functions.core.logging import bind_trace, get_logger
from functions.core.store import DuplicateError, UnitOfWork

MAX_BODY_BYTES = 64 * 1024
ANONYMOUS = Subject(id="anonymous", role="anonymous")


@dataclass
class Reply:
    """What a handler answers: a status and a JSON-able body."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class RequestContext:
    """Everything a handler may need from the request, already verified."""

    request: flask.Request
    subject: Subject
    traceparent: str
    route: Route
    idempotency_key: str | None = None
    request_hash: str = ""

    def header(self, name: str) -> str | None:
        return self.request.headers.get(name)

    def commit(self, uow: UnitOfWork, reply: Reply) -> Reply:
        """Commit the handler's work, with the Idempotency-Key record when the caller sent one."""
        if self.idempotency_key:
            idempotency.remember(uow, self.idempotency_key, self.request_hash, reply.status, reply.body)
        try:
            uow.commit()
        except DuplicateError:
            replay = idempotency.find_replay(self.idempotency_key or "", self.request_hash)
            if replay is None:  # pragma: no cover - the record existed a moment ago
                raise
            return Reply(replay.status, replay.body, {"Idempotent-Replayed": "true"})
        return reply


Handler = Callable[..., Reply]


@dataclass
class Route:
    """One operation of the channel API."""

    rule: str
    method: str
    handler: Handler
    summary: str
    request_model: type[BaseModel] | None = None
    response_model: type[BaseModel] | None = None
    status: int = 200
    idempotent_writes: bool = False
    public: bool = False
    max_body_bytes: int = MAX_BODY_BYTES
    # path parameters this operation's answer gives (name -> JSON pointer in its body): OpenAPI links
    links: dict[str, str] = field(default_factory=dict)

    @property
    def openapi_path(self) -> str:
        return self.rule.replace("<", "{").replace(">", "}")


def problem_response(error: PicError, instance: str | None = None) -> flask.Response:
    return flask.Response(
        json.dumps(error.to_problem(instance)),
        status=error.status,
        content_type=PROBLEM_CONTENT_TYPE,
        headers=error.headers,
    )


def json_response(reply: Reply) -> flask.Response:
    if reply.body is None:
        return flask.Response(status=reply.status, headers=reply.headers)
    if isinstance(reply.body, bytes):  # a file (e.g. an export zip): its Content-Type is in the headers
        return flask.Response(reply.body, status=reply.status, headers=reply.headers)
    body = reply.body.model_dump(mode="json") if isinstance(reply.body, BaseModel) else reply.body
    return flask.Response(
        json.dumps(body, default=str), status=reply.status, content_type="application/json", headers=reply.headers
    )


def parse_body(request: flask.Request, model: type[BaseModel]) -> BaseModel:
    """The body as ``model``: 415 if not JSON, 400 if not parseable, 422 naming each invalid field."""
    if request.mimetype != "application/json":
        raise UnsupportedMediaTypeError(f"send Content-Type: application/json, not {request.mimetype or 'nothing'}")
    if (request.content_length or 0) > MAX_BODY_BYTES:
        raise MalformedRequestError(f"the body is larger than {MAX_BODY_BYTES} bytes")
    payload = parse_json(request.get_data(cache=True))
    try:
        return model.model_validate(payload)
    except pydantic.ValidationError as exc:
        raise ValidationError("the body does not match the schema", errors=pydantic_errors(exc)) from exc


def parse_json(raw: bytes) -> Any:
    """A JSON body read the one way (``functions.core.jsontext``: UTF-8, depth, I-JSON), or a 400 problem."""
    try:
        return jsontext.loads(raw)
    except jsontext.JsonTextError as exc:
        raise MalformedRequestError(f"the body is not valid JSON: {exc}") from exc


class BodyLimit:
    """WSGI middleware: no body larger than ``limit`` reaches the app, announced (Content-Length) or not
    (chunked): refused with a 413 problem, never held in memory whole.

    Below the framework on purpose: functions-framework reads every request body to its end after the
    answer, so a limit checked inside the app would come too late for the memory, and a chunked body has
    no length to check. A chunked body within the limit is handed on with its Content-Length.

    Only on the app of the HTTP entry point (``target``): a capability's module also builds its event
    function, whose bodies are the broker's (bounded at its ingress) and may be larger (an RGPD export).
    """

    def __init__(self, app: Callable[..., Iterable[bytes]], limit: int, target: str) -> None:
        self.app = app
        self.limit = limit
        self.target = target
        self._http: bool | None = None

    def _serves_http(self) -> bool:
        """Whether the app serves an ``@functions_framework.http`` entry point (each decorator registers its
        function's signature type; all are registered by the time a request arrives)."""
        if self._http is None:
            from functions_framework import _function_registry

            kind = _function_registry.REGISTRY_MAP.get(self.target)
            self._http = kind == _function_registry.HTTP_SIGNATURE_TYPE
        return self._http

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if not self._serves_http():
            return self.app(environ, start_response)
        declared = environ.get("CONTENT_LENGTH") or ""
        if declared:
            if not declared.isdigit():
                return self._refuse(MalformedRequestError("Content-Length is not a number"), environ, start_response)
            if int(declared) > self.limit:
                if int(declared) <= DISCARD_BYTES:
                    _discard(environ["wsgi.input"])
                return self._refuse(self._too_large(), environ, start_response)
        elif environ.get("wsgi.input_terminated"):
            body = environ["wsgi.input"].read(self.limit + 1)
            if len(body) > self.limit:
                _discard(environ["wsgi.input"])
                return self._refuse(self._too_large(), environ, start_response)
            environ["wsgi.input"], environ["CONTENT_LENGTH"] = io.BytesIO(body), str(len(body))
        return self.app(environ, start_response)

    def _too_large(self) -> PicError:
        return PayloadTooLargeError(f"the body is larger than {self.limit} bytes")

    @staticmethod
    def _refuse(error: PicError, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        body = json.dumps(error.to_problem(environ.get("PATH_INFO"))).encode()
        headers = [("Content-Type", PROBLEM_CONTENT_TYPE), ("Content-Length", str(len(body)))]
        start_response(f"{error.status} {HTTPStatus(error.status).phrase}", [*headers, *error.headers.items()])
        return [body]


# A refused body is read to its end (and thrown away) up to this much, so that the connection can serve the
# client's next request: gunicorn drains at most 64 KiB of an unread body and otherwise drops a connection
# the client believes is still open (its next request fails without an answer). Beyond this, dropped.
DISCARD_BYTES = 16 * 1024 * 1024


def _discard(stream: Any) -> None:
    left = DISCARD_BYTES
    while left > 0 and (chunk := stream.read(min(64 * 1024, left))):
        left -= len(chunk)


def install_body_limit(limit: int) -> None:
    """Put ``BodyLimit`` in front of the hosting app (no-op outside an app context, e.g. unit tests)."""
    if flask.has_app_context():
        app = flask.current_app  # functions-framework names the app after its target (the entry point)
        app.wsgi_app = BodyLimit(app.wsgi_app, limit, app.name)  # type: ignore[method-assign]


def install_problem_handlers() -> None:
    """Make the hosting Flask app answer its own errors as problems too (e.g. a path its router refuses).

    functions-framework imports the function's module inside the app context, so the app is at hand;
    outside it (unit tests) there is nothing to install. The server's own refusals (gunicorn's 400, 414,
    431) become problems too (``functions.core.server_errors``).
    """
    server_errors.install()
    if not flask.has_app_context():
        return
    app = flask.current_app

    def as_problem(error: HTTPException) -> Any:
        if error.response is not None:  # already an answer (e.g. a broker answer): keep it
            return error.response
        code = error.code or 500
        problem = PicError(error.description or error.name)
        problem.status, problem.slug, problem.title = code, _FRAMEWORK_SLUGS.get(code, "http-error"), error.name
        return problem_response(problem, flask.request.path)

    app.register_error_handler(HTTPException, as_problem)


_FRAMEWORK_SLUGS = {400: "malformed-request", 404: "not-found", 405: "method-not-allowed", 413: "malformed-request"}


class HttpFunction:
    """The callable behind ``@functions_framework.http``: one per capability's channel API."""

    def __init__(self, name: str, routes: list[Route]) -> None:
        install_problem_handlers()
        install_body_limit(max(route.max_body_bytes for route in routes))
        self.name = name
        self.routes = routes
        self._map = Map(
            [Rule(r.rule, methods=[r.method], endpoint=i) for i, r in enumerate(routes)], strict_slashes=False
        )

    def __call__(self, request: flask.Request) -> flask.Response:
        traceparent = bind_trace(request.headers.get("traceparent"))
        try:
            response = self._dispatch(request, traceparent)
        except PicError as error:
            get_logger().info("request refused", extra={"status": error.status, "problem": error.slug})
            response = problem_response(error, request.path)
        except Exception:
            get_logger().exception("unhandled error")
            response = problem_response(PicError("an unexpected error; it was logged"), request.path)
        response.headers["traceparent"] = traceparent
        return response

    def _dispatch(self, request: flask.Request, traceparent: str) -> flask.Response:
        adapter = self._map.bind_to_environ(request.environ)
        try:
            endpoint, params = adapter.match(request.path, method=request.method)
        except MethodNotAllowed as exc:
            allowed = ", ".join(sorted(exc.valid_methods or []))
            raise MethodNotAllowedError(
                f"{request.method} is not allowed on {request.path}; allowed: {allowed}", headers={"Allow": allowed}
            ) from exc
        except NotFound as exc:
            raise NotFoundError(f"no route {request.path}") from exc
        route = self.routes[int(endpoint)]
        subject = ANONYMOUS if route.public else get_authenticator().verify(request.headers.get("Authorization"))
        ctx = RequestContext(request=request, subject=subject, traceparent=traceparent, route=route)
        body = parse_body(request, route.request_model) if route.request_model else None
        key = request.headers.get("Idempotency-Key")
        if key is not None and route.idempotent_writes:
            ctx.idempotency_key = idempotency.http_key(self.name, subject.id, key, request.method, request.path)
            ctx.request_hash = idempotency.body_hash(request.get_data(cache=True))
            replay = idempotency.find_replay(ctx.idempotency_key, ctx.request_hash)
            if replay is not None:
                return json_response(Reply(replay.status, replay.body, {"Idempotent-Replayed": "true"}))
        args = {"body": body} if route.request_model else {}
        return json_response(route.handler(ctx, **args, **params))
