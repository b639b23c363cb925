"""Wallet (WAL, issue 17) entry points: thin. Parse, map to a command, call the use case, answer.

- ``wallet_http`` (Knative Service ``pic-wallet``):
  the citizen's side (signed in, acting on ``<citizen_id>``): the cards with eligibility and why, offers,
  revoke/suspend/reinstate, grants; the admin's card types;
  the OpenID4VCI side (public for the kernel: the wallet is its own authorization server): issuer metadata,
  OAuth AS metadata, JWT VC issuer metadata (path-inserted ``/.well-known/...`` URLs, OpenID4VCI §12.2.2,
  RFC 8414 §3, SD-JWT VC §5), token, nonce, credential, and the status lists.
- ``wallet_events`` (``pic-wallet-events``): ``citizen.updated`` (Padrón facts), ``card.granted`` (areas'
  grants), ``rgpd.request.opened``.
"""

from __future__ import annotations

from typing import Any, Literal

import functions_framework
from cloudevents.http import CloudEvent
from flask import Request, Response
from pydantic import BaseModel, ConfigDict, Field

from events.citizen import CitizenUpdated
from events.rgpd import RgpdRequestOpened
from events.wallet import CARD_TYPE_PATTERN, CardGranted
from functions.core.cloudevent import EventContext, EventFunction
from functions.core.errors import PicError
from functions.core.http import HttpFunction, Reads, Reply, RequestContext, Route, parse_json
from functions.core.retry import retry_on_conflict
from functions.core.store import UnitOfWork
from functions.wallet import handlers, service
from functions.wallet.bootstrap import ports

NAME = "pic-wallet"
NO_STORE = {"Cache-Control": "no-store"}  # RFC 6749 §5.1: token answers are never cached
MAX_PROOF_BODY = 64 * 1024  # ten proofs of ~1 KiB each, and room


class OfferBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    card_type: str = Field(pattern=CARD_TYPE_PATTERN, examples=["madrid-mayor"])
    copies: int = Field(1, ge=1, le=service.MAX_COPIES)


class ChangeBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str | None = Field(None, min_length=1, max_length=200)


class GrantBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    card_type: str = Field(pattern=CARD_TYPE_PATTERN)
    reason: str = Field(min_length=1, max_length=200)
    claims: dict[str, str] = Field(default_factory=dict, max_length=5)


def _citizen_reply(cards: list[dict[str, Any]]) -> dict[str, Any]:
    return {"cards": cards}


def get_cards(ctx: RequestContext, citizen_id: str) -> Reply:
    """Every card type: eligible or not and why (``policies/wallet``), and the cards of it the citizen holds."""
    return Reply(200, _citizen_reply(handlers.wallet_cards(citizen_id, ports())))


def cards_summary(view: dict[str, Any]) -> dict[str, Any]:
    """Which cards the citizen holds and their state: not why they are eligible (facts such as age)."""
    return {
        "cards": [{"type": c["type"], "held": [{"state": h["state"]} for h in c["held"]]} for c in view["cards"]],
        "view": "summary",
    }


def post_offer(ctx: RequestContext, citizen_id: str, body: OfferBody) -> Reply:
    """A credential offer for an eligible citizen: link, QR and the tx_code shown only to them (OpenID4VCI §4.1)."""
    cmd = handlers.MakeOffer(citizen_id, body.card_type, body.copies)
    return ctx.run(
        lambda: handlers.make_offer(cmd, ports()), lambda made: Reply(201, handlers.offer_view(made, ports()), NO_STORE)
    )


def _change(action: Literal["revoke", "suspend", "reinstate"]) -> Any:
    def change(ctx: RequestContext, citizen_id: str, card_id: str, body: ChangeBody) -> Reply:
        cmd = handlers.ChangeCard(citizen_id, card_id, action, body.reason)
        step = lambda: handlers.change_card(cmd, ports(), ctx.traceparent)  # noqa: E731
        return ctx.run(step, lambda card: Reply(200, service.held_view(card)))

    change.__name__ = f"post_{action}"
    change.__doc__ = f"{action.capitalize()} every copy of the card: its status bits flip, the lists republish."
    return change


def post_grant(ctx: RequestContext, citizen_id: str, body: GrantBody) -> Reply:
    """An agent (with a purpose) or an area's system grants a card type the Padrón cannot tell."""
    cmd = handlers.Grant(citizen_id, body.card_type, body.reason, dict(body.claims))
    return ctx.run(lambda: handlers.grant(cmd, ports(), ctx.traceparent), lambda done: Reply(201, done))


def get_card_types(ctx: RequestContext) -> Reply:
    return Reply(200, {"card_types": [service.type_view(t) for t in handlers.card_types(ports()).values()]})


