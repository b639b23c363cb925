"""The wallet micro-app's pages on fakes (``functions.web.wallet``): the cards with why or why not, "Get the
card" answered with the offer, its QR code as an image and its code (never in a URL), refusals at the card they
concern, and the texts and origins handed to the browser's wallet (``static/wallet.js``)."""

from __future__ import annotations

import base64
import html
import json
import re
from dataclasses import replace
from typing import Any

import pytest

from functions.web import service
from tests.unit.web.web_fakes import FakeHttp, FakeSessions, make_app, signed_session, visit

CARDS = {
    "cards": [
        {"type": "madrid-mayor", "title": {"es": "Tarjeta Madrid Mayor", "en": "Madrid Mayor card"},
         "vct": "urn:es:madrid:pic:card:madrid-mayor:1", "eligible": True,
         "reasons": [{"key": "age", "met": True, "es": "Tener 65 años o más", "en": "Being 65 or over"},
                     {"key": "registered", "met": True, "es": "Estar empadronado en Madrid", "en": "Registered"}],
         "held": [{"card_id": "card-1", "state": "revoked", "issued_at": "2026-11-01T10:00:00Z",
                   "expires_at": "2027-11-01T10:00:00Z", "copies": 3}]},
        {"type": "zbe", "title": {"es": "Autorización ZBE", "en": "ZBE authorisation"},
         "vct": "urn:es:madrid:pic:card:zbe:1", "eligible": False,
         "reasons": [{"key": "vehicle", "met": False, "es": "Tener un vehículo registrado",
                      "en": "Having a registered vehicle"}], "held": []},
    ]
}  # fmt: skip
OFFER = {
    "offer_id": "off-1",
    "card_type": "madrid-mayor",
    "credential_offer": {
        "credential_issuer": "http://127.0.0.1:8080/v1/wallet",
        "credential_configuration_ids": ["madrid-mayor"],
        "grants": {"urn:ietf:params:oauth:grant-type:pre-authorized_code": {
            "pre-authorized_code": "code-<1>", "tx_code": {"input_mode": "numeric", "length": 6}}},
    },
    "offer_link": "openid-credential-offer://?credential_offer=%7B%7D",
    "qr_svg": '<svg xmlns="http://www.w3.org/2000/svg"><rect width="1" height="1"/></svg>',
    "tx_code": "493817",
    "expires_at": "2026-12-04T15:10:00Z",
}  # fmt: skip
CARDS_PATH = "/v1/citizens/c-1/wallet/cards"
OFFERS_PATH = "/v1/citizens/c-1/wallet/offers"


@pytest.fixture
def signed() -> service.Session:
    return signed_session()


def _data(text: str, name: str) -> Any:
    match = re.search(rf"""data-{name}=(['"])(.*?)\1""", text)
    assert match, name
    return json.loads(html.unescape(match.group(2)))


def test_the_cards_say_why_or_why_not_and_only_an_eligible_one_can_be_asked_for(signed: service.Session) -> None:
    http = FakeHttp({("GET", CARDS_PATH): (200, CARDS)})
    page = visit(make_app(FakeSessions({signed.id: signed}), http), "/app/wallet", signed.id)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert 'id="card-madrid-mayor-eligible"' in text and "Puede obtenerla" in text
    assert "Ahora no puede obtenerla" in text
    assert 'id="card-zbe-reason-vehicle">Tener un vehículo registrado: <strong>no se cumple<' in text
    assert 'id="card-madrid-mayor-reason-age">Tener 65 años o más: <strong>se cumple<' in text
    assert 'id="get-madrid-mayor"' in text and 'id="get-zbe"' not in text
    assert 'id="held-card-1-state">Revocada<' in text
    # AND the browser's wallet gets its texts in the page's language, and the API host among the origins
    texts = _data(text, "texts")
    assert texts["lang"] == "es" and texts["claims"]["age_equal_or_over.65"] == "Tiene 65 años o más"
    assert texts["origins"] == ["http://127.0.0.1:8080"]  # PIC_API_URL's
    assert "connect-src 'self' http://127.0.0.1:8080;" in page.headers["Content-Security-Policy"]
    # AND the navigation names the micro-app
    assert 'id="nav-wallet" aria-current="page"' in text


def test_get_the_card_shows_the_offer_its_code_and_hands_the_offer_to_the_browsers_wallet(
    signed: service.Session,
) -> None:
    http = FakeHttp({("POST", OFFERS_PATH): (201, OFFER)})
    app = make_app(FakeSessions({signed.id: signed}), http)
    form = {"csrf": signed.csrf, "card_type": "madrid-mayor", "copies": "4"}
    page = visit(app, "/app/wallet/offers", signed.id, "POST", form)
    assert page.status_code == 200
    assert http.sent == [(OFFERS_PATH, {"card_type": "madrid-mayor", "copies": 4})]
    text = page.get_data(as_text=True)
    assert 'id="tx-code-shown">493817<' in text and 'for="tx-code"' in text
    assert _data(text, "offer") == OFFER["credential_offer"] and 'data-copies="4"' in text
    # the QR code is an image of the API's SVG (no inline markup), the link is for another wallet
    src = re.search(r'id="offer-qr"', text) and re.search(r'src="data:image/svg\+xml;base64,([^"]+)"', text)
    assert src and base64.b64decode(src.group(1)).decode() == OFFER["qr_svg"]
    assert 'href="openid-credential-offer://?credential_offer=%7B%7D"' in text
    assert "Tarjeta Madrid Mayor" in text


