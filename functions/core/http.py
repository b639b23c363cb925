"""HTTP entry points: routing, authentication, authorisation, the access log, body parsing, idempotency and
RFC 9457 errors, once.

A capability's ``main.py`` declares its ``Route``s and hands them to ``HttpFunction``; the same route table
feeds ``schemas/openapi.json``. Every route names its ``policies/authz`` action and the personal data it
shows (``Reads``); the kernel decides before the handler runs (before the body is even parsed, so a caller
who may not act learns nothing from validation), shapes the answer to the caller's view and records the
read in the access log before the data leaves (RGPD arts. 5.1.b, 5.1.c, 5.2 and 15.1.c). A handler never
authorises by itself: a new route cannot forget to.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, TypeVar

import flask
import pydantic
from pydantic import BaseModel
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule

from events.consent import ID_PATTERN
from functions.core import audit, flags, idempotency, jsontext, quota, server_errors, timing
from functions.core.auth import Subject, get_authenticator
from functions.core.errors import (
    PROBLEM_CONTENT_TYPE,
    ForbiddenError,
    MalformedRequestError,
    MethodNotAllowedError,
    NotFoundError,
    PayloadTooLargeError,
    PicError,
    UnauthenticatedError,
    UnsupportedMediaTypeError,
    ValidationError,
    pydantic_errors,
)
from functions.core.flags import CitizenContext
from functions.core.logging import bind_trace, get_logger
from functions.core.policy import Decision, Policy, get_policy
from functions.core.retry import ATTEMPTS, retry_on_conflict
from functions.core.settings import get_settings
from functions.core.store import DuplicateError, Staged, UnitOfWork

T = TypeVar("T")
Q = TypeVar("Q", bound=BaseModel)
MAX_BODY_BYTES = 64 * 1024
ANONYMOUS = Subject(id="anonymous", role="anonymous")
UNKNOWN_CITIZEN = "(unknown)"  # who a route acts on when the resource it names does not exist
# Placeholders such as UNKNOWN_CITIZEN are in parentheses: no citizen id (nor source#local_id) starts so.
SUMMARY, HIDDEN = "summary", "hidden"


@dataclass
class Reply:
    """What a handler answers: a status and a JSON-able body."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Reads:
    """The personal data a route shows, declared once with the route.

    ``resource`` names it in the access log, ``sections`` say what is shown; ``summary`` turns the full
    body into what an agent whose view is ``summary`` may see (``policies/authz`` decides the view from the
    agent's level and area). A route without a summary shows nothing to such an agent (403). ``view`` fixes
    the view recorded for a route whose answer is the same to every caller it lets through.
    """

    resource: str
    sections: tuple[str, ...]
    summary: Callable[[Any], Any] | None = None
    # the view the answer always is, whatever the policy's (a search answers a few identifying attributes
    # per person: ``summary``); None: the view the policy decided for the caller
    view: str | None = None


@dataclass
class RequestContext:
    """Everything a handler may need from the request, already verified and authorised."""

    request: flask.Request
    subject: Subject
    traceparent: str
    route: Route
    function: str = ""
    purpose: str | None = None
    citizen_id: str | None = None
    decision: Decision | None = None
    resource: Any = None  # what the route's citizen resolver loaded (the handler may use it)
    idempotency_key: str | None = None
    request_hash: str = ""
    # What the handler says it disclosed, where the route's declaration cannot know it in advance (the
    # position's sections as the policy shaped them; a review page's people): recorded by the kernel.
    shown_sections: list[str] | None = None
    shown_citizens: list[str] | None = None

    def header(self, name: str) -> str | None:
        return self.request.headers.get(name)

    @property
    def on_behalf(self) -> bool:
        """An agent acts for the citizen (``policies/authz``): changes record the agent and the purpose."""
        return bool(self.decision and self.decision.result.get("on_behalf"))

    @property
    def view(self) -> str:
        """How much of the citizen's data the caller sees: full, detail, summary or hidden."""
        return str(self.decision.result.get("view", "full")) if self.decision else "full"

    def run(self, step: Callable[[], Staged[T]], reply: Callable[[T], Reply], *, attempts: int = ATTEMPTS) -> Reply:
        """Run a use case: ``step`` decides and stages (a handler), the kernel commits its unit with the
        Idempotency-Key record, and a commit that lost a race runs ``step`` again on what the winner wrote."""

        def attempt() -> Reply:
            staged = step()
            return self.commit(staged.unit, reply(staged.result))

        return retry_on_conflict(attempt, attempts=attempts, what=f"{self.route.method} {self.route.rule}")

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
CitizenResolver = Callable[[RequestContext, dict[str, str]], str]


