"""The citizen app (issue 13, ADR 0019): server-rendered pages at ``/app/...``; Knative Service ``pic-web``.

A backend-for-frontend: every read and write goes through the platform's public API (``PIC_API_URL``) with
the signed-in person's bearer token, so the policies decide exactly as for any client. Entry points only:
``PAGES`` (one ``web.Page`` per path and method), each parsing a form, calling the API and rendering.
Sign-in is OpenID Connect's code flow with PKCE (``oidc.py``); sessions are server-side (``storage.py``).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import flask
import functions_framework

from functions.core.errors import NotFoundError
from functions.core.language import LANGUAGES
from functions.core.madrid import zones
from functions.web import (
    admin,
    agenda,
    apps,
    assistant,
    avisos,
    bookings,
    campaigns,
    cases,
    consumers,
    contacts,
    desk,
    i18n,
    kb,
    lake,
    rights_form,
    service,
    suggestions,
    surveys,
    verify,
    wallet,
    zbe,
)
from functions.web.api import ApiProblem
from functions.web.bootstrap import WebPorts, ports
from functions.web.web import (
    LANG_COOKIE,
    Page,
    PageContext,
    WebFunction,
    redirect,
    render,
    session_cookie,
    side_by_side,
)
from functions.web.web import set_session_cookie as _set_session

NAME = "pic-web"
STATIC = Path(__file__).parent / "static"
STATIC_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".webmanifest": "application/manifest+json",
    ".svg": "image/svg+xml",
}
TOPIC = re.compile(r"^[a-z][a-z0-9-]{0,63}$")
HHMM = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")


def _secure(ports: WebPorts) -> bool:
    return ports.settings.oidc_redirect_uri.startswith("https://")


def _form_errors(problem: ApiProblem) -> dict[str, str]:
    return problem.field_errors() or {"form": problem.detail}


# ---- sign-in, sign-out, language ---------------------------------------------------------------------------


def sign_in(ctx: PageContext) -> flask.Response:
    """Start the code flow: a pending session (state, PKCE verifier, nonce), then the issuer's sign-in page."""
    pending = service.pending(ctx.now, ctx.lang, ctx.request.args.get("next", "/app/"))
    if ctx.session is not None and ctx.session.live(ctx.now) and ctx.session.chat:
        # the assistant's conversation goes on after sign-in (its id and key, server-side: never in the URL)
        pending = replace(pending, chat=ctx.session.chat, chat_key=ctx.session.chat_key)
    url = ctx.ports.oidc.authorize_url(pending)
    ctx.ports.sessions.save(pending)
    _set_session(ctx, pending)
    return flask.Response(status=302, headers={"Location": url})


def callback(ctx: PageContext) -> flask.Response:
    """The issuer's answer: the state checked against this browser's pending session, the code exchanged,
    and a signed-in session under a new id (the pending one deleted)."""
    if ctx.request.args.get("error"):
        raise service.SignInError(f"the identity provider answered {ctx.request.args['error'][:64]}")
    started = service.check_state(ctx.session, ctx.request.args.get("state", ""), ctx.now)
    signed = ctx.ports.oidc.exchange(started, ctx.request.args.get("code", ""))
    session = service.signed_in(
        started, signed.person, signed.access_token, signed.expires_at, ctx.now, ctx.ports.settings.web_session_hours
    )
    if session.role == "citizen":
        session = replace(session, district=_district(ctx, session))
    ctx.ports.sessions.save(session)
    ctx.ports.sessions.delete(started.id)
    ctx.session = session
    _set_session(ctx, session)
    return redirect(session.return_to)


def _district(ctx: PageContext, session: service.Session) -> str:
    """The district of the citizen's golden record (their own read, through the API), for the micro-apps a
    district rule switches; none when C360 does not know them yet (then no district rule holds them back)."""
    try:
        record = ctx.ports.api.call("GET", f"/v1/citizens/{quote(session.subject, safe='')}", session.access_token,
                                    ctx.traceparent)  # fmt: skip
    except ApiProblem:
        return ""
    address = (record or {}).get("attributes", {}).get("address") or {}
    district = str(address.get("district") or "") if isinstance(address, dict) else ""
    return district if re.fullmatch(r"[0-9]{2}", district) else ""