@pytest.mark.parametrize(
    ("form", "error"),
    [({"card_type": "Madrid Mayor!"}, 'id="form-error"'), ({"card_type": "madrid-mayor", "copies": "11"},
                                                            'id="madrid-mayor-error"')],
)  # fmt: skip
def test_a_malformed_request_is_refused_at_the_form_and_asks_the_api_nothing(
    signed: service.Session, form: dict[str, str], error: str
) -> None:
    http = FakeHttp({("GET", CARDS_PATH): (200, CARDS)})
    page = visit(make_app(FakeSessions({signed.id: signed}), http), "/app/wallet/offers", signed.id, "POST",
                 {"csrf": signed.csrf, **form})  # fmt: skip
    assert page.status_code == 422 and error in page.get_data(as_text=True)
    assert [(method, path) for method, path, _ in http.asked] == [("GET", CARDS_PATH)]


def test_the_apis_not_eligible_is_said_at_the_card(signed: service.Session) -> None:
    refusal = {"type": "/problems/not-eligible", "title": "Not eligible", "status": 422, "detail": "age under 65"}
    http = FakeHttp({("GET", CARDS_PATH): (200, CARDS), ("POST", OFFERS_PATH): (422, refusal)})
    page = visit(make_app(FakeSessions({signed.id: signed}), http), "/app/wallet/offers", signed.id, "POST",
                 {"csrf": signed.csrf, "card_type": "madrid-mayor", "copies": "1"})  # fmt: skip
    text = page.get_data(as_text=True)
    assert page.status_code == 422 and 'id="madrid-mayor-error"' in text
    assert "los motivos están en la tarjeta" in text


def test_the_present_page_needs_no_api_call_and_says_what_it_needs(signed: service.Session) -> None:
    http, english = FakeHttp({}), replace(signed, lang="en")
    page = visit(make_app(FakeSessions({signed.id: english}), http), "/app/wallet/present", signed.id)
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and http.asked == []
    assert 'for="request-link"' in text and 'id="wallet-status"' in text and "<noscript>" in text
    assert _data(text, "texts")["messages"]["share"] == "Send only these data"


def test_the_wallet_is_off_when_its_flag_is(signed: service.Session, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("functions.web.apps.flags.enabled", lambda app, context: app != "wallet")
    http = FakeHttp({})
    assert visit(make_app(FakeSessions({signed.id: signed}), http), "/app/wallet", signed.id).status_code == 404
    assert http.asked == []


VALID = {**CARDS, "cards": [{**CARDS["cards"][0], "held": [{**CARDS["cards"][0]["held"][0], "state": "valid"}]}]}
REVOKE_PATH = "/v1/citizens/c-1/wallet/cards/card-1/revoke"


def test_giving_a_card_up_asks_to_confirm_then_revokes_every_copy_at_the_citizens_request(
    signed: service.Session,
) -> None:
    http = FakeHttp({("GET", CARDS_PATH): (200, VALID), ("POST", REVOKE_PATH): (200, {"state": "revoked"})})
    app = make_app(FakeSessions({signed.id: signed}), http)
    text = visit(app, "/app/wallet", signed.id).get_data(as_text=True)
    assert 'id="give-up-card-1"' in text and 'id="give-up-card-1-confirm"' in text
    # WHEN the box is not ticked THEN the form says so at the card and the API revokes nothing
    page = visit(app, "/app/wallet/cards/card-1/give-up", signed.id, "POST", {"csrf": signed.csrf})
    assert page.status_code == 422 and 'id="held-card-1-error"' in page.get_data(as_text=True)
    assert http.sent == []
    # WHEN it is THEN every copy is revoked, the reason the citizen's request, and the page says it is done
    form = {"csrf": signed.csrf, "confirm": "yes"}
    page = visit(app, "/app/wallet/cards/card-1/give-up", signed.id, "POST", form)
    assert page.status_code == 303 and page.headers["Location"].startswith("/app/wallet?done=given-up")
    assert http.sent == [(REVOKE_PATH, {"reason": "citizen-request"})]
    done = visit(app, "/app/wallet?done=given-up", signed.id).get_data(as_text=True)
    assert 'id="done"' in done and "ninguna de sus copias" in done


def test_a_revoked_card_offers_no_give_up(signed: service.Session) -> None:
    http = FakeHttp({("GET", CARDS_PATH): (200, CARDS)})
    text = visit(make_app(FakeSessions({signed.id: signed}), http), "/app/wallet", signed.id).get_data(as_text=True)
    assert 'id="held-card-1-state">Revocada<' in text and 'id="give-up-card-1"' not in text
