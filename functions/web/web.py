"""The page kernel of the web channel: one ``Page`` shape, the session and language of each request, the
CSRF check on every POST, the security headers on every answer, and problems mapped to pages.

Like ``functions.core.http`` for the API, but for people: a refusal is a page in their language (sign-in
page for an expired session, 403 page for a CSRF or policy refusal, the form again with the errors next
to its fields for a 422), never a stack trace or a JSON document.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any, Literal, TypeVar
from urllib.parse import urlsplit

import flask
import jinja2
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule

from functions.core.errors import MethodNotAllowedError, NotFoundError, PicError
from functions.core.logging import bind_trace, get_logger
from functions.web import apps, i18n
from functions.web.api import ApiProblem
from functions.web.bootstrap import WebPorts
from functions.web.service import (
    CsrfError,
    PurposeRequiredError,
    Session,
    SessionExpiredError,
    check_csrf,
    require,
)

TEMPLATES = Path(__file__).parent / "templates"
LANG_COOKIE = "pic_lang"
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'{api}; "
    "form-action 'self'{gateway}; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}
MAX_FORM_BYTES = 64 * 1024

Access = Literal["public", "session", "agent", "admin"]
DESK = "/desk/"


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` of an http(s) URL, else ""."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme in ("http", "https") and parts.netloc else ""


@cache
def csp(gateway_url: str, api_url: str = "") -> str:
    """The pages' Content-Security-Policy: forms go to this app, and to the payment gateway (Redsys's
    realizarPago: the pay page's form is posted there by the citizen's browser); the browser's wallet
    (``static/wallet.js``) talks to the public API host too, where the card issuer (OpenID4VCI) and the
    verifier (OpenID4VP direct_post) answer — the same origin in ``make run``."""
    gateway, api = origin_of(gateway_url), origin_of(api_url)
    return CSP.format(gateway=f" {gateway}" if gateway else "", api=f" {api}" if api else "")


@dataclass(frozen=True)
class Page:
    """One path and method of the app or the desk: who may reach it (``public``, a citizen's signed-in
    ``session``, an ``agent``'s or a platform ``admin``'s) and the micro-app it belongs to (off: 404)."""

    rule: str
    method: str
    handler: Callable[..., flask.Response]
    summary: str
    access: Access = "session"
    app: str | None = None
    # a form larger than the usual (a photo's upload, functions/web/avisos.py); every other form: MAX_FORM_BYTES
    max_form_bytes: int = MAX_FORM_BYTES


@dataclass
class PageContext:
    request: flask.Request
    ports: WebPorts
    session: Session | None
    lang: str
    traceparent: str
    now: datetime
    cookies: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)

    @property
    def me(self) -> Session:
        assert self.session is not None and self.session.signed_in
        return self.session

    def t(self, key: str, **values: Any) -> str:
        return i18n.translate(self.lang, key, **values)

    def api(
        self,
        method: str,
        path: str,
        body: Any = None,
        params: dict[str, str] | None = None,
        purpose: str = "",
        idempotency_key: str = "",
    ) -> Any:
        """The public API as the signed-in person; an agent's calls carry the purpose they stated."""
        token, trace = self.me.access_token, self.traceparent
        return self.ports.api.call(
            method, path, token, trace, body=body, params=params, purpose=purpose, idempotency_key=idempotency_key
        )

    def citizen_path(self, rest: str = "") -> str:
        return f"/v1/citizens/{self.me.subject}{rest}"


_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def render(ctx: PageContext, template: str, status: int = 200, **values: Any) -> flask.Response:
    """A page: the template with the language, the session's CSRF token and the navigation."""
    html = _env.get_template(template).render(
        t=ctx.t,
        maybe=lambda key, fallback: i18n.translate_or(ctx.lang, key, str(fallback)),
        lang=ctx.lang,
        session=ctx.session,
        csrf=ctx.session.csrf if ctx.session else "",
        nav=apps.navigation(ctx.session.subject, ctx.session.district) if ctx.session and _citizen(ctx.session) else [],
        path=ctx.request.path,
        channel="desk" if ctx.request.path.startswith(DESK) else "app",
        **values,
    )
    return flask.Response(html, status=status, content_type="text/html; charset=utf-8")


def _citizen(session: Session | None) -> bool:
    return session is not None and session.signed_in and session.role == "citizen"


def session_cookie(ports: WebPorts) -> str:
    """``__Host-`` (Secure, path /, no domain) where the app is served over HTTPS; a plain name over HTTP
    (``make run``), where browsers refuse ``__Host-`` cookies."""
    return "__Host-pic_session" if _secure(ports) else "pic_session"


def _secure(ports: WebPorts) -> bool:
    return ports.settings.oidc_redirect_uri.startswith("https://")


def set_session_cookie(ctx: PageContext, session: Session) -> None:
    """The session's id in this answer's cookie (HttpOnly, SameSite=Lax), as long as the session lives."""
    ctx.cookies.append(
        (
            session_cookie(ctx.ports),
            session.id,
            {"path": "/", "secure": _secure(ctx.ports), "httponly": True, "samesite": "Lax",
             "max_age": int((session.expires_at - ctx.now).total_seconds())},
        )
    )  # fmt: skip


