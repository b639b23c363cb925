"""The verifier (WAL, issue 17) entry point ``verifier_http`` (Knative Service ``pic-verifier``): thin. Parse, call
the use case, answer.

- agents and systems: the card types and the claims a request may ask for (``verifier.types``); with a purpose, a
  new request → its ``openid4vp://`` link and QR code (``verifier.request``); the verdict, to the one who asked
  (``verifier.result``);
- the holder's wallet (``verifier.respond``, without signing in): the ``direct_post`` of its presentation
  (OpenID4VP 1.0 §8.2, ``application/x-www-form-urlencoded``), once.
"""

from __future__ import annotations

from typing import Any

import functions_framework
from flask import Request, Response
from pydantic import BaseModel, ConfigDict, Field

from functions.core.errors import UnsupportedMediaTypeError
from functions.core.http import HttpFunction, Reply, RequestContext, Route
from functions.core.qr import qr_svg
from functions.verifier import handlers, service
from functions.verifier.bootstrap import ports

NAME = "pic-verifier"
FORM = "application/x-www-form-urlencoded"
MAX_RESPONSE_BYTES = 64 * 1024  # a presentation of a few claims is 2-4 KB


def _who(ctx: RequestContext) -> str:
    return f"{ctx.subject.role}:{ctx.subject.id}"


def get_card_types(ctx: RequestContext) -> Reply:
    """What a request may ask for: each card type, its vct and its claims by path, with labels es/en."""
    kinds = [{"card_type": k.id, "title": k.title, "vct": k.vct,
              "claims": [{"path": list(path), "label": label} for path, label in k.claims.items()]}
             for k in service.CARD_TYPES.values()]  # fmt: skip
    return Reply(200, {"card_types": kinds})


class VerificationRequestBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    card_type: str = Field(max_length=64, examples=["madrid-mayor"])
    claims: list[list[str]] = Field(min_length=1, max_length=service.MAX_CLAIMS,
                                    examples=[[["age_equal_or_over", "65"]]])  # fmt: skip


def post_request(ctx: RequestContext, body: VerificationRequestBody) -> Reply:
    """A request for a presentation: the link and QR code the holder's wallet opens."""
    cmd = handlers.Ask(body.card_type, body.claims, _who(ctx), ctx.purpose)

    def reply(asked: handlers.Asked) -> Reply:
        request = asked.request
        answer = {"request_id": request.id, "nonce": request.nonce, "client_id": asked.client_id,
                  "request_link": asked.request_link, "qr_svg": qr_svg(asked.request_link, "OpenID4VP"),
                  "card_type": request.card_type, "expires_at": request.expires_at.isoformat()}  # fmt: skip
        return Reply(201, answer, {"Location": f"/v1/verifier/requests/{request.id}"})

    return ctx.run(lambda: handlers.ask(cmd, ports()), reply)


def get_request(ctx: RequestContext, request_id: str) -> Reply:
    """The verdict: pending, verified (the claims disclosed) or refused (the reason), with every check."""
    return ctx.run(lambda: handlers.result(request_id, _who(ctx), ctx.purpose, ports()), lambda body: Reply(200, body))


def post_response(ctx: RequestContext, request_id: str) -> Reply:
    """The holder's answer (direct_post): 200 with the verdict's state, recorded once."""
    if ctx.request.mimetype != FORM:
        raise UnsupportedMediaTypeError(f"send Content-Type: {FORM} (OpenID4VP 1.0 §8.2 direct_post)")
    form = ctx.request.form
    vp_token = form.get("vp_token")
    if not vp_token:
        raise service.PresentationResponseError("no vp_token in the response")

    def reply(answered: service.VerificationRequest) -> Reply:
        body: dict[str, Any] = {"state": answered.state}
        if answered.reason:
            body |= {"reason": answered.reason, "detail": answered.detail}
        return Reply(200, body, {"Cache-Control": "no-store"})

    return ctx.run(lambda: handlers.respond(request_id, vp_token, form.get("state"), ports()), reply)


REQUEST = "/v1/verifier/requests/<request_id>"

ROUTES = [
    Route("/v1/verifier/card-types", "GET", get_card_types, "The card types and claims a request may ask for",
          action="verifier.types"),
    Route("/v1/verifier/requests", "POST", post_request, "Ask for a presentation (OpenID4VP): its link and QR code",
          request_model=VerificationRequestBody, status=201, action="verifier.request",
          links={"request_id": "/request_id"}),
    Route(REQUEST, "GET", get_request, "The verdict of a request: each check, the claims disclosed",
          action="verifier.result"),
    Route("/v1/verifier/responses/<request_id>", "POST", post_response,
          "The holder's presentation (OpenID4VP direct_post, form-encoded), once", action="verifier.respond",
          anonymous=True, max_body_bytes=MAX_RESPONSE_BYTES),
]  # fmt: skip

http_api = HttpFunction(NAME, ROUTES)


@functions_framework.http
def verifier_http(request: Request) -> Response:
    return http_api(request)
