"""Legacy batch adapters (INTG, issue 19) entry points: thin.

``intake_http`` (Knative Service ``pic-intake``), for the area systems and the platform's engineers
(``intake.submit``, ``intake.read``: systems and administrators):

- ``POST /v1/intake/<system>/files?name=<file name>``: the file's bytes as the body, exactly as the system wrote them
  (its declared encoding is checked by the adapter, not here). Put in the adapters' inbox and answered ``202`` with
  the file's id and its report's address; the inbox loads it within seconds (a large extract: drop it in the inbox
  or the bucket directly);
- ``GET /v1/intake/files/<file_id>``: its report (queued, done or refused; loaded, unchanged, refused; the bad
  lines with their reasons — their raw text only to the systems, since an administrator sees no personal data);
- ``GET /v1/intake/files?system=&limit=``: the newest reports, summarised.
"""

from __future__ import annotations

from typing import Any

import functions_framework
from flask import Request, Response
from pydantic import BaseModel, ConfigDict, Field

from functions.core.errors import MalformedRequestError
from functions.core.http import HttpFunction, Reply, RequestContext, Route, parse_query
from functions.intake.bootstrap import inbox, ports
from functions.intake.job import system_layout
from functions.intake.service import IntakeFileNotFoundError, IntakeFileRefusedError, Report, file_id

NAME = "pic-intake"
MAX_FILE_BODY = 8 * 1024 * 1024  # about 27,000 Padrón records; a whole extract goes to the inbox or the bucket
FILE_ID = r"^[a-z-]{3,40}-[0-9a-f]{20}$"


class SubmitQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(
        min_length=5,
        max_length=120,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*\.[A-Za-z]{3,4}$",
        description="the file's name; its extension says the format (.txt/.dat fixed-width, .csv, .json)",
        examples=["padron-2026-12.txt"],
    )


class ListQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    system: str | None = Field(None, pattern=r"^[a-z-]{3,40}$")
    limit: int = Field(20, ge=1, le=100)


def post_file(ctx: RequestContext, system: str) -> Reply:
    """Queue an area system's file for its adapter: 202, the file's id and where its report will be."""
    lay = system_layout(system)
    query = parse_query(ctx.request, SubmitQuery)
    if lay.format_for(query.name) is None:
        raise IntakeFileRefusedError(f"{system} sends {', '.join(lay.extensions)} files, not {query.name}")
    if (ctx.request.content_length or 0) > MAX_FILE_BODY:
        raise MalformedRequestError(f"the body is larger than {MAX_FILE_BODY} bytes: drop the file in the inbox")
    content = ctx.request.get_data()
    if not content:
        raise IntakeFileRefusedError("the body is empty: send the file's bytes")
    fid = file_id(system, content)
    store = ports().store
    report = store.fetch_report(fid)
    if report is None or report.status != "queued":
        runs = report.runs if report else 0
        received = report.received_at if report else ports().clock.now()
        report = Report(fid, system, query.name, received, runs=runs)
        store.put_report(report)
    stored = inbox().put(system, query.name, content)
    location = f"/v1/intake/files/{fid}"
    body = {"file_id": fid, "system": system, "name": stored, "status": "queued", "report": location}
    return Reply(202, body, {"Location": location})


def get_file(ctx: RequestContext, file_id: str) -> Reply:
    report = ports().store.fetch_report(file_id)
    if report is None:
        raise IntakeFileNotFoundError(f"no report of a file {file_id}")
    return Reply(200, report.as_json(raw=ctx.subject.role == "system"))


def get_files(ctx: RequestContext) -> Reply:
    query = parse_query(ctx.request, ListQuery)
    if query.system:
        system_layout(query.system)
    reports = ports().store.fetch_reports(query.system, query.limit)
    files: list[dict[str, Any]] = [r.summary() for r in reports]
    return Reply(200, {"files": files})


ROUTES = [
    Route(
        "/v1/intake/<system>/files",
        "POST",
        post_file,
        "Submit an area system's file (Padrón, Tributos, Multas, Cita Previa) to its adapter; the report follows",
        status=202,
        action="intake.submit",
        max_body_bytes=MAX_FILE_BODY,
        links={"file_id": "/file_id"},
    ),
    Route(
        "/v1/intake/files/<file_id>",
        "GET",
        get_file,
        "A file's report: loaded, unchanged, refused, and each bad line with its reason",
        action="intake.read",
    ),
    Route("/v1/intake/files", "GET", get_files, "The newest files' reports, summarised", action="intake.read"),
]

http_api = HttpFunction(NAME, ROUTES)


@functions_framework.http
def intake_http(request: Request) -> Response:
    return http_api(request)