def sign_out(ctx: PageContext) -> flask.Response:
    """The session deleted server-side (the token with it) and the cookie cleared: a citizen's or an
    agent's (the CSRF check before it needs a live session of this browser)."""
    if ctx.session is not None:
        ctx.ports.sessions.delete(ctx.session.id)
    ctx.cookies.append((session_cookie(ctx.ports), "", {"path": "/", "secure": _secure(ctx.ports), "max_age": 0}))
    ctx.session = None
    return redirect(service.home_of(ctx.request.form.get("next", "")))


def switch_language(ctx: PageContext, code: str) -> flask.Response:
    """A link, so it works without JavaScript and before sign-in: a cookie, and the session's language."""
    if code not in LANGUAGES:
        return redirect("/app/")
    ctx.cookies.append((LANG_COOKIE, code, {"path": "/", "secure": _secure(ctx.ports), "samesite": "Lax",
                                              "max_age": 365 * 86400}))  # fmt: skip
    if ctx.session is not None:
        ctx.ports.sessions.save(replace(ctx.session, lang=code))
    return redirect(service.safe_return(ctx.request.args.get("next")))


# ---- home: the global position --------------------------------------------------------------------------------


def home(ctx: PageContext) -> flask.Response:
    """Signed out: what the app is and the sign-in button. Signed in: the position at a glance, and whether
    it is personalised (mode b) or not (mode a), from the ``personalisation`` consent."""
    if ctx.session is None or not ctx.session.signed_in or not ctx.session.live(ctx.now):
        return render(ctx, "landing.html")
    if ctx.session.role != "citizen":
        return redirect("/desk/")
    if not apps.enabled("position", ctx.session.subject, ctx.session.district):
        return render(ctx, "home.html", position=None, mode=None)
    read = side_by_side({
        "position": lambda: ctx.api("GET", ctx.citizen_path("/position")),
        "consents": lambda: ctx.api("GET", ctx.citizen_path("/consents")),
    })  # fmt: skip
    mode = read["consents"].get("mode")
    return render(ctx, "home.html", position=read["position"], mode=mode,
                  suggestions=suggestions.home_suggestions(ctx, mode),
                  suggestions_on=apps.enabled(suggestions.APP, ctx.session.subject, ctx.session.district))  # fmt: skip


# ---- consents and preferences ------------------------------------------------------------------------------------


def _terms(ctx: PageContext) -> dict[str, Any]:
    terms = ctx.ports.api.call(
        "GET", "/v1/consent-terms", ctx.me.access_token, ctx.traceparent, params={"language": ctx.lang}
    )
    return dict(terms)


def consents_page(ctx: PageContext, errors: dict[str, str] | None = None, status: int = 200) -> flask.Response:
    """Each purpose with its published text and version, what is given per channel, and the proof history."""
    read = side_by_side({
        "terms": lambda: _terms(ctx),
        "current": lambda: ctx.api("GET", ctx.citizen_path("/consents")),
        "history": lambda: ctx.api("GET", ctx.citizen_path("/consents/history")),
    })  # fmt: skip
    current = read["current"]
    given = {(c["purpose"], c.get("channel")): c for c in current.get("consents", [])}
    return render(
        ctx, "consents.html", status, terms=read["terms"], current=current, given=given, history=read["history"],
        errors=errors or {}, done=ctx.request.args.get("done"),
    )  # fmt: skip


def change_consent(ctx: PageContext, purpose: str) -> flask.Response:
    """Give or withdraw one purpose, on the channels ticked, with the version of the text shown."""
    form = ctx.request.form
    action = form.get("action")
    if action not in ("give", "withdraw"):
        return consents_page(ctx, {purpose: ctx.t("form.choose_action")}, 422)
    body = {
        "granted": action == "give",
        "channels": form.getlist("channels")[:16],  # the API checks them against the published channels
        "text_version": form.get("text_version") or None,
        "language": ctx.lang,
        "capture_channel": "web",
    }
    try:
        ctx.api("PUT", ctx.citizen_path(f"/consents/{quote(purpose, safe='')}"), body)
    except ApiProblem as problem:
        if problem.status in (400, 422):
            return consents_page(ctx, {purpose: problem.detail}, 422)
        raise
    return redirect(f"/app/consents?done={action}#purpose-{purpose}")


