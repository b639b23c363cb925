"""Bulk jobs, pure: the rows of a JSON or CSV request, their validation, the chunks they are stored in, and
the job's progress as its requester sees it. No store and no HTTP: ``handlers.submit_bulk`` and
``handlers.bulk_chunk`` do the writes, ``main.post_bulk`` reads the request body.

A job takes up to ``MAX_BULK_RECIPIENTS`` rows. A row that cannot be read or does not fit the template is
reported (the first ``MALFORMED_SHOWN`` of them) and the rest of the job goes on. The good rows are stored in
at most ``CHUNKS_MAX`` chunks (of at least ``CHUNK_MIN`` rows), one ``bulk.chunk.ready`` event each: the chunk
events and the job commit in one transaction (TransactWriteItems takes 100 items).
"""

from __future__ import annotations

import csv
import io
import uuid
from datetime import datetime
from typing import Any

import pydantic
from pydantic import BaseModel, ConfigDict, Field

from events.notification import Recipient
from functions.core import jsontext
from functions.core.errors import (
    MalformedRequestError,
    PayloadTooLargeError,
    UnsupportedMediaTypeError,
    ValidationError,
    pydantic_errors,
)
from functions.notification import templates
from functions.notification.service import direct_address

MAX_BULK_RECIPIENTS = 100_000
MAX_BULK_BYTES = 32 * 1024 * 1024
CHUNKS_MAX = 90  # chunk events + the job commit in one TransactWriteItems (limit 100)
CHUNK_MIN = 500
CHUNKS_PER_UNIT = 25  # chunks written ahead of the job, this many per transaction
MALFORMED_SHOWN = 1000
CSV_RECIPIENT_COLUMNS = ("citizen_id", "email", "phone")
CSV_RESERVED = (*CSV_RECIPIENT_COLUMNS, "reference")
CSV_TYPES = ("text/csv", "application/csv")

Rows = list[tuple[int, Any]]  # numbered from 1: the row's raw value, or the ValueError that made it unreadable


class BulkRow(BaseModel):
    model_config = ConfigDict(extra="forbid")

    recipient: Recipient
    personalisation: dict[str, Any] = Field(default_factory=dict)
    reference: str | None = Field(None, max_length=128)


def parse_request(mimetype: str, raw: bytes, template_arg: str) -> tuple[str, Rows]:
    """The template id and the raw rows of a JSON (``{"template", "recipients"}``) or CSV (``?template=``)
    bulk request."""
    if mimetype == "application/json":
        try:
            payload = jsontext.loads(raw)
        except jsontext.JsonTextError as exc:  # the same 400 as any JSON body (``functions.core.http``)
            raise MalformedRequestError(f"the body is not valid JSON: {exc}") from exc
        if not isinstance(payload, dict) or not isinstance(payload.get("recipients"), list):
            raise ValidationError(
                'send {"template", "recipients": [...]}',
                errors=[{"field": "recipients", "message": "a list of {recipient, personalisation}"}],
            )
        return str(payload.get("template") or ""), list(enumerate(payload["recipients"], start=1))
    if mimetype in CSV_TYPES:
        return template_arg, csv_rows(raw)
    raise UnsupportedMediaTypeError(f"send application/json or text/csv, not {mimetype or 'nothing'}")