@dataclass(frozen=True)
class Several:
    """The ``citizen`` of a route whose answer names several people its handler finds (the clerical review
    queue, a search of citizens), the one way to declare such a route.

    The policy is asked about ``label``, a placeholder in parentheses that no citizen id can be: an agent must
    still state a purpose and a citizen is refused, while no one's access log records the refusal (nobody
    was named). The handler lists in ``ctx.shown_citizens`` the people its answer shows, and the kernel
    records one access per person (``reads``) before the answer leaves; none when it shows nobody.
    """

    label: str

    def __post_init__(self) -> None:
        if not (self.label.startswith("(") and self.label.endswith(")")):
            raise ValueError(f"{self.label!r}: a placeholder is in parentheses, as no citizen id is")

    def __call__(self, ctx: RequestContext, params: dict[str, str]) -> str:
        return self.label


@dataclass
class Route:
    """One operation of the channel API.

    ``action`` is the ``policies/authz`` action the kernel decides before the handler runs (every route but
    a public one has one); ``reads`` the personal data it shows (recorded in the access log); ``citizen``
    finds whose data a route acts on when its path names another resource (a request, an interaction):
    it returns the citizen id ("" when the resource concerns no citizen), or raises the domain's
    ``NotFoundError`` — told only to callers the policy lets look (a citizen gets a 403: no oracle of other
    people's ids), or is ``Several(label)`` when the answer names several people its handler finds. A route
    whose path has ``<citizen_id>`` acts on that citizen; one with neither is a platform action.
    """

    rule: str
    method: str
    handler: Handler
    summary: str
    request_model: type[BaseModel] | None = None
    response_model: type[BaseModel] | None = None
    status: int = 200
    idempotent_writes: bool = False
    public: bool = False
    action: str | None = None
    reads: Reads | None = None
    citizen: CitizenResolver | None = None
    max_body_bytes: int = MAX_BODY_BYTES
    # path parameters this operation's answer gives (name -> JSON pointer in its body): OpenAPI links
    links: dict[str, str] = field(default_factory=dict)
    # the micro-app the route belongs to (functions/core/flags.py): switched off for the citizen calling, the
    # route answers 404 micro-app-off naming it, decided after authorisation and before the body is parsed.
    # Agents and internal systems are other channels (the desk, back-offices): a micro-app does not switch them
    app: str | None = None
    # self-service anyone may use without signing in (the assistant's general questions): a request without an
    # Authorization header is the ``anonymous`` subject, still decided by policy (policies/authz lets it do only
    # the actions that list it, on no citizen's record); a request with one is verified as on any route
    anonymous: bool = False
    # how this route answers a refusal, when its API is not PIC's own (an Open311 GeoReport v2 route answers the
    # spec's list of ``{code, description}`` in JSON or XML): a PicError becomes its response; None: problem+json
    problem_body: Callable[[PicError], flask.Response] | None = None

    def __post_init__(self) -> None:
        if not self.public and not self.action:
            raise ValueError(f"{self.method} {self.rule}: a route that is not public must name its policy action")

    @property
    def openapi_path(self) -> str:
        return self.rule.replace("<", "{").replace(">", "}")

    @property
    def names_citizen(self) -> bool:
        """Whether the route acts on one citizen's data (in its path, or found by its resolver)."""
        return "<citizen_id>" in self.rule or self.citizen is not None

    @property
    def names_several(self) -> bool:
        """Whether the route's answer names several people its handler finds (``Several``)."""
        return isinstance(self.citizen, Several)


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


def parse_body(request: flask.Request, model: type[BaseModel], limit: int = MAX_BODY_BYTES) -> BaseModel:
    """The body as ``model``: 415 if not JSON, 400 if not parseable or over the route's ``limit`` (its
    ``max_body_bytes``; ``BodyLimit`` refuses earlier what is over the function's largest), 422 naming each
    invalid field."""
    if request.mimetype != "application/json":
        raise UnsupportedMediaTypeError(f"send Content-Type: application/json, not {request.mimetype or 'nothing'}")
    if (request.content_length or 0) > limit:
        raise MalformedRequestError(f"the body is larger than {limit} bytes")
    payload = parse_json(request.get_data(cache=True))
    try:
        return model.model_validate(payload)
    except pydantic.ValidationError as exc:
        raise ValidationError("the body does not match the schema", errors=pydantic_errors(exc)) from exc


def parse_query(request: flask.Request, model: type[Q]) -> Q:
    """The query string as ``model`` (each parameter once; a repeated one is its first value): 422 naming each
    invalid or unknown parameter, so a typo is told rather than ignored."""
    try:
        return model.model_validate(request.args.to_dict(flat=True))
    except pydantic.ValidationError as exc:
        raise ValidationError("the query parameters are not valid", errors=pydantic_errors(exc)) from exc


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