def preferences_page(ctx: PageContext, errors: dict[str, str] | None = None, status: int = 200,
                     values: dict[str, Any] | None = None) -> flask.Response:  # fmt: skip
    """Language, preferred channels and quiet hours."""
    current = values or ctx.api("GET", ctx.citizen_path("/preferences"))
    channels = _terms(ctx).get("channels", [])
    return render(ctx, "preferences.html", status, prefs=current, channels=channels, errors=errors or {},
                  done=ctx.request.args.get("done"))  # fmt: skip


def save_preferences(ctx: PageContext) -> flask.Response:
    form = ctx.request.form
    errors: dict[str, str] = {}
    language = form.get("language", "es")
    if language not in LANGUAGES:
        errors["language"] = ctx.t("form.invalid_choice")
    start, end = form.get("quiet_start", ""), form.get("quiet_end", "")
    for name, value in (("quiet_start", start), ("quiet_end", end)):
        if value and not HHMM.match(value):
            errors[name] = ctx.t("form.hhmm")
    if bool(start) != bool(end):
        errors["quiet_end" if start else "quiet_start"] = ctx.t("form.both_hours")
    body: dict[str, Any] = {
        "language": language,
        "channels": form.getlist("channels")[:16],  # the API checks them against the published channels
        "quiet_hours": {"start": start, "end": end} if start and end else None,
    }
    if errors:
        return preferences_page(ctx, errors, 422, body)
    try:
        ctx.api("PUT", ctx.citizen_path("/preferences"), body)
    except ApiProblem as problem:
        if problem.status in (400, 422):
            return preferences_page(ctx, _form_errors(problem), 422, body)
        raise
    return redirect("/app/preferences?done=saved")


# ---- alerts: subscriptions by topic and district/barrio ----------------------------------------------------------


def alerts_page(ctx: PageContext, errors: dict[str, str] | None = None, status: int = 200) -> flask.Response:
    """The subscriptions, and a form with the topics of the terms and the official district/barrio codes."""
    subscriptions = ctx.api("GET", ctx.citizen_path("/subscriptions"))
    topics = sorted(_terms(ctx).get("topics", []))
    districts = sorted((z for z in zones().values() if z.kind == "district"), key=lambda z: z.code)
    barrios = sorted((z for z in zones().values() if z.kind == "barrio"), key=lambda z: z.code)
    return render(ctx, "alerts.html", status, subscriptions=subscriptions, topics=topics, districts=districts,
                  barrios=barrios, errors=errors or {}, done=ctx.request.args.get("done"))  # fmt: skip


def subscribe(ctx: PageContext) -> flask.Response:
    topic, zone = ctx.request.form.get("topic", ""), ctx.request.form.get("zone", "")
    errors = {}
    if not TOPIC.match(topic):
        errors["topic"] = ctx.t("form.invalid_choice")
    if zone not in zones():
        errors["zone"] = ctx.t("form.invalid_zone")
    if errors:
        return alerts_page(ctx, errors, 422)
    try:
        ctx.api("POST", ctx.citizen_path("/subscriptions"), {"topic": topic, "zone": zone})
    except ApiProblem as problem:
        if problem.status in (400, 422):
            return alerts_page(ctx, _form_errors(problem), 422)
        raise
    return redirect("/app/alerts?done=subscribed")


def unsubscribe(ctx: PageContext, subscription_id: str) -> flask.Response:
    ctx.api("DELETE", ctx.citizen_path(f"/subscriptions/{quote(subscription_id, safe='')}"))
    return redirect("/app/alerts?done=unsubscribed")


# ---- inbox --------------------------------------------------------------------------------------------------------


def inbox_page(ctx: PageContext) -> flask.Response:
    inbox = ctx.api("GET", ctx.citizen_path("/inbox"))
    return render(ctx, "inbox.html", inbox=inbox)


def mark_read(ctx: PageContext, notification_id: str) -> flask.Response:
    ctx.api("POST", ctx.citizen_path(f"/inbox/{quote(notification_id, safe='')}/read"))
    return redirect(f"/app/inbox#message-{notification_id}")


# ---- pay: fines and taxes ---------------------------------------------------------------------------------------

