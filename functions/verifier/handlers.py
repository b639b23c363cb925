"""The verifier's use cases: ask for a presentation, take the holder's answer, read the verdict.

Each command returns ``Staged``; the entry point commits it. An answer is accepted once: the request is written
under the revision read, so of two answers at once one commits and the other, decided again, finds the request
answered (409). Reading a verdict that disclosed something records who read it and why, in the same table.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from functions.core.clock import Clock
from functions.core.errors import ForbiddenError
from functions.core.store import Staged, UnitOfWork
from functions.verifier import service
from functions.verifier.service import IssuerKeys, StatusLists, VerificationRequest, VerifierStore


@dataclass(frozen=True)
class VerifierPorts:
    """Everything the use cases need from outside: built once per process by ``bootstrap``."""

    store: VerifierStore
    clock: Clock
    issuers: IssuerKeys
    statuses: StatusLists
    base_url: str  # PIC_BASE_URL: the public origin the wallet answers to (client_id, response_uri)


@dataclass(frozen=True)
class Ask:
    card_type: str
    claims: list[list[str]]
    asked_by: str  # "<role>:<id>" of the agent or system asking
    purpose: str | None


@dataclass(frozen=True)
class Asked:
    request: VerificationRequest
    client_id: str
    request_link: str


def ask(cmd: Ask, ports: VerifierPorts) -> Staged[Asked]:
    """A new request for one card type and the claims the agent needs (validated against the card type)."""
    kind = service.card_type(cmd.card_type)
    claims = service.checked_claims(kind, cmd.claims)
    request = service.new_request(kind, claims, cmd.asked_by, cmd.purpose, ports.clock.now())
    uow = UnitOfWork()
    ports.store.stage_request(uow, request)
    asked = Asked(request, service.client_id(ports.base_url, request.id), service.request_link(ports.base_url, request))
    return Staged(uow, asked)


def respond(request_id: str, vp_token: str, state: str | None, ports: VerifierPorts) -> Staged[VerificationRequest]:
    """The holder's direct_post: the verdict recorded once (verified or refused with its reason)."""
    now = ports.clock.now()
    request = service.answerable(ports.store.fetch_request(request_id), request_id, now)
    if state is not None and state != request.id:
        raise service.PresentationResponseError("state is not this request's")
    presentation = service.presentation_of(vp_token)
    answered = service.decide(
        request, presentation, audience=service.client_id(ports.base_url, request.id), issuers=ports.issuers,
        statuses=ports.statuses, now=now,
    )  # fmt: skip
    uow = UnitOfWork()
    ports.store.stage_request(uow, answered)
    return Staged(uow, answered)


def find(request_id: str, ports: VerifierPorts) -> VerificationRequest:
    found = ports.store.fetch_request(request_id)
    if found is None:
        raise service.VerificationNotFoundError(f"no verification request {request_id[:64]!r}")
    return found


def result(request_id: str, reader: str, purpose: str | None, ports: VerifierPorts) -> Staged[dict[str, Any]]:
    """The verdict, to the one who asked only; a verdict with disclosed claims records this read."""
    request = find(request_id, ports)
    if request.asked_by != reader:
        raise ForbiddenError("only the agent who asked for this verification reads its result")
    now = ports.clock.now()
    uow = UnitOfWork()
    if request.state == "verified":
        ports.store.stage_read(uow, request, reader, purpose, now)
    body = service.view(request, now)
    if body["state"] == "pending":  # the link again, for the page that shows its QR code until the answer
        body["request_link"] = service.request_link(ports.base_url, request)
    return Staged(uow, body)