def _refusal(route: Route | None, error: PicError, instance: str) -> flask.Response:
    """A refusal in the route's own error format (``Route.problem_body``), else RFC 9457 problem+json."""
    if route is not None and route.problem_body is not None:
        return route.problem_body(error)
    return problem_response(error, instance)


_FRAMEWORK_SLUGS = {400: "malformed-request", 404: "not-found", 405: "method-not-allowed", 413: "malformed-request"}


class HttpFunction:
    """The callable behind ``@functions_framework.http``: one per capability's channel API."""

    def __init__(self, name: str, routes: list[Route], policy: Callable[[], Policy] = get_policy) -> None:
        install_problem_handlers()
        install_body_limit(max(route.max_body_bytes for route in routes))
        self.name = name
        self.routes = routes
        self._policy = policy
        self._map = Map(
            [Rule(r.rule, methods=[r.method], endpoint=i) for i, r in enumerate(routes)], strict_slashes=False
        )

    def __call__(self, request: flask.Request) -> flask.Response:
        traceparent = bind_trace(request.headers.get("traceparent"))
        measured = timing.start() if get_settings().server_timing else None
        route: Route | None = None
        try:
            route, params = self._match(request)
            response = self._dispatch(request, traceparent, route, params)
        except PicError as error:
            get_logger().info("request refused", extra={"status": error.status, "problem": error.slug})
            response = _refusal(route, error, request.path)
        except Exception:
            get_logger().exception("unhandled error")
            response = _refusal(route, PicError("an unexpected error; it was logged"), request.path)
        response.headers["traceparent"] = traceparent
        if measured is not None:
            response.headers[timing.HEADER] = measured.header()
            timing.stop()
        return response

    def _match(self, request: flask.Request) -> tuple[Route, dict[str, str]]:
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
        return self.routes[int(endpoint)], dict(params)

    def _dispatch(
        self, request: flask.Request, traceparent: str, route: Route, params: dict[str, str]
    ) -> flask.Response:
        check_path_parameters(params)
        ctx = RequestContext(
            request=request, subject=ANONYMOUS, traceparent=traceparent, route=route, function=self.name
        )
        if not route.public:
            ctx.purpose = audit.access_purpose(ctx)
            with timing.phase("authn"):
                authorization = request.headers.get("Authorization")
                if route.anonymous and authorization is None:
                    ctx.subject = ANONYMOUS
                else:
                    ctx.subject = get_authenticator().verify(authorization)
            admitted = self._admit(ctx.subject) if ctx.subject.client_id is not None else None
            with timing.phase("authz"):
                self._authorize(ctx, params)
        else:
            admitted = None
        if route.app is not None and ctx.subject.role == "citizen":  # the citizen's own channel, not the desk
            flags.require_app(route.app, CitizenContext(ctx.subject.id))
        body = parse_body(request, route.request_model, route.max_body_bytes) if route.request_model else None
        key = request.headers.get("Idempotency-Key")
        if key is not None and route.idempotent_writes:
            ctx.idempotency_key = idempotency.http_key(self.name, ctx.subject.id, key, request.method, request.path)
            ctx.request_hash = idempotency.body_hash(request.get_data(cache=True))
            replay = idempotency.find_replay(ctx.idempotency_key, ctx.request_hash)
            if replay is not None:
                reply = Reply(replay.status, replay.body, {"Idempotent-Replayed": "true"})
                return json_response(disclose(ctx, reply))
        args = {"body": body} if route.request_model else {}
        try:
            with timing.phase("handler"):
                reply = route.handler(ctx, **args, **params)
        except ForbiddenError as refused:  # a finer policy of the route's own (e.g. the position's) said no
            if route.reads is not None and ctx.citizen_id is not None:
                reasons = refused.extra.get("reasons") or [refused.detail]
                record_access(ctx, [ctx.citizen_id], [], allowed=False, reasons=reasons)
            raise
        response = json_response(disclose(ctx, reply))
        if admitted is not None:
            response.headers.update(admitted.headers())
        return response

    @staticmethod
    def _admit(subject: Subject) -> quota.Admitted:
        """An internal system's client: one request of its quota (429 over it), counted across every process by
        one conditional write (``functions.core.quota``, ADR 0035); a client no longer registered is refused."""
        assert subject.client_id is not None
        with timing.phase("quota"):
            counter = quota.counter()
            consumer = counter.consumer(subject.client_id)
            if consumer is None:
                raise UnauthenticatedError(f"client {subject.client_id} is not a registered consumer of the API")
            return counter.admit(consumer)

    def _authorize(self, ctx: RequestContext, params: dict[str, str]) -> None:
        """``policies/authz`` for the route's action on the citizen it names, before anything else runs.

        A refused read of a citizen's data is recorded in their access log (with the reasons); so is a read
        whose view leaves nothing to show. A resource that does not exist is a 404 only to callers the policy
        lets look (the decision is asked for an unknown citizen first).
        """
        route = ctx.route
        assert route.action is not None
        citizen: str | None = params.get("citizen_id")
        missing: NotFoundError | None = None
        if route.citizen is not None:
            try:
                citizen = route.citizen(ctx, params)
            except NotFoundError as error:  # told only to those the policy lets look
                missing = error
        named = citizen if citizen is not None else (UNKNOWN_CITIZEN if route.names_citizen else "")
        question = {
            "subject": ctx.subject.as_policy_input(),
            "action": route.action,
            "purpose": ctx.purpose,
            "resource": {"citizen_id": named},
        }
        decision = self._policy().decide("authz", question)
        refusal = None if decision.allow else "; ".join(decision.reasons) or f"{route.action} is not allowed"
        person = citizen if is_person(citizen) else None
        if refusal is None and route.reads is not None and person is not None:
            view = str(decision.result.get("view", "full"))
            if view == HIDDEN or (view == SUMMARY and route.reads.summary is None):
                reason = f"{route.reads.resource} has nothing to show in the {view} view your level and area allow"
                refusal, decision = reason, Decision(False, [*decision.reasons, reason], decision.result)
        if refusal is not None:
            if ctx.subject.client_id is not None:  # a consumer's refusal, in its usage (403: a scope or the policy)
                quota.counter().record(ctx.subject.client_id, "forbidden")
            if route.reads is not None and person is not None:
                record_access(ctx, [person], [], allowed=False, reasons=decision.reasons)
            raise ForbiddenError(refusal, reasons=decision.reasons)
        if missing is not None:
            raise missing
        ctx.citizen_id, ctx.decision = person, decision


