"""The gateway: one WSGI app behind one port, served by gunicorn (``make run``).

- ``/v1/...`` and ``/app/...``: the channel API of every HTTP function and the citizen app (``pic-web``),
  routed by the cluster's own HTTPRoutes (generated in
  ``infra/k8s/base/routes`` from each Knative Service's ``pic.madrid.es/routes`` annotation; read by
  ``local.httproutes``), the function loaded with ``functions_framework.create_app`` exactly as in its
  container;
- ``/_ksvc/<service>/``: the event functions, as the broker's subscribers, served only to the broker's
  dispatcher (its delivery token), as NetworkPolicy ``allow-broker-to-event-functions`` does in the cluster;
- ``POST /events``: the broker ingress (binary and structured CloudEvents, 202), for authenticated senders
  the EventPolicies admit (``local.senders``), within the ingress limits (``local.broker``);
- ``POST /v1/data/<path>``: OPA's Data API over the embedded engine (for the REST policy adapter);
- ``/.well-known/jwks.json``, ``POST /dev/token``, ``POST /dev/sender-token``: the dev identity provider;
  ``/.well-known/openid-configuration``, ``/authorize`` (its sign-in page, standing in for Cl@ve) and
  ``POST /token``: its OpenID Connect provider for the citizen app (code flow with PKCE);
- ``/dev/deadletters`` (+ ``POST /dev/deadletters/<id>/replay``), ``/dev/events``, ``/dev/pending`` (what is
  still to be delivered or published), ``/dev/seed`` (+ ``POST /dev/seed/person``, ``local.seed_api``);
  ``/dev/redsys/`` (the local Redsys: its payment page and merchant notifications, ``local.redsys_sandbox``);
  ``/dev/wallet/`` (a person's wallet app: accepts a card offer and presents a card over the public OpenID4VCI and
  OpenID4VP endpoints, ``local.holder_stand_in``);
  ``GET /healthz``.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus, urlencode

import boto3
import pydantic
from botocore.config import Config as BotoConfig
from functions_framework import create_app
from werkzeug.wrappers import Request, Response

from events.catalog import BROKER_AUDIENCE, DEADLETTER_REPLAY
from functions.core.errors import (
    PROBLEM_CONTENT_TYPE,
    ForbiddenError,
    InvalidEventError,
    MalformedRequestError,
    NotFoundError,
    PayloadTooLargeError,
    PicError,
    ValidationError,
    pydantic_errors,
)
from functions.core.http import parse_json
from functions.core.outbox import pending_events
from functions.core.policy import EmbeddedPolicy, PolicyBundle
from functions.core.settings import REPO_ROOT, get_settings
from functions.payment.redsys import Merchant
from local import lifeline
from local.broker import (
    INGRESS_BROKER,
    MAX_EVENT_BYTES,
    BrokerStore,
    InvalidCloudEventError,
    MalformedCloudEventError,
    parse_event,
)
from local.holder_stand_in import HolderStandIn
from local.httproutes import HttpRouteTable
from local.httproutes import load as load_routes
from local.idp import (
    ClientCredentials,
    ClientSecretRequest,
    DevIdp,
    DevOidc,
    OidcClientRegistration,
    OidcError,
    SenderTokenRequest,
    SignInChoice,
    TokenRequest,
    sign_in_page,
)
from local.jsonreply import as_json
from local.manifests import FunctionService, Manifests, load
from local.notify_sinks import ProviderSinks  # NOT: local e-mail/SMS/push sinks
from local.postgres import status as cdc_status
from local.redsys_sandbox import RedsysSandbox
from local.seed_api import SeedApi
from local.senders import (
    DISPATCHER_NAMESPACE_PREFIX,
    SenderPolicies,
    TokenVerifier,
    authorize_scopes,
    subscriber_audience,
)

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
HEARTBEAT_STALE_SECONDS = 5.0
DISCARD_LIMIT = 16 * 1024 * 1024  # a body over the ingress limit is read and dropped up to this, then cut off
PROCESS_PARTS = ("supervisor", "gateway", "dynamodb", "broker", "relay", "notification-release", "case-sweep",
                 "routing-sweep", "survey-release", "campaign-dispatch", "booking-sweep", "intake-inbox",
                 "lake-flusher")  # fmt: skip


def problem(error: PicError, instance: str | None = None) -> Response:
    """The same problem documents as the functions answer (one mapping: ``functions.core.errors``)."""
    return Response(
        json.dumps(error.to_problem(instance)),
        status=error.status,
        content_type=PROBLEM_CONTENT_TYPE,
        headers=error.headers,
    )


def _discard(request: Request, limit: int = DISCARD_LIMIT) -> None:
    """Read and drop what is left of a refused body, up to ``limit`` bytes (beyond, the connection closes)."""
    left = limit
    while left > 0 and (chunk := request.stream.read(min(64 * 1024, left))):
        left -= len(chunk)


def query_limit(request: Request, default: int, most: int) -> int:
    """``?limit=`` as a number of rows: a 400 problem if it is not one."""
    raw = request.args.get("limit", str(default))
    if not raw.isdigit():
        raise MalformedRequestError(f"limit must be a whole number, not {raw[:32]!r}")
    return min(int(raw), most)


class Gateway:
    def __init__(self, manifests: Manifests, routes: HttpRouteTable, data_dir: Path, base_url: str) -> None:
        drift = routes.drift({s.name: s.routes for s in manifests.services.values() if s.routes})
        if drift:  # the routes the cluster gets are the ones make run serves, or make run does not start
            raise ValueError("infra/k8s/base/routes is stale, run `make manifests`:\n  " + "\n  ".join(drift))
        settings = get_settings()
        self.manifests = manifests
        self.data_dir = data_dir
        self.broker = BrokerStore(data_dir / "broker.sqlite")
        self.idp = DevIdp(data_dir, issuer=settings.jwt_issuer, audience=settings.jwt_audience)
        self.verifier = TokenVerifier(self.idp.public_key(), settings.jwt_issuer)
        self.oidc = DevOidc(
            self.idp,
            data_dir,
            OidcClientRegistration(settings.oidc_client_id, settings.oidc_client_secret, settings.oidc_redirect_uri),
        )
        self.clients = ClientCredentials(self.idp, data_dir)  # the internal systems' clients (ADR 0035)
        self.senders = SenderPolicies.of(INGRESS_BROKER, manifests.event_policies)
        self.policy = EmbeddedPolicy(PolicyBundle.load(settings.policies_dir))
        self.notify_sinks = ProviderSinks(data_dir)  # NOT: /dev/mail, /dev/sms, /dev/push
        self.seed = SeedApi(data_dir, base_url, self.broker.pending_deliveries)  # /dev/seed, /dev/seed/person
        # PAY: the local Redsys under /dev/redsys/, on the terminal the payment function signs for
        terminal = Merchant(settings.redsys_merchant_code, settings.redsys_terminal, settings.redsys_key, "")
        self.redsys = RedsysSandbox(data_dir, terminal)
        self.holder = HolderStandIn(data_dir)  # WAL: a person's wallet app under /dev/wallet, for the walk-through
        self._dynamodb = boto3.client(
            "dynamodb",
            endpoint_url=settings.dynamodb_endpoint,
            region_name=settings.aws_region,
            config=BotoConfig(connect_timeout=2, read_timeout=3, retries={"total_max_attempts": 1}),
        )
        self.routes = routes
        self.apps: dict[str, WsgiApp] = {service.name: self._load(service) for service in manifests.services.values()}

    @staticmethod
    def _load(service: FunctionService) -> WsgiApp:
        source = str(REPO_ROOT / service.source)
        app: WsgiApp = create_app(service.target, source, service.signature).wsgi_app
        return app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "/")
        if path.startswith("/_ksvc/"):
            return self._to_service(environ, start_response, path)
        if not path.startswith("/v1/data/"):  # the API's paths and the channels' trees (/app/...)
            service = self.routes.match(path)
            if service:
                return self.apps[service](environ, start_response)
        response = self._own(Request(environ))
        return response(environ, start_response)

    def _to_service(self, environ: dict[str, Any], start_response: Callable[..., Any], path: str) -> Iterable[bytes]:
        _, _, name, *rest = path.split("/", 3)
        app = self.apps.get(name)
        if app is None:
            return problem(NotFoundError(f"no Knative Service {name!r}"), path)(environ, start_response)
        try:
            self._only_the_dispatcher(environ.get("HTTP_AUTHORIZATION"), name)
        except PicError as refused:
            return problem(refused, path)(environ, start_response)
        environ["PATH_INFO"] = "/" + (rest[0] if rest else "")
        return app(environ, start_response)

    def _only_the_dispatcher(self, authorization: str | None, service: str) -> None:
        """Event functions take deliveries from the broker's dispatcher only (Knative Eventing's namespace, as
        the cluster's NetworkPolicy admits): its token for this function, or 401/403."""
        subject = self.verifier.subject(authorization, subscriber_audience(service))
        if not subject.startswith(DISPATCHER_NAMESPACE_PREFIX):
            raise ForbiddenError(f"{service} takes events from the broker only, not from {subject}: POST /events")

    def _own(self, request: Request) -> Response:
        handlers: dict[tuple[str, str], Callable[[Request], Response]] = {
            ("GET", "/healthz"): self.healthz,
            ("POST", "/events"): self.ingress,
            ("GET", "/.well-known/jwks.json"): lambda r: as_json(self.idp.jwks()),
            ("GET", "/.well-known/openid-configuration"): lambda r: as_json(self.oidc.discovery()),
            ("GET", "/authorize"): self.authorize,
            ("POST", "/authorize"): self.authorize,
            ("POST", "/token"): self.oidc_token,
            ("POST", "/dev/token"): self.token,
            ("POST", "/dev/sender-token"): self.sender_token,
            ("POST", "/dev/client-secret"): self.client_secret,
            ("GET", "/dev/deadletters"): lambda r: as_json({"deadletters": self.broker.deadletters()}),
            ("GET", "/dev/events"): self.events,
            ("GET", "/dev/routes"): lambda r: as_json({"routes": self.routes.patterns()}),
            ("GET", "/dev/received"): self.received,
            ("GET", "/dev/pending"): self.pending,
            ("GET", "/dev/cdc"): lambda r: as_json(cdc_status(self.data_dir)),  # INTG: Licencias' capture
            **self.notify_sinks.handlers(),  # NOT: /dev/mail, /dev/sms, /dev/push and the provider endpoints
            **self.seed.handlers(),  # the seed's state and a fresh person for a walk-through
            **self.redsys.handlers(),  # the local Redsys: its payment page and merchant notifications
            **self.holder.handlers(),  # a wallet app's stand-in: accept a card offer, present a card
        }
        try:
            handler = handlers.get((request.method, request.path.rstrip("/") or "/"))
            if handler:
                return handler(request)
            replay = re.match(r"^/dev/deadletters/(\d+)/replay$", request.path)
            if replay and request.method == "POST":
                return self.replay(request, int(replay.group(1)))
            if request.path.startswith("/v1/data/") and request.method == "POST":
                return self.opa_data(request)
        except PicError as error:
            return problem(error, request.path)
        return problem(NotFoundError(f"no route {request.method} {request.path}"), request.path)

    def healthz(self, request: Request) -> Response:
        """Ready only while every part is: checked on each request, so a dead part is a 503 at once.

        A part's process must run (``local.lifeline``: the registry the supervisor writes, read from
        ``/proc``); DynamoDB must also answer; the broker and the relay must also have made a pass lately
        (a part that runs but hangs).
        """
        processes = lifeline.parts_alive(self.data_dir)
        beats = self.broker.heartbeats()
        now = time.time()
        parts = {name: processes.get(name, False) for name in PROCESS_PARTS}
        parts["dynamodb"] = parts["dynamodb"] and self._dynamodb_answers()
        for name in ("broker", "relay"):
            parts[name] = parts[name] and now - beats.get(name, 0) < HEARTBEAT_STALE_SECONDS
        parts.update(functions=bool(self.apps), policies=bool(self.policy.bundle.packages))
        ready = all(parts.values())
        status = "ready" if ready else ("starting" if not processes else "unavailable")
        return as_json({"status": status, "parts": parts}, 200 if ready else 503)

    def _dynamodb_answers(self) -> bool:
        try:
            self._dynamodb.list_tables(Limit=1)
        except Exception:  # any failure means "not answering"; the body of /healthz says which part
            return False
        return True

    def ingress(self, request: Request) -> Response:
        """Knative's broker ingress with ``authentication-oidc`` and ``deny-all``: 413 over the size limit,
        401 without a valid sender token for the broker, 400 for what is not a CloudEvent within the limits,
        403 naming why when no EventPolicy admits the sender for this event; else 202 and the fan-out."""
        try:
            body = request.stream.read(MAX_EVENT_BYTES + 1)
            if len(body) > MAX_EVENT_BYTES:
                _discard(request)  # so the client, still sending, reads the answer instead of a reset
                raise PayloadTooLargeError(f"an event is at most {MAX_EVENT_BYTES // 1024} KiB")
            claims = self.verifier.claims(request.headers.get("Authorization"), BROKER_AUDIENCE)
            event = self._parse(dict(request.headers), body)
            self.senders.authorize(str(claims["sub"]), event)
            authorize_scopes(claims, event)  # a client-credentials token: only its scopes' types (ADR 0035)
        except PicError as refused:
            return problem(refused, request.path)
        fanout = self.broker.ingest(event, self.manifests.triggers)
        response = Response(status=202)
        response.headers["X-Pic-Fanout"] = str(fanout)
        return response

    @staticmethod
    def _parse(headers: dict[str, str], body: bytes) -> dict[str, Any]:
        try:
            return parse_event(headers, body)
        except MalformedCloudEventError as exc:
            raise MalformedRequestError(str(exc)) from exc
        except InvalidCloudEventError as exc:
            raise InvalidEventError(str(exc)) from exc

    def pending(self, request: Request) -> Response:
        """Work the platform has not finished: broker deliveries not done (due, in flight, waiting for a retry)
        and outbox rows not yet published. Empty for a subject's events means nothing more will happen to it
        until something new arrives (tests wait for it instead of sleeping)."""
        limit = request.args.get("limit", "1000")
        if not limit.isdigit() or not 1 <= int(limit) <= 1000:
            return problem(
                ValidationError("limit must be an integer 1-1000", errors=[{"field": "limit", "message": "1-1000"}])
            )
        count = int(limit)
        return as_json({"deliveries": self.broker.pending_deliveries(count), "outbox": pending_events(count)})

    def token(self, request: Request) -> Response:
        try:
            body = TokenRequest.model_validate(parse_json(request.get_data() or b"{}"))
        except pydantic.ValidationError as exc:
            return problem(ValidationError("the token request is not valid", errors=pydantic_errors(exc)), request.path)
        return as_json({"access_token": self.idp.mint(body), "token_type": "Bearer", "expires_in": body.ttl_seconds})

    def authorize(self, request: Request) -> Response:
        """GET: the sign-in page for a valid authorization request; POST: the person chosen there, sent back
        to the client's redirect URI with a one-time code and the state. A request from an unknown client or
        to an unregistered redirect URI is answered here (400), never redirected (RFC 6749 §4.1.2.1)."""
        params = request.form if request.method == "POST" else request.args
        try:
            authz = self.oidc.check_authorize({k: str(v) for k, v in params.items()})
        except (pydantic.ValidationError, OidcError) as exc:
            errors = pydantic_errors(exc) if isinstance(exc, pydantic.ValidationError) else None
            return problem(ValidationError("not a valid authorization request", errors=errors), request.path)
        if request.method == "GET":
            return Response(sign_in_page(authz), content_type="text/html; charset=utf-8", headers=_IDP_HEADERS)
        try:
            choice = SignInChoice.model_validate({k: v for k, v in request.form.items() if v != ""})
        except pydantic.ValidationError as exc:
            return problem(ValidationError("who signs in is not valid", errors=pydantic_errors(exc)), request.path)
        code = self.oidc.issue_code(authz, choice)
        location = f"{authz.redirect_uri}?{urlencode({'code': code, 'state': authz.state})}"
        return Response(status=302, headers={"Location": location, **_IDP_HEADERS})

    def oidc_token(self, request: Request) -> Response:
        """The token endpoint (RFC 6749 §3.2): OAuth errors as RFC 6749 §5.2 JSON, never a token by mistake."""
        basic = (
            (request.authorization.username or "", request.authorization.password or "")
            if (request.authorization and request.authorization.type == "basic")
            else None
        )
        form = {k: str(v) for k, v in request.form.items()}
        try:
            if form.get("grant_type") == "client_credentials":  # an internal system (RFC 6749 §4.4, ADR 0035)
                # RFC 6749 §2.3.1: Basic's id and secret are form-urlencoded first
                decoded = (unquote_plus(basic[0]), unquote_plus(basic[1])) if basic else None
                tokens = self.clients.grant(form, decoded)
            else:
                tokens = self.oidc.token(form, basic)
        except OidcError as refused:
            status = 401 if refused.error == "invalid_client" else 400
            body = {"error": refused.error, "error_description": str(refused)}
            # RFC 6749 §5.2: a client that authenticated with HTTP Basic is told the scheme with its 401
            challenge = {"WWW-Authenticate": 'Basic realm="pic-dev-idp"'} if status == 401 and basic else {}
            return Response(
                json.dumps(body), status=status, content_type="application/json", headers={**_NO_STORE, **challenge}
            )
        return Response(json.dumps(tokens), content_type="application/json", headers=_NO_STORE)

    def client_secret(self, request: Request) -> Response:
        """A registered client's secret for this data directory (in the cloud: the IdP's, or Secrets Manager)."""
        try:
            body = ClientSecretRequest.model_validate_json(request.get_data() or b"{}")
            secret = self.clients.secret(body.client_id)
        except pydantic.ValidationError as exc:
            return problem(ValidationError("the request is not valid", errors=pydantic_errors(exc)), request.path)
        except OidcError as unknown:
            return problem(NotFoundError(str(unknown)), request.path)
        return Response(json.dumps({"client_id": body.client_id, "client_secret": secret}),
                        content_type="application/json", headers=_NO_STORE)  # fmt: skip

    def sender_token(self, request: Request) -> Response:
        """A ServiceAccount's token for the broker (``kubectl -n pic create token <account> --audience ...``)."""
        try:
            body = SenderTokenRequest.model_validate_json(request.get_data() or b"{}")
        except pydantic.ValidationError as exc:
            return problem(ValidationError("the token request is not valid", errors=pydantic_errors(exc)), request.path)
        token = self.idp.mint_for(body.subject, BROKER_AUDIENCE, body.ttl_seconds)
        return as_json(
            {
                "access_token": token,
                "token_type": "Bearer",
                "expires_in": body.ttl_seconds,
                "sub": body.subject,
                "audience": BROKER_AUDIENCE,
            }
        )

    def events(self, request: Request) -> Response:
        limit = query_limit(request, 100, 1000)
        return as_json({"events": self.broker.recent_events(limit, request.args.get("type"))})

    def received(self, request: Request) -> Response:
        """What the event display function received (the local overlay's catch-all subscriber)."""
        path = self.data_dir / "received.sqlite"
        if not path.exists():
            return as_json({"events": []})
        limit = query_limit(request, 100, 100000)
        query, args = "SELECT event FROM received", []
        if request.args.get("type"):
            query, args = query + " WHERE type = ?", [request.args["type"]]
        with sqlite3.connect(path, timeout=30) as db:
            rows = db.execute(query + " ORDER BY rowid DESC LIMIT ?", (*args, limit)).fetchall()
        return as_json({"events": [json.loads(r[0]) for r in rows]})

    def replay(self, request: Request, deadletter_id: int) -> Response:
        """Re-deliver a dead letter, for the replay tool's identity only (``pic-deadletter-replay``, an
        operator's), and only if the EventPolicies admit it for that event."""
        try:
            subject = self.verifier.subject(request.headers.get("Authorization"), BROKER_AUDIENCE)
            if subject != DEADLETTER_REPLAY.subject:
                raise ForbiddenError(f"dead letters are replayed as {DEADLETTER_REPLAY.subject}, not as {subject}")
            letter = self.broker.deadletter(deadletter_id)
            if letter is None:
                raise NotFoundError(f"no dead letter {deadletter_id}")
            self.senders.authorize(subject, letter["event"])
        except PicError as refused:
            return problem(refused, request.path)
        replayed = self.broker.replay(deadletter_id)
        if replayed is None:
            return problem(NotFoundError(f"no dead letter {deadletter_id}"), request.path)
        return as_json(replayed, 202)

    def opa_data(self, request: Request) -> Response:
        """OPA's ``POST /v1/data/<package path>/decision`` with ``{"input": ...}`` -> ``{"result": ...}``."""
        path = request.path.removeprefix("/v1/data/").strip("/")
        package, _, rule = path.rpartition("/")
        body = parse_json(request.get_data() or b"{}")
        if not isinstance(body, dict):
            raise MalformedRequestError('send {"input": ...}')
        if rule != "decision" or package.replace("/", ".") not in self.policy.bundle.packages:
            return as_json({})  # OPA answers an undefined document with no "result"
        result = self.policy.evaluate(package.replace("/", "."), body.get("input", {}))
        return as_json({"result": result})


_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
_IDP_HEADERS = {
    **_NO_STORE,
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def build() -> Gateway:
    data_dir = Path(os.environ["PIC_DATA_DIR"])
    overlay = Path(os.environ.get("PIC_OVERLAY", str(REPO_ROOT / "infra/k8s/overlays/local")))
    base_url = os.environ.get("PIC_BASE_URL", "http://127.0.0.1:8080")
    return Gateway(load(overlay), load_routes(overlay), data_dir, base_url)


_gateway: Gateway | None = None
_lock = threading.Lock()


def warm() -> Gateway:
    """Build the gateway once per worker (gunicorn's ``post_worker_init`` calls this before serving)."""
    global _gateway
    with _lock:
        if _gateway is None:
            _gateway = build()
    return _gateway


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """The gunicorn entry point (``local.gateway:app``)."""
    return (_gateway or warm())(environ, start_response)