PAYMENT_ID = re.compile(r"^pay-[0-9a-f]{32}$")
PAY_KEY = re.compile(r"^[0-9a-f-]{36}$")
DEBT_ID = re.compile(r"^(fine|receipt)-[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def pay_page(ctx: PageContext, errors: dict[str, str] | None = None, status: int = 200) -> flask.Response:
    """The person's debts: what is due today, until when and what after, the notice to read before paying,
    and the form that pays the chosen ones by card or Bizum. The form carries a fresh Idempotency-Key, so
    that a double click answers the same payment."""
    debts = ctx.api("GET", ctx.citizen_path("/debts"))["debts"]
    return render(ctx, "pay.html", status, debts=debts, errors=errors or {}, key=str(uuid.uuid4()))


def start_payment(ctx: PageContext) -> flask.Response:
    """The chosen debts paid through the API; the page that sends the browser on to the gateway's form."""
    form = ctx.request.form
    debt_ids, method, key = form.getlist("debt")[:20], form.get("method", ""), form.get("key", "")
    if not debt_ids:
        return pay_page(ctx, {"debt": ctx.t("pay.choose_one")}, 422)
    if method not in ("card", "bizum"):
        return pay_page(ctx, {"method": ctx.t("pay.choose_method")}, 422)
    body = {"debt_ids": debt_ids, "method": method}
    try:
        payment = ctx.api("POST", "/v1/payments", body, idempotency_key=key if PAY_KEY.match(key) else "")
    except ApiProblem as problem:
        if problem.status in (409, 422):
            detail = i18n.translate_or(ctx.lang, f"problem.{problem.slug}", problem.detail)
            return pay_page(ctx, {"form": detail}, problem.status)
        raise
    return render(ctx, "pay_redirect.html", payment=payment)


def payment_page(ctx: PageContext, payment_id: str) -> flask.Response:
    """Where the gateway sends the citizen back: the payment as PIC stored it (the return itself decides
    nothing); while no notification has arrived, the state region asks again every few seconds."""
    if not PAYMENT_ID.match(payment_id):
        raise NotFoundError(f"no payment {payment_id[:80]!r}")
    payment = ctx.api("GET", f"/v1/payments/{payment_id}")
    template = "payment_state.html" if ctx.request.headers.get("HX-Request") else "payment.html"
    return render(ctx, template, payment=payment)


def streamed(ctx: PageContext, path: str) -> flask.Response:
    """A document the API serves (a receipt, a letter, an export), passed on with its type and its own name."""
    answer = ctx.ports.api.download(path, ctx.me.access_token, ctx.traceparent)
    headers = {k: v for k, v in answer.headers.items() if k in ("Content-Type", "Content-Disposition")}
    return flask.Response(answer.content, status=200, headers=headers)


def download_receipt(ctx: PageContext, payment_id: str) -> flask.Response:
    """The payment's receipt (PDF), streamed from the API with its own name."""
    if not PAYMENT_ID.match(payment_id):
        raise NotFoundError(f"no payment {payment_id[:80]!r}")
    return streamed(ctx, f"/v1/payments/{payment_id}/receipt")


def download_letter(ctx: PageContext, debt_id: str) -> flask.Response:
    """A debt's payment letter (PDF, AEB Cuaderno 60), to pay it at a bank's counter until the date it prints."""
    if not DEBT_ID.match(debt_id):
        raise NotFoundError(f"no debt {debt_id[:80]!r}")
    return streamed(ctx, ctx.citizen_path(f"/debts/{debt_id}/letter"))


# ---- the tax folder and direct debits ---------------------------------------------------------------------------

TAX_OBJECT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 .-]{0,39}$")
MODALITIES = ("pago-unico", "pago-a-la-carta", "fraccionado-bonificado")


def taxes_page(
    ctx: PageContext, errors: dict[str, str] | None = None, status: int = 200, failed: str = ""
) -> flask.Response:
    """The person's tax folder: receipts by tax and year, paid or not; each tax object with its direct debit and
    a form to sign, change or cancel it (the SEPA mandate's text shown before signing)."""
    folder = ctx.api("GET", ctx.citizen_path("/tax-folder"))
    done = ctx.request.args.get("done", "")
    return render(ctx, "taxes.html", status, folder=folder, errors=errors or {}, failed=failed,
                  done=done if done in ("signed", "cancelled") else "")  # fmt: skip


def _tax_object(reference: str) -> str:
    if not TAX_OBJECT.match(reference):
        raise NotFoundError(f"no tax object {reference[:80]!r}")
    return quote(reference, safe="")