def redirect(location: str) -> flask.Response:
    """303 See Other: after a POST, the browser GETs the next page (no form resent on reload)."""
    return flask.Response(status=303, headers={"Location": location})


class WebFunction:
    """The callable behind ``@functions_framework.http`` of ``pic-web``."""

    def __init__(self, pages: list[Page], ports: Callable[[], WebPorts], cookie: Callable[[WebPorts], str]) -> None:
        self.pages = pages
        self._ports = ports
        self._cookie = cookie
        self._map = Map(
            [Rule(p.rule, methods=[p.method], endpoint=i) for i, p in enumerate(pages)], strict_slashes=False
        )

    def __call__(self, request: flask.Request) -> flask.Response:
        traceparent = bind_trace(request.headers.get("traceparent"))
        ports = self._ports()
        ctx = PageContext(request, ports, None, "es", traceparent, ports.clock.now())
        try:
            ctx.session = self._session(request, ports)
            ctx.lang = i18n.pick(
                request.headers.get("Accept-Language"),
                ctx.session.lang if ctx.session else request.cookies.get(LANG_COOKIE),
            )
            response = self._dispatch(ctx)
        except PicError as error:
            response = self.error_page(ctx, error)
        except Exception:
            get_logger().exception("unhandled error")
            response = self.error_page(ctx, PicError("an unexpected error; it was logged"))
        for name, value, options in ctx.cookies:
            response.set_cookie(name, value, **options)
        response.headers.update(SECURITY_HEADERS)
        response.headers["Content-Security-Policy"] = csp(ports.settings.redsys_url, ports.settings.api_url)
        response.headers.setdefault("Cache-Control", "no-store")
        response.headers["traceparent"] = traceparent
        return response

    def _session(self, request: flask.Request, ports: WebPorts) -> Session | None:
        session_id = request.cookies.get(self._cookie(ports))
        if not session_id or len(session_id) > 128:
            return None
        return ports.sessions.fetch(session_id)

    def _dispatch(self, ctx: PageContext) -> flask.Response:
        request = ctx.request
        adapter = self._map.bind_to_environ(request.environ)
        try:
            endpoint, params = adapter.match(request.path, method=request.method)
        except MethodNotAllowed as exc:
            allowed = ", ".join(sorted(exc.valid_methods or []))
            raise MethodNotAllowedError(f"{request.method} is not allowed here", headers={"Allow": allowed}) from exc
        except NotFound as exc:
            raise NotFoundError(f"no page {request.path}") from exc
        page = self.pages[int(endpoint)]
        if page.access == "session":
            ctx.session = require(ctx.session, ctx.now, "citizen")
        elif page.access in ("agent", "admin"):
            ctx.session = require(ctx.session, ctx.now, page.access)
        subject, district = (ctx.session.subject, ctx.session.district) if ctx.session else (None, None)
        if page.app is not None and not apps.enabled(page.app, subject, district):
            raise NotFoundError(f"the {page.app} section is not available")
        if request.method == "POST":
            if (request.content_length or 0) > page.max_form_bytes:
                raise ApiProblem(413, {"title": "The form is too large"})
            if ctx.session is None or not ctx.session.live(ctx.now):
                raise CsrfError("this form was not sent from a page of this app")
            check_csrf(ctx.session, request.form.get("csrf"))
        return page.handler(ctx, **params)

    def error_page(self, ctx: PageContext, error: PicError) -> flask.Response:
        """A refusal as a page in the person's language; the sign-in page for a missing or expired session."""
        if isinstance(error, SessionExpiredError):
            return render(ctx, "signin.html", 401, next=ctx.request.full_path.rstrip("?"))
        if isinstance(error, PurposeRequiredError):
            return render(ctx, "desk/purpose.html", 428, errors={}, citizen_id=error.citizen_id)
        status = error.status if 400 <= error.status < 600 else 500
        key = f"error.{status}" if status in (400, 403, 404, 405, 409, 413, 422, 428, 503) else "error.other"
        # the person's language, not the API's English detail (which may name ids); the detail goes to the log
        get_logger().info("page refused", extra={"status": status, "problem": error.slug, "detail": error.detail})
        detail = i18n.translate_or(ctx.lang, f"problem.{error.slug}", ctx.t("error.detail"))
        response = render(ctx, "error.html", status, title=ctx.t(key), detail=detail, problem=error.slug)
        response.headers.update({k: v for k, v in error.headers.items() if k in ("Allow", "Retry-After")})
        return response


T = TypeVar("T")
SIDE_BY_SIDE = 32  # threads of one process for a page's API reads: a page's few reads times a few pages at once


@cache
def _readers() -> ThreadPoolExecutor:
    """Made once per process, after the server's fork."""
    return ThreadPoolExecutor(max_workers=SIDE_BY_SIDE, thread_name_prefix="page-read")


def side_by_side(reads: dict[str, Callable[[], T]]) -> dict[str, T]:
    """A page's API reads at once (each is a network wait on the API), each in a copy of this request's
    context (its trace id in the logs); a read's exception is raised here, as if it had been called in turn."""
    pending = {name: _readers().submit(contextvars.copy_context().run, read) for name, read in reads.items()}
    return {name: future.result() for name, future in pending.items()}