def is_person(citizen: str | None) -> bool:
    """A citizen id or an unlinked source record, not a placeholder such as ``(unknown)``."""
    return bool(citizen) and not str(citizen).startswith("(")


MAX_PATH_PARAMETER = 200  # characters: every PIC id fits, and no store key limit (1,024 bytes) is reached


def check_path_parameters(params: dict[str, str]) -> None:
    """Path parameters are ids: printable and short, before any reaches a store key or a policy input (a
    10,000-character id is a 422, not the store's refusal); a citizen id must be one a citizen can have (it
    becomes a policy input and an event subject)."""
    for name, value in params.items():
        if len(value) > MAX_PATH_PARAMETER or not value.isprintable():
            raise ValidationError(
                f"{name} is not an id: at most {MAX_PATH_PARAMETER} printable characters",
                errors=[{"field": name, "message": "not an id"}],
            )
    citizen_id = params.get("citizen_id")
    if citizen_id is not None and not re.match(ID_PATTERN, citizen_id):
        raise ValidationError(
            f"{citizen_id!r} is not a citizen id", errors=[{"field": "citizen_id", "message": "not a citizen id"}]
        )


def disclose(ctx: RequestContext, reply: Reply) -> Reply:
    """The reply as the caller's view allows, its read recorded in the access log before it leaves."""
    reads = ctx.route.reads
    citizens = ctx.shown_citizens if ctx.shown_citizens is not None else [c for c in [ctx.citizen_id] if c]
    if reads is None or not 200 <= reply.status < 300 or reply.body is None or not citizens:
        return reply
    view = reads.view or ctx.view
    if view == SUMMARY and reads.summary is not None:
        body = reply.body.model_dump(mode="json") if isinstance(reply.body, BaseModel) else reply.body
        reply = Reply(reply.status, reads.summary(body), reply.headers)
    sections = ctx.shown_sections if ctx.shown_sections is not None else [f"{s}:{view}" for s in reads.sections]
    reasons = ctx.decision.reasons if ctx.decision else []
    record_access(ctx, citizens, sections, allowed=True, reasons=reasons)
    return reply


def record_access(
    ctx: RequestContext, citizens: list[str], sections: list[str], *, allowed: bool, reasons: list[str]
) -> None:
    """One access record per citizen whose data the reply shows (or whose read was refused), committed
    before the answer leaves: if it cannot be written, the data is not shown (RGPD art. 5.2)."""
    assert ctx.route.reads is not None
    records = [
        audit.access_record(
            ctx.subject,
            citizen,
            ctx.route.reads.resource,
            function=ctx.function,
            purpose=ctx.purpose,
            sections=sections,
            allowed=allowed,
            reasons=reasons,
        )
        for citizen in citizens
    ]
    with timing.phase("access"):
        audit.append(records)
