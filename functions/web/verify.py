"""The desk's verification page (WAL, issue 17): at a counter, an agent asks a person to present a wallet card, shows
the QR code (and the link) their wallet opens, and sees the verdict — each check by name and exactly the claims
disclosed ("Mayor de 65: sí"), nothing more.

``/desk/verify``: choose the card type (a GET form: works without JavaScript), then its claims and the purpose;
``POST /desk/verify`` asks the API (``POST /v1/verifier/requests`` with the purpose) and redirects to
``/desk/verify/<request_id>?purpose=…``, which shows the QR code until the answer. With htmx its status part asks
again every two seconds (``HX-Target: verify-status``: the part only — the body's ``hx-boost`` navigations carry
``HX-Request`` too, and get the whole page); without JavaScript, the page's "check again" link reloads it.
Everything through the public API with the agent's token (no store, no domain import).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

import flask

from functions.core.errors import NotFoundError
from functions.core.qr import qr_svg
from functions.web import i18n
from functions.web.api import ApiProblem
from functions.web.desk import purpose_error
from functions.web.web import Page, PageContext, redirect, render

REQUEST_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
CARD_TYPE = re.compile(r"^[a-z0-9-]{1,64}$")


def _card_types(ctx: PageContext) -> dict[str, dict[str, Any]]:
    """The card types a request may ask for, by id, each claim with its dotted path (the form's value)."""
    found = ctx.api("GET", "/v1/verifier/card-types")["card_types"]
    return {
        kind["card_type"]: {**kind, "claims": [{**c, "key": ".".join(c["path"])} for c in kind["claims"]]}
        for kind in found
    }


def verify_page(ctx: PageContext, errors: dict[str, str] | None = None, status: int = 200) -> flask.Response:
    """Step one and two on one page: the card type (a GET form), then its claims and the purpose."""
    kinds = _card_types(ctx)
    source = ctx.request.form if ctx.request.method == "POST" else ctx.request.args
    chosen = source.get("card_type", "")
    if chosen and chosen not in kinds:
        raise NotFoundError("no such card type")
    values = {"purpose": source.get("purpose", ""), "claims": source.getlist("claims")}
    return render(ctx, "desk/verify.html", status, kinds=kinds, chosen=chosen, errors=errors or {}, values=values)


def ask(ctx: PageContext) -> flask.Response:
    """Ask the API for a presentation of the chosen claims, for the stated purpose."""
    form = ctx.request.form
    card_type, purpose, claims = form.get("card_type", ""), form.get("purpose", "").strip(), form.getlist("claims")
    if not CARD_TYPE.match(card_type):
        raise NotFoundError("no such card type")
    errors: dict[str, str] = {}
    if problem := purpose_error(ctx, purpose):
        errors["purpose"] = problem
    if not claims:
        errors["claims"] = ctx.t("verify.claims_required")
    if errors:
        return verify_page(ctx, errors, 422)
    body = {"card_type": card_type, "claims": [claim.split(".") for claim in claims]}
    try:
        asked = ctx.api("POST", "/v1/verifier/requests", body, purpose=purpose)
    except ApiProblem as problem:
        if problem.status != 422:
            raise
        message = i18n.translate_or(ctx.lang, f"problem.{problem.slug}", problem.detail)
        return verify_page(ctx, {"claims": message}, 422)
    return redirect(f"/desk/verify/{asked['request_id']}?purpose={quote(purpose, safe='')}")


def _shown(kinds: dict[str, dict[str, Any]], result: dict[str, Any]) -> list[dict[str, Any]]:
    """Each claim asked, its label and the value disclosed (only in a verified result)."""
    labels = {c["key"]: c["label"] for c in kinds.get(result["card_type"], {}).get("claims", [])}
    rows = []
    for path in result["claims"]:
        value: Any = result["disclosed"]
        for part in path:
            value = value.get(part) if isinstance(value, dict) else None
        key = ".".join(path)
        rows.append({"key": key, "label": labels.get(key, {"es": key, "en": key}), "value": value})
    return rows


def result_page(ctx: PageContext, request_id: str) -> flask.Response:
    """The request: its QR code and link while it waits, then the verdict; the status part alone to htmx."""
    if not REQUEST_ID.match(request_id):
        raise NotFoundError("no such verification")
    purpose = ctx.request.args.get("purpose", "").strip()
    if purpose_error(ctx, purpose):
        raise NotFoundError("a verification is read for the purpose it was asked for")
    result = ctx.api("GET", f"/v1/verifier/requests/{request_id}", purpose=purpose)
    kinds = _card_types(ctx)
    values = {
        "result": result,
        "kind": kinds.get(result["card_type"], {"title": {"es": result["card_type"], "en": result["card_type"]}}),
        "rows": _shown(kinds, result),
        "qr": qr_svg(result["request_link"], "QR", scale=5) if result.get("request_link") else "",
        "self_url": f"/desk/verify/{request_id}?purpose={quote(purpose, safe='')}",
    }
    if ctx.request.headers.get("HX-Target") == "verify-status":  # the poll; a boosted navigation gets the page
        return render(ctx, "desk/verify_status.html", **values)
    return render(ctx, "desk/verify_result.html", **values)


PAGES = [
    Page("/desk/verify", "GET", verify_page, "Verify a wallet card: the card type, its claims, the purpose", "agent"),
    Page("/desk/verify", "POST", ask, "Ask for a presentation of the claims chosen, for the stated purpose", "agent"),
    Page("/desk/verify/<request_id>", "GET", result_page, "The QR code to present, then the verdict and each check",
         "agent"),
]  # fmt: skip
