"""The bookings micro-app of the citizen app (issue 18): find a slot of a municipal sports centre's pool or court, a
class or a cultural activity, book it (a paid place is held while the person pays it in Pay, through Redsys),
join the waiting list of a full slot, and cancel.

The pages read and write through the public API with the person's own token, like every micro-app: the
catalogue and a resource's slots (public), the person's bookings, ``POST /v1/citizens/{id}/bookings`` and its
cancel. The API's refusals (the rules of ``policies/booking`` with each unmet reason, a full slot, a slot that
cannot be booked) are shown beside the slot, in the person's language; after a write, a 303 back with
``?done=…`` (``role="status"``). Paying a held place is Pay's own form (``POST /app/pay``), with the booking's
debt chosen: the same payment flow as any receipt.
"""

from __future__ import annotations

import re
import uuid
from typing import Any
from urllib.parse import quote

import flask

from functions.core.errors import NotFoundError
from functions.web import i18n
from functions.web.api import ApiProblem
from functions.web.service import PurposeRequiredError
from functions.web.web import Page, PageContext, redirect, render

RESOURCE_ID = re.compile(r"^[a-z0-9][a-z0-9-]{2,63}$")
SLOT_ID = re.compile(r"^[a-z0-9][a-z0-9-]{2,63}\.[0-9]{12}$")
BOOKING_ID = re.compile(r"^bk-[0-9a-f]{16}$")
DONE = ("booked", "held", "waiting", "cancelled")
REFUSED = (404, 409, 422)  # the API's refusals a person can act on (others are the platform's: raised)


def _said(ctx: PageContext, problem: ApiProblem) -> str:
    """The refusal in the person's words, and each unmet rule's own text (``policies/booking``'s es/en)."""
    said = i18n.translate_or(ctx.lang, f"bookings.problem.{problem.slug}", problem.detail)
    reasons = [r for r in problem.body.get("reasons", []) or [] if isinstance(r, dict)]
    unmet = [str(r.get(ctx.lang) or r.get("es")) for r in reasons if not r.get("met")]
    return " ".join([said, *unmet])


def bookings_page(ctx: PageContext, errors: dict[str, str] | None = None, status: int = 200) -> flask.Response:
    """The person's bookings (next first: state, a held place's amount and "Pay", "Cancel") and the catalogue."""
    mine = ctx.api("GET", ctx.citizen_path("/bookings"))["bookings"]
    resources = ctx.api("GET", "/v1/bookings/resources")["resources"]
    done = ctx.request.args.get("done") if status == 200 else None
    return render(ctx, "bookings/mine.html", status, bookings=mine, resources=resources, errors=errors or {},
                  done=done if done in DONE else None, key=str(uuid.uuid4()))  # fmt: skip


def slots_page(
    ctx: PageContext, resource_id: str, errors: dict[str, str] | None = None, status: int = 200
) -> flask.Response:
    """A resource's slots over the next days: free places, the waiting list, and "Book" (or "Join the waiting
    list" when it is full)."""
    if not RESOURCE_ID.match(resource_id):
        return bookings_page(ctx, {"form": ctx.t("bookings.resource_invalid")}, 404)
    try:
        resource = ctx.api("GET", f"/v1/bookings/resources/{resource_id}/slots")
    except ApiProblem as problem:
        if problem.status != 404:
            raise
        return bookings_page(ctx, {"form": _said(ctx, problem)}, 404)
    return render(ctx, "bookings/slots.html", status, resource=resource, errors=errors or {})


def book(ctx: PageContext) -> flask.Response:
    """Book the chosen slot (or join its waiting list); a refusal is shown beside the slot."""
    form = ctx.request.form
    slot_id, resource_id = form.get("slot_id", ""), form.get("resource_id", "")
    if not SLOT_ID.match(slot_id) or not RESOURCE_ID.match(resource_id) or not slot_id.startswith(resource_id + "."):
        return bookings_page(ctx, {"form": ctx.t("bookings.slot_invalid")}, 422)
    body = {"slot_id": slot_id, "waitlist": form.get("waitlist") == "yes"}
    try:
        made = ctx.api("POST", ctx.citizen_path("/bookings"), body, idempotency_key=str(uuid.uuid4()))
    except ApiProblem as problem:
        if problem.status not in REFUSED:
            raise
        return slots_page(ctx, resource_id, {f"slot-{slot_id}": _said(ctx, problem)}, problem.status)
    done = {"confirmed": "booked", "held": "held", "waiting": "waiting"}.get(made.get("state"), "booked")
    return redirect(f"/app/bookings?done={done}#booking-{made.get('booking_id', '')}")


def cancel(ctx: PageContext, booking_id: str) -> flask.Response:
    """Cancel a booking or a waiting-list entry (the place goes to the first waiting); asks to confirm."""
    if not BOOKING_ID.match(booking_id):
        return bookings_page(ctx, {"form": ctx.t("bookings.booking_invalid")}, 404)
    if ctx.request.form.get("confirm") != "yes":
        return bookings_page(ctx, {f"booking-{booking_id}": ctx.t("bookings.cancel_confirm_missing")}, 422)
    try:
        ctx.api("POST", ctx.citizen_path(f"/bookings/{booking_id}/cancel"), idempotency_key=str(uuid.uuid4()))
    except ApiProblem as problem:
        if problem.status not in REFUSED:
            raise
        return bookings_page(ctx, {f"booking-{booking_id}": _said(ctx, problem)}, problem.status)
    return redirect("/app/bookings?done=cancelled")


def no_show(ctx: PageContext, citizen_id: str, booking_id: str) -> flask.Response:
    """The desk: the centre's agent, attending the citizen with a stated purpose, records that they did not come to
    a confirmed place whose slot started (the API refuses anything else); back to the bookings panel."""
    if not BOOKING_ID.match(booking_id):
        raise NotFoundError(f"no booking {booking_id[:40]!r}")
    if ctx.me.attending != citizen_id or not ctx.me.purpose:
        raise PurposeRequiredError(citizen_id)
    path = f"/v1/citizens/{quote(citizen_id, safe='')}/bookings/{booking_id}/no-show"
    ctx.api("POST", path, purpose=ctx.me.purpose, idempotency_key=str(uuid.uuid4()))
    return redirect(f"/desk/citizens/{quote(citizen_id, safe='')}/panels/bookings#desk-booking-{booking_id}")


def resource_title(resource: dict[str, Any], lang: str) -> str:
    title = resource.get("title") or {}
    return str(title.get(lang) or title.get("es") or resource.get("resource_id", ""))


PAGES = [
    Page("/app/bookings", "GET", bookings_page, "The person's bookings and the bookable resources", app="bookings"),
    Page("/app/bookings", "POST", book, "Book a slot or join its waiting list", app="bookings"),
    Page("/app/bookings/resources/<resource_id>", "GET", slots_page, "A resource's slots and free places",
         app="bookings"),
    Page("/app/bookings/<booking_id>/cancel", "POST", cancel, "Cancel a booking or a waiting-list entry",
         app="bookings"),
    Page("/desk/citizens/<citizen_id>/bookings/<booking_id>/no-show", "POST", no_show,
         "Record that the attended citizen did not come to a booked place", "agent"),
]  # fmt: skip
