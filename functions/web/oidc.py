"""OpenID Connect authorization-code flow with PKCE, as a confidential client (client id and secret).

The issuer is configuration (``PIC_OIDC_ISSUER``): its discovery document names the endpoints, so Cl@ve or
the council's IdP replaces the dev IdP without code. The ID token is verified (signature by the issuer's
JWKS, issuer, audience, expiry, nonce) before a session is signed in; the access token is kept server-side
and sent only to the API.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import jwt
import requests

from functions.core.settings import Settings
from functions.web.service import Person, Session, SignInError, pkce_challenge

TIMEOUT = (2.0, 10.0)


@dataclass(frozen=True)
class SignedIn:
    person: Person
    access_token: str
    expires_at: datetime


class OidcClient:
    def __init__(self, settings: Settings, http: requests.Session) -> None:
        self.issuer = settings.oidc_issuer.rstrip("/")
        self.client_id = settings.oidc_client_id
        self.client_secret = settings.oidc_client_secret
        self.redirect_uri = settings.oidc_redirect_uri
        self.http = http
        self._discovery: dict[str, Any] | None = None
        self._jwks: jwt.PyJWKClient | None = None

    def discovery(self) -> dict[str, Any]:
        """The issuer's ``/.well-known/openid-configuration``, read once per process."""
        if self._discovery is None:
            try:
                answer = self.http.get(f"{self.issuer}/.well-known/openid-configuration", timeout=TIMEOUT)
                answer.raise_for_status()
                found = answer.json()
            except (requests.RequestException, ValueError) as exc:
                raise SignInError(f"the identity provider is not answering ({type(exc).__name__})") from exc
            if found.get("issuer", "").rstrip("/") != self.issuer:
                raise SignInError("the identity provider's discovery names another issuer")
            self._discovery = found
        return self._discovery

    def authorize_url(self, session: Session) -> str:
        """Where the browser goes to sign in: code flow, S256 challenge, state and nonce of this session."""
        query = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": self.redirect_uri,
            "scope": "openid",
            "state": session.state,
            "nonce": session.nonce,
            "code_challenge": pkce_challenge(session.verifier),
            "code_challenge_method": "S256",
            "ui_locales": session.lang,
        }
        if session.return_to.startswith("/desk/"):
            query["login_hint"] = "agent"  # OIDC's hint: the council's IdP shows its agents' sign-in
        return f"{self.discovery()['authorization_endpoint']}?{urlencode(query)}"

    def exchange(self, session: Session, code: str) -> SignedIn:
        """The code for tokens (with the PKCE verifier), the ID token verified against this session's nonce."""
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": self.redirect_uri,
            "code_verifier": session.verifier,
            "client_id": self.client_id,
        }
        try:
            answer = self.http.post(
                self.discovery()["token_endpoint"],
                data=form,
                auth=(self.client_id, self.client_secret),
                timeout=TIMEOUT,
            )
            tokens = answer.json()
        except (requests.RequestException, ValueError) as exc:
            raise SignInError(f"the identity provider's token endpoint failed ({type(exc).__name__})") from exc
        if answer.status_code != 200 or not isinstance(tokens, dict) or "access_token" not in tokens:
            error = tokens.get("error", answer.status_code) if isinstance(tokens, dict) else answer.status_code
            raise SignInError(f"the identity provider refused the code ({error})")
        claims = self._verify_id_token(str(tokens.get("id_token", "")), session.nonce)
        expires_in = int(tokens.get("expires_in", 3600))
        return SignedIn(
            person=person_of(claims),
            access_token=str(tokens["access_token"]),
            expires_at=datetime.fromtimestamp(int(claims.get("iat", 0)) + expires_in, UTC),
        )

    def _verify_id_token(self, token: str, nonce: str) -> dict[str, Any]:
        if self._jwks is None:
            self._jwks = jwt.PyJWKClient(self.discovery()["jwks_uri"], cache_keys=True)
        try:
            key = self._jwks.get_signing_key_from_jwt(token)
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=["RS256"],
                audience=self.client_id,
                issuer=self.discovery()["issuer"],
                options={"require": ["exp", "iat", "sub", "nonce"]},
            )
        except jwt.PyJWTError as exc:
            raise SignInError(f"the ID token is not valid ({type(exc).__name__})") from exc
        if claims.get("nonce") != nonce:
            raise SignInError("the ID token is not for this sign-in (nonce)")
        return claims


def person_of(claims: dict[str, Any]) -> Person:
    """The ID token's person: ``role``, and for an agent the ``level`` (1-3) and ``area`` claims the
    council's IdP asserts (the API decides with the same claims of the access token)."""
    try:
        level = int(claims.get("level") or 0)
    except (TypeError, ValueError):
        level = 0
    return Person(
        subject=str(claims["sub"]),
        role=str(claims.get("role", "citizen")),
        level=level,
        area=str(claims.get("area") or "")[:64],
    )