def sign_direct_debit(ctx: PageContext, reference: str) -> flask.Response:
    """The mandate the person signs for one tax object: IBAN, holder, modality and the SEPA authorisation."""
    path = ctx.citizen_path(f"/direct-debits/{_tax_object(reference)}")
    form = ctx.request.form
    modality, iban, holder = form.get("modality", ""), form.get("iban", "").strip(), form.get("holder", "").strip()
    errors: dict[str, str] = {}
    if not iban:
        errors["iban"] = ctx.t("taxes.iban_missing")
    if not holder:
        errors["holder"] = ctx.t("taxes.holder_missing")
    if modality not in MODALITIES:
        errors["modality"] = ctx.t("taxes.modality_missing")
    if form.get("authorise") != "yes":
        errors["authorise"] = ctx.t("taxes.authorise_missing")
    if errors:
        return taxes_page(ctx, errors, 422, failed=reference)
    try:
        ctx.api("PUT", path, {"iban": iban[:42], "holder": holder[:70], "modality": modality})
    except ApiProblem as problem:
        if problem.status not in (404, 409, 422):
            raise
        detail = i18n.translate_or(ctx.lang, f"problem.{problem.slug}", problem.detail)
        found = {"iban": detail} if problem.slug == "iban-invalid" else {**problem.field_errors(), "form": detail}
        return taxes_page(ctx, found, problem.status, failed=reference)
    return redirect(f"/app/pay/taxes?done=signed#object-{reference}")


def cancel_direct_debit(ctx: PageContext, reference: str) -> flask.Response:
    """Cancel the direct debit of one tax object: one button, one call."""
    ctx.api("DELETE", ctx.citizen_path(f"/direct-debits/{_tax_object(reference)}"))
    return redirect(f"/app/pay/taxes?done=cancelled#object-{reference}")


# ---- my data: rights requests and the access log --------------------------------------------------------------


def my_data_page(ctx: PageContext, errors: dict[str, str] | None = None, status: int = 200) -> flask.Response:
    """The person's requests (state, legal deadline, export when ready) and who looked at their data."""
    read = side_by_side({
        "requests": lambda: ctx.api("GET", ctx.citizen_path("/rgpd-requests")),
        "log": lambda: ctx.api("GET", ctx.citizen_path("/access-log"), params={"limit": "20"}),
        "objectable": lambda: _objectable(ctx),
    })  # fmt: skip
    return render(ctx, "my_data.html", status, requests=read["requests"], log=read["log"], errors=errors or {},
                  done=ctx.request.args.get("done"), rights=rights_form.RIGHTS,
                  objectable=read["objectable"])  # fmt: skip


def _objectable(ctx: PageContext) -> list[str]:
    return rights_form.objectable(_terms(ctx))


def open_request(ctx: PageContext) -> flask.Response:
    """A data-subject request: access, rectification (one field and its correct value), erasure, restriction
    (its ground) or objection (the purposes)."""
    form = ctx.request.form
    objected = form.getlist("purposes")
    body, errors = rights_form.request_body(form, ctx.t, _objectable(ctx), objected)
    if body is None:
        return my_data_page(ctx, errors, 422)
    try:
        made = ctx.api("POST", ctx.citizen_path("/rgpd-requests"), body)
    except ApiProblem as problem:
        if problem.status in (400, 422):
            return my_data_page(ctx, _form_errors(problem), 422)
        raise
    return redirect(f"/app/my-data/requests/{quote(str(made['request_id']), safe='')}")


def request_page(ctx: PageContext, request_id: str) -> flask.Response:
    """One request: its state, deadline and per-domain answers; another person's is the API's refusal."""
    found = ctx.api("GET", f"/v1/rgpd-requests/{quote(request_id, safe='')}")
    return render(ctx, "request.html", request=found)


def download_export(ctx: PageContext, request_id: str) -> flask.Response:
    """The zip of a completed access request, streamed from the API with its own name."""
    return streamed(ctx, f"/v1/rgpd-requests/{quote(request_id, safe='')}/export")


# ---- accessibility, offline, PWA ---------------------------------------------------------------------------------


def accessibility(ctx: PageContext) -> flask.Response:
    return render(ctx, "accessibility.html")


