"""The wallet micro-app of the citizen app (WAL, issue 17): the council's cards as verifiable credentials.

The pages read and write through the public API with the citizen's token, like every micro-app: which cards
they may get and why or why not (the issuer's Rego over their facts), the cards issued to them and their state,
and a credential offer (OpenID4VCI 1.0 §4.1, pre-authorized code with a transaction code) made on "Get the
card". The offer is shown as a QR code and a link for any conformant wallet, and handed to this browser's own
wallet, ``static/wallet.js``: the holder's keys are made in the browser (WebCrypto, not extractable) and never
leave it, so accepting an offer and presenting a card (OpenID4VP 1.0) happen there; the server never sees a
credential or a key. Without JavaScript the pages say so and the QR code still serves another wallet.
"""

from __future__ import annotations

import base64
import re
from typing import Any

import flask

from functions.web import i18n
from functions.web.api import ApiProblem
from functions.web.web import Page, PageContext, origin_of, redirect, render

CARD_TYPE = re.compile(r"^[a-z][a-z0-9-]{1,39}$")
CARD_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
MAX_COPIES = 10  # the issuer's batch_size (wal-design: batch_credential_issuance.batch_size)
DEFAULT_COPIES = 3  # a copy per presentation keeps verifiers from linking them (RFC 9901 §10.1); a few suffice
# the claims a council card may carry, each named in the person's language by wallet.js (wallet.claim.<path>)
CLAIMS = ("given_name", "family_name", "card_number", "age_equal_or_over.65", "birth_date", "district", "plate",
          "label", "sector")  # fmt: skip
# what wallet.js says, in the page's language (it has no catalog of its own: the page hands it these)
SCRIPT_TEXTS = (
    "working", "no_support", "tx_code_missing", "tx_code_format", "accepted", "accept_failed", "stored_none",
    "copies_left", "expires", "remove", "removed", "link_missing", "link_invalid", "link_not_allowed",
    "no_card", "asks", "verifier", "share", "decline", "declined", "sent", "refused", "all_used", "unknown_claim",
    "network", "card_of", "yes", "no", "continue", "verified", "storage_failed",
)  # fmt: skip
# the verifier's refusals a person can act on, said in their words (others: the verifier's detail)
REFUSALS = ("revoked", "suspended", "expired", "verification-answered", "verification-expired")


def _cards(answer: Any) -> list[dict[str, Any]]:
    """The cards answer as a list (the API's ``{"cards": [...]}``)."""
    cards = answer.get("cards", []) if isinstance(answer, dict) else answer
    return [card for card in cards or [] if isinstance(card, dict)]


def _script_texts(ctx: PageContext) -> dict[str, Any]:
    """The messages and claim names wallet.js shows, and the origins it may talk to (the page's CSP's too)."""
    return {
        "lang": ctx.lang,
        "messages": {key: ctx.t(f"wallet.js.{key}") for key in SCRIPT_TEXTS},
        "claims": {path: ctx.t(f"wallet.claim.{path}") for path in CLAIMS},
        "refusals": {slug: ctx.t(f"wallet.refusal.{slug}") for slug in REFUSALS},
        # besides the page's own: the public API host, where the issuer and the verifier answer (the CSP's connect-src)
        "origins": [origin for origin in (origin_of(ctx.ports.settings.api_url),) if origin],
    }


def wallet_page(ctx: PageContext, errors: dict[str, str] | None = None, status: int = 200) -> flask.Response:
    """Every card type: whether the person may get it and why (or why not), the cards issued to them and
    their state, and "Get the card"; this browser's wallet below (filled by wallet.js from IndexedDB)."""
    cards = _cards(ctx.api("GET", ctx.citizen_path("/wallet/cards")))
    done = ctx.request.args.get("done") if status == 200 else None
    return render(ctx, "wallet/cards.html", status, cards=cards, errors=errors or {}, copies=DEFAULT_COPIES,
                  max_copies=MAX_COPIES, texts=_script_texts(ctx), done=done)  # fmt: skip


