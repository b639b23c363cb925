"""The platform administrator's screen for the micro-apps (FLAG, issue 13) at ``/desk/apps``: each micro-app's
rule (on or off, only in some districts, for a share of citizens), changed with a reason and the version it
replaces, and each flag's history. Through the flags API like any client (``PUT /v1/flags/{flag}``): the
policy lets administrators only, the change is versioned and audited (``flag.changed``), and a change made
meanwhile by another administrator is a conflict shown on the form, never overwritten.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

import flask

from functions.core.madrid import zones
from functions.web.api import ApiProblem
from functions.web.web import Page, PageContext, redirect, render

FLAG = re.compile(r"^[a-z][a-z0-9-]{1,30}$")


def _districts() -> list[Any]:
    return sorted((z for z in zones().values() if z.kind == "district"), key=lambda z: z.code)


def apps_page(ctx: PageContext, errors: dict[str, dict[str, str]] | None = None, status: int = 200,
              values: dict[str, dict[str, Any]] | None = None) -> flask.Response:  # fmt: skip
    """Every catalogued micro-app with its current rule and a form to change it."""
    snapshot = ctx.ports.api.call("GET", "/v1/flags", ctx.me.access_token, ctx.traceparent)
    flags = {name: {**flag, **(values or {}).get(name, {})} for name, flag in snapshot["flags"].items()}
    return render(ctx, "desk/apps.html", status, flags=flags, districts=_districts(), errors=errors or {},
                  done=ctx.request.args.get("done"))  # fmt: skip


def _rule(ctx: PageContext, flag: str) -> tuple[dict[str, Any], dict[str, str]]:
    """The form as the API's body, and the errors to show by their fields (nothing is sent with any)."""
    form = ctx.request.form
    errors: dict[str, str] = {}
    districts = form.getlist("districts")[:21]
    known = {z.code for z in _districts()}
    if not set(districts) <= known:
        errors["districts"] = ctx.t("form.invalid_zone")
    percentage = form.get("percentage", "100").strip()
    if not percentage.isdigit() or not 0 <= int(percentage) <= 100:
        errors["percentage"] = ctx.t("admin.percentage_invalid")
    reason = form.get("reason", "").strip()
    if not 3 <= len(reason) <= 500:
        errors["reason"] = ctx.t("admin.reason_required")
    version = form.get("version", "")
    if not version.isdigit():
        errors["form"] = ctx.t("form.invalid_choice")
    body = {
        "enabled": form.get("enabled") == "on",
        "districts": districts,
        "percentage": int(percentage) if percentage.isdigit() else 100,
        "reason": reason[:500],
        "version": int(version) if version.isdigit() else 0,
    }
    return body, errors


def change_app(ctx: PageContext, flag: str) -> flask.Response:
    """A new rule for one micro-app; each function picks it up within its flags poll (seconds)."""
    if not FLAG.match(flag):
        raise ApiProblem(404, {"title": "No such micro-app"})
    body, errors = _rule(ctx, flag)
    if errors:
        return apps_page(ctx, {flag: errors}, 422, {flag: body})
    try:
        ctx.api("PUT", f"/v1/flags/{quote(flag, safe='')}", body)
    except ApiProblem as problem:
        if problem.status == 409:
            return apps_page(ctx, {flag: {"form": ctx.t("admin.conflict")}}, 409)
        if problem.status in (400, 422):
            return apps_page(ctx, {flag: problem.field_errors() or {"form": problem.detail}}, 422, {flag: body})
        raise
    return redirect(f"/desk/apps?done=flag-changed#app-{flag}")


def app_history(ctx: PageContext, flag: str) -> flask.Response:
    """Every change of one micro-app's flag: who, when, the rule before and after, and why."""
    if not FLAG.match(flag):
        raise ApiProblem(404, {"title": "No such micro-app"})
    history = ctx.api("GET", f"/v1/flags/{quote(flag, safe='')}/history")
    return render(ctx, "desk/app_history.html", flag=flag, changes=list(reversed(history["changes"])))


PAGES = [
    Page("/desk/apps", "GET", apps_page, "The micro-apps' flags and a form to change each", "admin"),
    Page("/desk/apps/<flag>", "POST", change_app, "Switch a micro-app (on, districts, share) with a reason", "admin"),
    Page("/desk/apps/<flag>/history", "GET", app_history, "Who changed a micro-app's flag, when and why", "admin"),
]