def put_card_type(ctx: RequestContext, card_type: str, body: service.CardTypeInput) -> Reply:
    """An admin's edit of a card type at the version read (409 ``card-type-changed`` if stale)."""
    return ctx.run(lambda: handlers.edit_type(card_type, body, ports()), lambda t: Reply(200, service.type_view(t)))


# ---- OpenID4VCI (public for the kernel) --------------------------------------------------------------


def get_issuer_metadata(ctx: RequestContext) -> Reply:
    return Reply(200, handlers.issuer_metadata(ports()), {"Cache-Control": "public, max-age=300"})


def get_as_metadata(ctx: RequestContext) -> Reply:
    return Reply(200, handlers.authorization_server_metadata(ports()), {"Cache-Control": "public, max-age=300"})


def get_jwt_vc_issuer(ctx: RequestContext) -> Reply:
    return Reply(200, handlers.jwt_vc_issuer(ports()), {"Cache-Control": "public, max-age=300"})


def _form(request: Request) -> dict[str, str]:
    """The token request's form (RFC 6749 §4.1.3: application/x-www-form-urlencoded), each field once."""
    if request.mimetype != "application/x-www-form-urlencoded":
        raise service.InvalidRequestError("send Content-Type: application/x-www-form-urlencoded")
    form = request.form
    if any(len(form.getlist(name)) > 1 for name in form):
        raise service.InvalidRequestError("each parameter once (RFC 6749 §3.1)")
    return {name: form[name] for name in form}


def post_token(ctx: RequestContext) -> Reply:
    """OpenID4VCI §6: the pre-authorized code and tx_code for an access token (a wrong tx_code costs a try)."""
    form = _form(ctx.request)
    code, tx_code = form.get("pre-authorized_code"), form.get("tx_code")
    if not code or tx_code is None:
        raise service.InvalidRequestError("pre-authorized_code and tx_code are required")
    cmd = handlers.ExchangeCode(form.get("grant_type", ""), code, tx_code)

    def attempt() -> Reply:
        staged = handlers.exchange_code(cmd, ports())
        if isinstance(staged.result, PicError):
            staged.unit.commit()  # the spent try counts, then the refusal is answered
            raise staged.result
        done = staged.result
        body = {"access_token": done.access_token, "token_type": "Bearer", "expires_in": done.expires_in}
        return ctx.commit(staged.unit, Reply(200, body, NO_STORE))

    return retry_on_conflict(attempt, what="POST /v1/wallet/oid4vci/token")


def post_nonce(ctx: RequestContext) -> Reply:
    """OpenID4VCI §7: a fresh c_nonce (single use, 5 minutes)."""
    return ctx.run(lambda: handlers.new_nonce(ports()), lambda nonce: Reply(200, {"c_nonce": nonce}, NO_STORE))


def _bearer(request: Request) -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise service.InvalidTokenError("send Authorization: Bearer <the access token of the token endpoint>")
    return token.strip()


class CredentialRequest(BaseModel):
    """OpenID4VCI §8.2: the configuration and the key proofs (``proofs.jwt``: one per copy)."""

    model_config = ConfigDict(extra="ignore")  # §8.2: unknown members are ignored
    credential_configuration_id: str = Field(min_length=1, max_length=64)
    proofs: dict[Literal["jwt"], list[str]]


def post_credential(ctx: RequestContext) -> Reply:
    """OpenID4VCI §8: one SD-JWT VC per key proof, each with its own status index; the token once."""
    token = _bearer(ctx.request)
    if ctx.request.mimetype != "application/json":
        raise service.InvalidRequestError("send Content-Type: application/json")
    try:
        body = CredentialRequest.model_validate(parse_json(ctx.request.get_data(cache=True)))
    except (ValueError, PicError) as exc:
        raise service.InvalidRequestError(f"the credential request is not valid: {exc}") from exc
    proofs = body.proofs.get("jwt") or []
    if not 1 <= len(proofs) <= service.MAX_COPIES or not all(isinstance(p, str) and len(p) < 8192 for p in proofs):
        raise service.InvalidProofError(f"proofs.jwt: 1..{service.MAX_COPIES} key proofs")
    cmd = handlers.IssueCredentials(token, body.credential_configuration_id, proofs)
    return ctx.run(
        lambda: handlers.issue_credentials(cmd, ports(), ctx.traceparent),
        lambda issued: Reply(200, {"credentials": [{"credential": c} for c in issued.credentials]}, NO_STORE),
    )


def get_status_list(ctx: RequestContext, list_id: str) -> Reply:
    """The Status List Token (draft-ietf-oauth-status-list §8): cached ``ttl`` seconds by verifiers."""
    token = handlers.status_list_token(list_id, ports())
    headers = {"Content-Type": "application/statuslist+jwt", "Cache-Control": f"public, max-age={service.STATUS_TTL}"}
    return Reply(200, token.encode(), headers)