def get_card(ctx: PageContext) -> flask.Response:
    """The "Get the card" button: a credential offer for this card type and number of copies. The page shows the offer
    (QR code and link for another wallet), the transaction code the person types into the wallet that takes
    the offer (OpenID4VCI 1.0 §3.5: the code travels by another channel than the offer), and hands the offer to
    wallet.js. Rendered in answer to the POST: the code is never in a URL or a history entry."""
    form = ctx.request.form
    card_type, copies = form.get("card_type", ""), form.get("copies", str(DEFAULT_COPIES))
    if not CARD_TYPE.match(card_type):
        return wallet_page(ctx, {"form": ctx.t("wallet.card_type_invalid")}, 422)
    if not copies.isdigit() or not 1 <= int(copies) <= MAX_COPIES:
        return wallet_page(ctx, {card_type: ctx.t("wallet.copies_invalid", max=MAX_COPIES)}, 422)
    try:
        offer = ctx.api("POST", ctx.citizen_path("/wallet/offers"), {"card_type": card_type, "copies": int(copies)})
    except ApiProblem as problem:
        if problem.status not in (404, 409, 422):
            raise
        said = i18n.translate_or(ctx.lang, f"wallet.problem.{problem.slug}", problem.detail)
        return wallet_page(ctx, {card_type: said}, problem.status)
    qr = _qr_data_uri(offer.get("qr_svg"))
    return render(ctx, "wallet/offer.html", offer=offer, copies=int(copies), qr=qr,
                  title=_title(ctx, card_type, offer), texts=_script_texts(ctx))  # fmt: skip


def give_up_card(ctx: PageContext, card_id: str) -> flask.Response:
    """The person gives a card up: the issuer revokes every copy (reason ``citizen-request``), wherever they are
    held, and the next verification of any of them says so. Final: the form says it and asks to confirm."""
    if not CARD_ID.match(card_id):
        return wallet_page(ctx, {"form": ctx.t("wallet.card_invalid")}, 422)
    if ctx.request.form.get("confirm") != "yes":
        return wallet_page(ctx, {f"held-{card_id}": ctx.t("wallet.give_up_confirm_missing")}, 422)
    try:
        ctx.api("POST", ctx.citizen_path(f"/wallet/cards/{card_id}/revoke"), {"reason": "citizen-request"})
    except ApiProblem as problem:
        if problem.status not in (404, 409, 422):
            raise
        said = i18n.translate_or(ctx.lang, f"wallet.problem.{problem.slug}", problem.detail)
        return wallet_page(ctx, {f"held-{card_id}": said}, problem.status)
    return redirect(f"/app/wallet?done=given-up#held-{card_id}")


def _qr_data_uri(svg: Any) -> str:
    """The API's QR code as an image source: an SVG in an ``<img>`` runs no script and needs no inline markup
    (the CSP's ``img-src data:``)."""
    if not isinstance(svg, str) or not svg.lstrip().startswith(("<svg", "<?xml")):
        return ""
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


def _title(ctx: PageContext, card_type: str, offer: dict[str, Any]) -> str:
    title = offer.get("title")
    if isinstance(title, dict) and isinstance(title.get(ctx.lang), str):
        return str(title[ctx.lang])
    return i18n.translate_or(ctx.lang, f"wallet.type.{card_type}", card_type)


def present_page(ctx: PageContext) -> flask.Response:
    """Presenting a card: the person pastes the verifier's ``openid4vp://`` link; wallet.js shows who asks and
    which claims, and on consent sends only those (OpenID4VP 1.0 direct_post). The keys are in this browser,
    so the page does nothing without JavaScript but say so."""
    return render(ctx, "wallet/present.html", texts=_script_texts(ctx))


PAGES = [
    Page("/app/wallet", "GET", wallet_page, "The cards the person may get and why, and those issued", app="wallet"),
    Page("/app/wallet/offers", "POST", get_card, "Get a card: the credential offer and its code", app="wallet"),
    Page(
        "/app/wallet/cards/<card_id>/give-up", "POST", give_up_card, "Give a card up: every copy revoked", app="wallet"
    ),
    Page("/app/wallet/present", "GET", present_page, "Present a card to a verifier (OpenID4VP)", app="wallet"),
]
