"""The data-subject request form, one for the citizen's "My data" page and the agent desk's request on a
citizen's behalf: which right (RGPD arts. 15–21), and what each one needs — rectification the data and its
correct value (art. 16), restriction its ground of art. 18.1 (a)–(d), objection the purposes objected to
(art. 21.1, processing not resting on a legal obligation). The API decides; this shapes the body and says by
each field what is missing before asking."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

RIGHTS = ("access", "rectification", "erasure", "restriction", "objection")
RECTIFIABLE = ("given_name", "first_surname", "second_surname", "birth_date", "email", "phone")
RESTRICTION_GROUNDS = ("accuracy-contested", "unlawful-processing", "needed-for-claims", "objection-pending")
MAX_NOTE = 1000


def objectable(terms: Mapping[str, Any]) -> list[str]:
    """The purposes of the published consent terms a person may object to: those that rest on no legal
    obligation (what ``functions/rgpd`` accepts for art. 21)."""
    return sorted(p["purpose"] for p in terms.get("purposes", []) if p.get("legal_obligation") is False)


def request_body(form: Mapping[str, str], t: Callable[..., str], purposes: list[str],
                 objected: list[str]) -> tuple[dict[str, Any] | None, dict[str, str]]:  # fmt: skip
    """The ``POST .../rgpd-requests`` body the form asks for, or the errors by field (``right``, ``value``,
    ``grounds``, ``purposes``); ``objected`` is the form's list of ticked purposes."""
    right = form.get("right", "")
    if right not in RIGHTS:
        return None, {"right": t("form.invalid_choice")}
    body: dict[str, Any] = {"right": right}
    if right == "rectification":
        field, value = form.get("field", "").strip(), form.get("value", "").strip()
        if field not in RECTIFIABLE or not value:
            return None, {"value": t("form.rectify_both")}
        body["fields"] = {field: value[:500]}
    if right == "restriction":
        grounds = form.get("grounds", "")
        if grounds not in RESTRICTION_GROUNDS:
            return None, {"grounds": t("form.restriction_grounds")}
        body["grounds"] = grounds
    if right == "objection":
        if not objected or any(p not in purposes for p in objected) or len(set(objected)) != len(objected):
            return None, {"purposes": t("form.objection_purposes")}
        body["purposes"] = objected
    if form.get("note", "").strip():
        body["note"] = form["note"].strip()[:MAX_NOTE]
    return body, {}