def barrier_page(ctx: PageContext, errors: dict[str, str] | None = None, status: int = 200) -> flask.Response:
    """A form anyone may send (RD 1112/2018 art. 10.2): it needs a session for its CSRF token only."""
    if ctx.session is None or not ctx.session.live(ctx.now):
        ctx.session = service.anonymous(ctx.now, ctx.lang)
        ctx.ports.sessions.save(ctx.session)
        _set_session(ctx, ctx.session)
    return render(ctx, "barrier.html", status, errors=errors or {}, done=ctx.request.args.get("done"),
                  values=ctx.request.form)  # fmt: skip


def report_barrier(ctx: PageContext) -> flask.Response:
    form = ctx.request.form
    description = form.get("description", "").strip()
    contact = form.get("contact", "").strip()
    errors = {}
    if not 10 <= len(description) <= 4000:
        errors["description"] = ctx.t("form.description_length")
    if len(contact) > 200:
        errors["contact"] = ctx.t("form.too_long")
    if errors:
        return barrier_page(ctx, errors, 422)
    ctx.ports.sessions.save_barrier(
        service.BarrierReport(service.new_token()[:16], form.get("page", "")[:300], description, contact,
                              ctx.lang, ctx.now, ctx.now + timedelta(days=service.BARRIER_DAYS))
    )  # fmt: skip
    return redirect("/app/accessibility/barrier?done=sent")


def _unsubscribe_call(ctx: PageContext, method: str, token: str) -> tuple[dict[str, Any] | None, int]:
    """NOT's answer about a one-click link, as nobody (the signed link is the authority, not a session):
    the link's purpose and channel, or the refusal's status (404 not valid, 410 expired)."""
    try:
        found = ctx.ports.api.call(method, f"/v1/unsubscribe/{quote(token, safe='')}", "", ctx.traceparent)
    except ApiProblem as problem:
        if problem.status in (404, 410):
            return None, problem.status
        raise
    return dict(found), 200


def unsubscribe_link_page(ctx: PageContext, token: str) -> flask.Response:
    """The page an unsubscribe link opens: what it is for and a button. Opening it changes nothing (a mail
    scanner that follows the link unsubscribes nobody); no sign-in, works without JavaScript. The session is
    an anonymous one, for the form's CSRF token only."""
    if ctx.session is None or not ctx.session.live(ctx.now):
        ctx.session = service.anonymous(ctx.now, ctx.lang)
        ctx.ports.sessions.save(ctx.session)
        _set_session(ctx, ctx.session)
    link, status = _unsubscribe_call(ctx, "GET", token)
    return render(ctx, "unsubscribe.html", status, link=link, token=token, invalid=status)


def confirm_unsubscribe(ctx: PageContext, token: str) -> flask.Response:
    """The button: NOT asks CON to withdraw that purpose on that channel; twice is fine."""
    link, status = _unsubscribe_call(ctx, "POST", token)
    return render(ctx, "unsubscribe.html", status, link=link, token=token, invalid=status)


def offline(ctx: PageContext) -> flask.Response:
    return render(ctx, "offline.html")


def static_file(ctx: PageContext, name: str) -> flask.Response:
    """The app's own files (htmx, CSS, the service worker), cacheable: their names change with their content."""
    path = (STATIC / name).resolve()
    if path.parent != STATIC.resolve() or not path.is_file() or path.suffix not in STATIC_TYPES:
        raise NotFoundError(f"no file {name}")
    response = flask.Response(path.read_bytes(), content_type=STATIC_TYPES[path.suffix])
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


def service_worker(ctx: PageContext) -> flask.Response:
    """At ``/app/sw.js`` so its scope is the whole app; never cached by HTTP (updates reach people)."""
    response = static_file(ctx, "sw.js")
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Service-Worker-Allowed"] = "/app/"
    return response


def web_manifest(ctx: PageContext) -> flask.Response:
    return static_file(ctx, "manifest.webmanifest")