WALLET = "/v1/wallet"
ROUTES = [
    Route("/.well-known/openid-credential-issuer/v1/wallet", "GET", get_issuer_metadata,
          "OpenID4VCI credential issuer metadata (the card types as credential configurations)", public=True),
    Route("/.well-known/oauth-authorization-server/v1/wallet", "GET", get_as_metadata,
          "OAuth authorization server metadata of the wallet issuer (pre-authorized code grant)", public=True),
    Route("/.well-known/jwt-vc-issuer/v1/wallet", "GET", get_jwt_vc_issuer,
          "SD-JWT VC issuer metadata: every key still verifying", public=True),
    Route(f"{WALLET}/oid4vci/token", "POST", post_token,
          "OpenID4VCI token endpoint: pre-authorized code and tx_code for a single-use access token", public=True,
          max_body_bytes=4096),
    Route(f"{WALLET}/oid4vci/nonce", "POST", post_nonce, "OpenID4VCI nonce endpoint (single use, 5 minutes)",
          public=True),
    Route(f"{WALLET}/oid4vci/credential", "POST", post_credential,
          "OpenID4VCI credential endpoint (Bearer access token; one SD-JWT VC per key proof)", public=True,
          max_body_bytes=MAX_PROOF_BODY),
    Route(f"{WALLET}/status/<list_id>", "GET", get_status_list, "A Token Status List of the wallet's cards",
          public=True),
    Route(f"{WALLET}/card-types", "GET", get_card_types, "The card types (data, versioned)", public=True),
    Route(f"{WALLET}/card-types/<card_type>", "PUT", put_card_type,
          "Edit a card type at the version read (optimistic concurrency)", request_model=service.CardTypeInput,
          action="wallet.card-type.edit"),
    Route("/v1/citizens/<citizen_id>/wallet/cards", "GET", get_cards,
          "The card types with the citizen's eligibility and why, and the cards held", action="wallet.cards.read",
          reads=Reads("wallet", ("wallet",), cards_summary), app="wallet"),
    Route("/v1/citizens/<citizen_id>/wallet/offers", "POST", post_offer,
          "A credential offer (link, QR, tx_code) of a card the citizen is eligible for", request_model=OfferBody,
          status=201, action="wallet.offer", app="wallet"),
    Route("/v1/citizens/<citizen_id>/wallet/cards/<card_id>/revoke", "POST", _change("revoke"),
          "Revoke every copy of a card (reason: eligibility-lost, death, error, citizen-request)",
          request_model=ChangeBody, idempotent_writes=True, action="wallet.card.revoke"),
    Route("/v1/citizens/<citizen_id>/wallet/cards/<card_id>/suspend", "POST", _change("suspend"),
          "Suspend every copy of a card (types that allow it)", request_model=ChangeBody, idempotent_writes=True,
          action="wallet.card.suspend"),
    Route("/v1/citizens/<citizen_id>/wallet/cards/<card_id>/reinstate", "POST", _change("reinstate"),
          "Reinstate a suspended card", request_model=ChangeBody, idempotent_writes=True,
          action="wallet.card.suspend"),
    Route("/v1/citizens/<citizen_id>/wallet/grants", "POST", post_grant,
          "Grant the citizen a card type an area recognises (entrepreneur, hospitality, vehicle…)",
          request_model=GrantBody, status=201, idempotent_writes=True, action="wallet.grant"),
]  # fmt: skip

http_api = HttpFunction(NAME, ROUTES)


@functions_framework.http
def wallet_http(request: Request) -> Response:
    return http_api(request)


# ---- events ----------------------------------------------------------------------------------------


def on_citizen_updated(ctx: EventContext, data: Any) -> UnitOfWork:
    assert isinstance(data, CitizenUpdated)
    return handlers.project_citizen(data, ports(), ctx.traceparent)


def on_card_granted(ctx: EventContext, data: Any) -> UnitOfWork:
    assert isinstance(data, CardGranted)
    return handlers.project_grant(data, ports(), ctx.traceparent)


def on_rgpd_request_opened(ctx: EventContext, data: Any) -> UnitOfWork:
    assert isinstance(data, RgpdRequestOpened)
    return handlers.answer_rights(data, ports(), ctx.traceparent)


event_api = EventFunction(
    "pic-wallet-events",
    {
        "es.madrid.pic.citizen.updated.v1": on_citizen_updated,
        "es.madrid.pic.card.granted.v1": on_card_granted,
        "es.madrid.pic.rgpd.request.opened.v1": on_rgpd_request_opened,
    },
)


@functions_framework.cloud_event
def wallet_events(event: CloudEvent) -> None:
    event_api(event)