def csv_rows(raw: bytes) -> Rows:
    """The rows of a CSV whose first line names its columns (one of them ``citizen_id``, ``email`` or
    ``phone``; ``reference``; the others are the template's fields). Empty cells are absent values."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise MalformedRequestError("the CSV is not UTF-8") from exc
    try:
        lines = list(csv.reader(io.StringIO(text)))
    except csv.Error as exc:  # e.g. a cell over the csv module's field limit (128 KiB)
        raise MalformedRequestError(f"the CSV cannot be read: {exc}") from exc
    header = lines[0] if lines else None
    if not header or not any(h.strip() in CSV_RECIPIENT_COLUMNS for h in header):
        raise ValidationError(
            "the CSV's first line names its columns, one of them citizen_id, email or phone",
            errors=[{"field": "header", "message": "needs a citizen_id, email or phone column"}],
        )
    names = [h.strip() for h in header]
    rows: Rows = []
    for number, cells in enumerate(lines[1:], start=1):
        if not cells:
            continue
        if len(cells) != len(names):
            rows.append((number, ValueError(f"{len(cells)} values for {len(names)} columns")))
            continue
        rows.append((number, _csv_row(dict(zip(names, (c.strip() for c in cells), strict=True)))))
    return rows


def _csv_row(values: dict[str, str]) -> dict[str, Any]:
    return {
        "recipient": {k: values[k] for k in CSV_RECIPIENT_COLUMNS if values.get(k)},
        "personalisation": {k: v for k, v in values.items() if k not in CSV_RESERVED and v != ""},
        "reference": values.get("reference") or None,
    }


def check_size(count: int) -> None:
    """At least one row, at most ``MAX_BULK_RECIPIENTS`` (413 beyond)."""
    if count > MAX_BULK_RECIPIENTS:
        raise PayloadTooLargeError(
            f"{count} recipients; a bulk request takes at most {MAX_BULK_RECIPIENTS}", recipients=count
        )
    if not count:
        raise ValidationError("no recipients", errors=[{"field": "recipients", "message": "at least one"}])


def validate_row(fields: tuple[str, ...], number: int, raw: Any) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """A row ready to store, or its per-row errors (the rest of the job goes on)."""
    if isinstance(raw, ValueError):
        return None, {"row": number, "errors": [{"field": "(row)", "message": str(raw)}]}
    try:
        row = BulkRow.model_validate(raw)
        templates.check_personalisation(fields, row.personalisation)
        direct_address(row.recipient)
    except pydantic.ValidationError as exc:
        return None, {"row": number, "errors": pydantic_errors(exc)}
    except ValidationError as exc:
        return None, {"row": number, "errors": exc.errors or [{"field": "(row)", "message": exc.detail}]}
    return {"row": number, **row.model_dump(exclude_none=True)}, None


def validate_rows(rows: Rows, fields: tuple[str, ...]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The good rows and the malformed ones' errors, in order."""
    good, malformed = [], []
    for number, raw in rows:
        row, error = validate_row(fields, number, raw)
        if row is not None:
            good.append(row)
        elif error is not None:
            malformed.append(error)
    return good, malformed


def chunked(rows: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """At most ``CHUNKS_MAX`` chunks of at least ``CHUNK_MIN`` rows (but the last)."""
    size = max(CHUNK_MIN, -(-len(rows) // CHUNKS_MAX))
    return [rows[i : i + size] for i in range(0, len(rows), size)]


def new_bulk_id() -> str:
    return f"blk-{uuid.uuid4()}"


def job_doc(
    bulk_id: str, template: templates.Template, total: int, good: list[dict[str, Any]], chunks: int,
    malformed: list[dict[str, Any]], requested_by: str, at: datetime,
) -> dict[str, Any]:  # fmt: skip
    return {
        "id": bulk_id,
        "template": template.id,
        "template_version": template.version,
        "total": total,
        "valid": len(good),
        "chunks": chunks,
        "malformed_count": len(malformed),
        "malformed": malformed[:MALFORMED_SHOWN],
        "requested_by": requested_by,
        "created_at": at.isoformat(),
    }


def progress_view(job: dict[str, Any], progress: dict[str, int]) -> dict[str, Any]:
    """The job as its requester sees it: deciding until every chunk is decided, then delivering until every
    accepted notification finished (delivered or failed), then done."""
    decided = progress.get("accepted", 0) + progress.get("not-allowed", 0)
    finished = progress["delivered"] + progress["failed"]
    state = "delivering" if progress["chunks_done"] == job["chunks"] else "deciding"
    if state == "delivering" and finished >= progress.get("accepted", 0):
        state = "done"
    keys = ("id", "template", "template_version", "total", "valid", "malformed_count", "created_at")
    return {
        **{k: job[k] for k in keys},
        "state": state,
        "decided": decided,
        "accepted": progress.get("accepted", 0),
        "not_allowed": progress.get("not-allowed", 0),
        "delivered": progress["delivered"],
        "failed": progress["failed"],
        "malformed": job["malformed"],
    }