PAGES = [
    Page("/app/", "GET", home, "Home: the global position at a glance (signed out: what the app is)", "public"),
    Page("/app/auth/signin", "GET", sign_in, "Start the OpenID Connect sign-in (code flow, PKCE)", "public"),
    Page("/app/auth/callback", "GET", callback, "The issuer's answer: the session signed in", "public"),
    Page("/app/auth/signout", "POST", sign_out, "Sign out: the session deleted", "public"),
    Page("/app/lang/<code>", "GET", switch_language, "Switch the language (es, en)", "public"),
    Page("/app/consents", "GET", consents_page, "Consents per purpose, texts, proof history", app="consents"),
    Page("/app/consents/<purpose>", "POST", change_consent, "Give or withdraw a purpose", app="consents"),
    Page("/app/preferences", "GET", preferences_page, "Language, channels, quiet hours", app="consents"),
    Page("/app/preferences", "POST", save_preferences, "Save the preferences", app="consents"),
    Page("/app/alerts", "GET", alerts_page, "Alert subscriptions by topic and zone", app="alerts"),
    Page("/app/alerts", "POST", subscribe, "Subscribe to a topic in a district or barrio", app="alerts"),
    Page("/app/alerts/<subscription_id>/delete", "POST", unsubscribe, "Unsubscribe", app="alerts"),
    Page("/app/inbox", "GET", inbox_page, "In-app messages", app="inbox"),
    Page("/app/inbox/<notification_id>/read", "POST", mark_read, "Mark a message read", app="inbox"),
    Page("/app/pay", "GET", pay_page, "Fines and taxes: what is due today, and paying them", app="pay"),
    Page("/app/pay", "POST", start_payment, "Pay the chosen debts by card or Bizum (on to Redsys)", app="pay"),
    Page("/app/payments/<payment_id>", "GET", payment_page, "A payment's outcome (the gateway's way back)", app="pay"),
    Page("/app/payments/<payment_id>/receipt", "GET", download_receipt, "Download the receipt (PDF)", app="pay"),
    Page("/app/pay/<debt_id>/letter", "GET", download_letter, "Download a debt's payment letter (PDF)", app="pay"),
    Page("/app/pay/taxes", "GET", taxes_page, "The tax folder: receipts by tax and year, direct debits", app="pay"),
    Page(
        "/app/pay/taxes/<reference>/direct-debit", "POST", sign_direct_debit, "Sign or change a direct debit", app="pay"
    ),
    Page("/app/pay/taxes/<reference>/cancel", "POST", cancel_direct_debit, "Cancel a direct debit", app="pay"),
    Page("/app/my-data", "GET", my_data_page, "Rights requests and the access log", app="my-data"),
    Page("/app/my-data/requests", "POST", open_request, "Request access, erasure or rectification", app="my-data"),
    Page("/app/my-data/requests/<request_id>", "GET", request_page, "One request's state", app="my-data"),
    Page("/app/my-data/requests/<request_id>/export", "GET", download_export, "Download the export", app="my-data"),
    Page("/app/accessibility", "GET", accessibility, "Accessibility statement", "public"),
    Page("/app/accessibility/barrier", "GET", barrier_page, "Report an accessibility barrier", "public"),
    Page("/app/accessibility/barrier", "POST", report_barrier, "Send the barrier report", "public"),
    Page(
        "/app/unsubscribe/<token>",
        "GET",
        unsubscribe_link_page,
        "An unsubscribe link: what it is for, a button",
        "public",
    ),
    Page(
        "/app/unsubscribe/<token>",
        "POST",
        confirm_unsubscribe,
        "Unsubscribe (campaigns or surveys, one channel)",
        "public",
    ),
    Page("/app/offline", "GET", offline, "Shown by the service worker without a network", "public"),
    Page("/app/sw.js", "GET", service_worker, "The service worker (caches the shell only)", "public"),
    Page("/app/manifest.webmanifest", "GET", web_manifest, "The PWA manifest", "public"),
    Page("/app/static/<name>", "GET", static_file, "htmx, CSS, icons", "public"),
    *desk.PAGES,
    *cases.PAGES,
    *contacts.PAGES,
    *kb.PAGES,
    *campaigns.PAGES,
    *assistant.PAGES,
    *admin.PAGES,
    *surveys.PAGES,
    *verify.PAGES,
    *wallet.PAGES,
    *agenda.PAGES,
    *zbe.PAGES,
    *bookings.PAGES,
    *avisos.PAGES,
    *suggestions.PAGES,
    *consumers.PAGES,
    *lake.PAGES,
]

web_app = WebFunction(PAGES, ports, session_cookie)


@functions_framework.http
def web_http(request: flask.Request) -> flask.Response:
    return web_app(request)
