"""The data platform's catalogue for platform engineers and compliance (issue 19, ADR 0036) at ``/desk/lake``: each
exported table with its description, owner, legal basis, retention, location, schema (which columns are pseudonyms)
and the fields each source drops; the event types not exported, each with its reason. Through the catalogue API
like any client (``GET /v1/lake/catalogue``): no store, no domain import.
"""

from __future__ import annotations

import flask

from functions.web.web import Page, PageContext, render


def catalogue_page(ctx: PageContext) -> flask.Response:
    """The catalogue, read-only: what leaves PIC for analytics, pseudonymised, and on what basis."""
    catalogue = ctx.api("GET", "/v1/lake/catalogue")
    return render(ctx, "desk/lake.html", catalogue=catalogue)


PAGES = [
    Page("/desk/lake", "GET", catalogue_page, "The data platform's catalogue: tables, schemas, legal basis", "admin"),
]
