"""The dev identity provider: one RSA key in the data directory, JWKS and token minting, and an OpenID
Connect provider for the citizen app (discovery, a sign-in page standing in for Cl@ve, ``/authorize`` and
``/token`` with PKCE): a real Cl@ve or IdP replaces it by configuration only (``PIC_OIDC_ISSUER``).

Local only, never deployed: it signs whatever it is asked to. Production tokens come from Cl@ve
(citizens) and the council's IdP (agents); event senders' tokens from Kubernetes (a ServiceAccount's
projected token for the broker's audience), which ``mint_for`` stands in for.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import json
import sqlite3
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pydantic import BaseModel, ConfigDict, Field

from events.catalog import BROKER_AUDIENCE, NAMESPACE
from functions.core.consumers import API_SCOPE, EVENTS_SCOPE, Consumer, registry

KEY_FILE = "dev-idp-key.pem"
KID = "pic-dev-1"
ALGORITHM = "RS256"


class TokenRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sub: str = Field(min_length=1, max_length=128)
    role: str = Field("citizen", pattern="^(citizen|agent|admin|system)$")
    level: int = Field(0, ge=0, le=3)
    area: str | None = None
    ttl_seconds: int = Field(3600, ge=-3600, le=86400, description="negative mints an expired token, for tests")


class SenderTokenRequest(BaseModel):
    """``POST /dev/sender-token``: what ``kubectl -n pic create token <account> --audience <broker's>`` gives
    in a cluster, a token of a ServiceAccount of namespace ``pic`` for the broker."""

    model_config = ConfigDict(extra="forbid")

    service_account: str = Field(min_length=1, max_length=63, pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
    ttl_seconds: int = Field(3600, ge=-3600, le=86400, description="negative mints an expired token, for tests")

    @property
    def subject(self) -> str:
        return f"system:serviceaccount:{NAMESPACE}:{self.service_account}"


def ensure_key(data_dir: Path) -> rsa.RSAPrivateKey:
    """Load the signing key, or create it once (tokens stay valid across restarts)."""
    path = data_dir / KEY_FILE
    if not path.exists():
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        path.write_bytes(pem)
        path.chmod(0o600)
    loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
    assert isinstance(loaded, rsa.RSAPrivateKey)
    return loaded


class DevIdp:
    def __init__(self, data_dir: Path, issuer: str, audience: str) -> None:
        self._key = ensure_key(data_dir)
        self.issuer = issuer
        self.audience = audience

    def public_key(self) -> rsa.RSAPublicKey:
        return self._key.public_key()

    def jwks(self) -> dict[str, Any]:
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self._key.public_key()))
        return {"keys": [{**jwk, "kid": KID, "use": "sig", "alg": "RS256"}]}

    def mint(self, request: TokenRequest) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": request.sub,
            "role": request.role,
            "level": request.level,
            "iat": now,
            "exp": now + request.ttl_seconds,
            "jti": str(uuid.uuid4()),
        }
        if request.area:
            claims["area"] = request.area
        return jwt.encode(claims, self._key, algorithm=ALGORITHM, headers={"kid": KID})

    def mint_for(self, subject: str, audience: str, ttl_seconds: int = 3600) -> str:
        """A workload identity's token for one audience (no role: it is not a person)."""
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": audience,
            "sub": subject,
            "iat": now,
            "exp": now + ttl_seconds,
            "jti": str(uuid.uuid4()),
        }
        return jwt.encode(claims, self._key, algorithm=ALGORITHM, headers={"kid": KID})


# ---- OpenID Connect for the citizen app (issue 13): discovery, a sign-in page standing in for Cl@ve,
# the authorization-code flow with PKCE (S256 only) for the one registered client, pic-web ----

CODE_AUDIENCE = "pic-dev-idp-code"  # a code is a short-lived JWT only this IdP accepts
CODE_SECONDS = 60
USED_CODES = "dev-idp-codes.sqlite"


class OidcError(ValueError):
    """An OAuth error (RFC 6749 §5.2): ``error`` is its code, the message its description."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error = error


class AuthorizeRequest(BaseModel):
    """``/authorize``'s parameters: the code flow with PKCE S256, from the registered client only."""

    model_config = ConfigDict(extra="ignore")

    response_type: str = Field(pattern="^code$")
    client_id: str = Field(min_length=1, max_length=64)
    redirect_uri: str = Field(min_length=1, max_length=512)
    scope: str = Field(pattern=r"(^|\s)openid(\s|$)")
    state: str = Field(min_length=16, max_length=256)
    nonce: str = Field(min_length=16, max_length=256)
    code_challenge: str = Field(pattern=r"^[A-Za-z0-9_-]{43}$")
    code_challenge_method: str = Field(pattern="^S256$")
    ui_locales: str = "es"
    login_hint: str = Field("", max_length=64, description="'agent': the agents' sign-in (the desk)")


class SignInChoice(BaseModel):
    """Who signs in on the dev page: a citizen, an agent with a level and an area, or a platform administrator."""

    model_config = ConfigDict(extra="ignore")

    sub: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:@-]+$")
    role: str = Field("citizen", pattern="^(citizen|agent|admin)$")
    level: int = Field(0, ge=0, le=3)
    area: str | None = Field(None, max_length=64)


@dataclass(frozen=True)
class OidcClientRegistration:
    client_id: str
    client_secret: str
    redirect_uri: str


class DevOidc:
    """The dev IdP as an OpenID Connect provider. Tokens are the same as ``POST /dev/token`` mints."""

    def __init__(self, idp: DevIdp, data_dir: Path, client: OidcClientRegistration) -> None:
        self.idp = idp
        self.client = client
        self._used = data_dir / USED_CODES
        with sqlite3.connect(self._used, timeout=30) as db:
            db.execute("CREATE TABLE IF NOT EXISTS used (jti TEXT PRIMARY KEY, at REAL)")

    def discovery(self) -> dict[str, Any]:
        issuer = self.idp.issuer.rstrip("/")
        return {
            "issuer": issuer,
            "authorization_endpoint": f"{issuer}/authorize",
            "token_endpoint": f"{issuer}/token",
            "jwks_uri": f"{issuer}/.well-known/jwks.json",
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code", "client_credentials"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": [ALGORITHM],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "scopes_supported": ["openid"],
            "ui_locales_supported": ["es", "en"],
        }

    def check_authorize(self, params: dict[str, str]) -> AuthorizeRequest:
        """The request, if it is from the registered client to its registered redirect URI (else no redirect)."""
        request = AuthorizeRequest.model_validate(params)
        if request.client_id != self.client.client_id or request.redirect_uri != self.client.redirect_uri:
            raise OidcError("unauthorized_client", "unknown client or redirect URI")
        return request

    def issue_code(self, request: AuthorizeRequest, choice: SignInChoice) -> str:
        """A one-time code bound to the client, redirect URI, PKCE challenge, nonce and the chosen person."""
        now = int(time.time())
        claims = {
            "iss": self.idp.issuer,
            "aud": CODE_AUDIENCE,
            "iat": now,
            "exp": now + CODE_SECONDS,
            "jti": str(uuid.uuid4()),
            "client_id": request.client_id,
            "redirect_uri": request.redirect_uri,
            "code_challenge": request.code_challenge,
            "nonce": request.nonce,
            "person": choice.model_dump(),
        }
        return jwt.encode(claims, self.idp._key, algorithm=ALGORITHM, headers={"kid": KID})

    def token(self, form: dict[str, str], basic: tuple[str, str] | None) -> dict[str, Any]:
        """``POST /token``: the code (once), the client's secret, the PKCE verifier -> access and ID tokens."""
        client_id, secret = basic or (form.get("client_id", ""), form.get("client_secret", ""))
        if client_id != self.client.client_id or not hmac.compare_digest(secret, self.client.client_secret):
            raise OidcError("invalid_client", "unknown client or wrong secret")
        if form.get("grant_type") != "authorization_code":
            raise OidcError("unsupported_grant_type", "only authorization_code")
        try:
            code = jwt.decode(
                form.get("code", ""), self.idp.public_key(), algorithms=[ALGORITHM], audience=CODE_AUDIENCE
            )
        except jwt.PyJWTError as exc:
            raise OidcError("invalid_grant", f"the code is not valid ({type(exc).__name__})") from exc
        if code["client_id"] != client_id or code["redirect_uri"] != form.get("redirect_uri"):
            raise OidcError("invalid_grant", "the code was issued to another client or redirect URI")
        verifier = form.get("code_verifier", "")
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        if not 43 <= len(verifier) <= 128 or not hmac.compare_digest(challenge, code["code_challenge"]):
            raise OidcError("invalid_grant", "the PKCE verifier does not match the challenge")
        self._spend(code["jti"])
        person = SignInChoice.model_validate(code["person"])
        ttl = 3600
        access = self.idp.mint(
            TokenRequest(sub=person.sub, role=person.role, level=person.level, area=person.area, ttl_seconds=ttl)
        )
        now = int(time.time())
        id_claims = {
            "iss": self.idp.issuer,
            "aud": client_id,
            "sub": person.sub,
            "role": person.role,
            **({"level": person.level, "area": person.area or ""} if person.role == "agent" else {}),
            "iat": now,
            "exp": now + ttl,
            "nonce": code["nonce"],
        }
        id_token = jwt.encode(id_claims, self.idp._key, algorithm=ALGORITHM, headers={"kid": KID})
        return {"access_token": access, "id_token": id_token, "token_type": "Bearer", "expires_in": ttl}

    def _spend(self, jti: str) -> None:
        """A code works once (RFC 6749 §4.1.2): a second use is refused."""
        try:
            with sqlite3.connect(self._used, timeout=30) as db:
                db.execute("DELETE FROM used WHERE at < ?", (time.time() - 2 * CODE_SECONDS,))
                db.execute("INSERT INTO used (jti, at) VALUES (?, ?)", (jti, time.time()))
        except sqlite3.IntegrityError as exc:
            raise OidcError("invalid_grant", "the code was already used") from exc


SIGN_IN_PAGE = """<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title><link rel="stylesheet" href="/app/static/app.css"></head>
<body><main id="main" class="container">
<p class="notice">{notice}</p>
<h1>{title}</h1>
<form method="post" action="/authorize" id="idp-form">
{hidden}
<div class="field"><label for="idp-sub">{sub}</label>
<input id="idp-sub" name="sub" required maxlength="128" pattern="[A-Za-z0-9._:@\\-]+" autocomplete="username"></div>
<div class="field"><label for="idp-role">{role}</label>
<select id="idp-role" name="role">
<option value="citizen">{citizen}</option><option value="agent"{agent_selected}>{agent}</option>
<option value="admin">{admin}</option></select></div>
<div class="field"><label for="idp-level">{level}</label>
<select id="idp-level" name="level">
<option>0</option><option>1</option><option selected>2</option><option>3</option></select></div>
<div class="field"><label for="idp-area">{area}</label>
<input id="idp-area" name="area" maxlength="64" value="{area_value}"></div>
<button type="submit" id="idp-signin" class="button">{submit}</button>
</form></main></body></html>"""

SIGN_IN_TEXT = {
    "es": {
        "title": "Identificarse (Cl@ve de desarrollo)",
        "notice": "Proveedor de identidad de desarrollo: sustituye a Cl@ve solo en make run.",
        "sub": "Identificador de la persona",
        "role": "Perfil",
        "citizen": "Ciudadanía",
        "agent": "Agente municipal",
        "admin": "Administración de la plataforma",
        "level": "Nivel de acceso",
        "area": "Área (agentes)",
        "submit": "Entrar",
    },
    "en": {
        "title": "Sign in (development Cl@ve)",
        "notice": "Development identity provider: it stands in for Cl@ve in make run only.",
        "sub": "Person's identifier",
        "role": "Profile",
        "citizen": "Citizen",
        "agent": "Council agent",
        "admin": "Platform administrator",
        "level": "Access level",
        "area": "Area (agents)",
        "submit": "Sign in",
    },
}


def sign_in_page(request: AuthorizeRequest) -> str:
    """The sign-in page: who to be, the authorization request carried in hidden fields."""
    lang = "en" if request.ui_locales.split()[0:1] == ["en"] else "es"
    hidden = "\n".join(
        f'<input type="hidden" name="{name}" value="{html.escape(str(value), quote=True)}">'
        for name, value in request.model_dump().items()
    )
    agent = request.login_hint == "agent"  # the desk's sign-in: an agent of citizen attention by default
    return SIGN_IN_PAGE.format(
        lang=lang, hidden=hidden, agent_selected=" selected" if agent else "",
        area_value="atencion-ciudadania" if agent else "", **SIGN_IN_TEXT[lang],
    )  # fmt: skip


# ---- OAuth 2.0 client credentials (RFC 6749 §4.4) for the internal systems that call the API (issue 19,
# docs/decisions/0035): one client per system, registered as data (functions/core/data/consumers.json); its
# secret generated once per data directory (the cloud's IdP keeps it: a Cognito app client's secret) ----

CLIENT_SECRETS = "dev-idp-client-secrets.json"
CLIENT_TOKEN_SECONDS = 3600


class ClientSecretRequest(BaseModel):
    """``POST /dev/client-secret``: what ``aws secretsmanager get-secret-value`` (or the IdP's console) gives
    the system's operators in the cloud: the client's secret, here generated for this data directory."""

    model_config = ConfigDict(extra="forbid")

    client_id: str = Field(min_length=1, max_length=64)


class ClientCredentials:
    """The client-credentials grant at the dev IdP's token endpoint: the client authenticates with its secret
    (``client_secret_basic`` or ``client_secret_post``, RFC 6749 §2.3.1, one of them), asks for some of its
    scopes (all of them for the audience when it names none, RFC 6749 §3.3) and an audience (RFC 8707
    ``resource``: the API by default, or the broker's for a system that sends events). The token names the
    client (``client_id``, ``azp``), its role ``system`` and the scopes granted (``scope``, space-separated)."""

    def __init__(self, idp: DevIdp, data_dir: Path, consumers: dict[str, Consumer] | None = None) -> None:
        self.idp = idp
        self.consumers = consumers if consumers is not None else registry()
        self._secrets = self._ensure_secrets(data_dir / CLIENT_SECRETS)

    def _ensure_secrets(self, path: Path) -> dict[str, str]:
        """One random secret per registered client, kept across restarts; a client added later gets its own."""
        import secrets

        known: dict[str, str] = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
        missing = [c for c in self.consumers if c not in known]
        if missing or not path.exists():
            known.update({c: secrets.token_urlsafe(32) for c in missing})
            staged = path.with_suffix(".tmp")
            staged.write_text(json.dumps(known, indent=2), encoding="utf-8")
            staged.chmod(0o600)
            staged.replace(path)
        return known

    def secret(self, client_id: str) -> str:
        if client_id not in self.consumers:
            raise OidcError("invalid_client", f"no registered client {client_id!r}")
        return self._secrets[client_id]

    def authenticate(self, form: dict[str, str], basic: tuple[str, str] | None) -> Consumer:
        """The client the request authenticates as, or ``invalid_client`` (``invalid_request`` for two methods)."""
        if basic is not None and ("client_secret" in form or ("client_id" in form and form["client_id"] != basic[0])):
            raise OidcError("invalid_request", "authenticate with one method: HTTP Basic or the form, not both")
        client_id, secret = basic or (form.get("client_id", ""), form.get("client_secret", ""))
        consumer = self.consumers.get(client_id)
        expected = self._secrets.get(client_id, "")
        if consumer is None or not secret or not hmac.compare_digest(secret.encode(), expected.encode()):
            raise OidcError("invalid_client", "unknown client or wrong secret")
        return consumer

    def grant(self, form: dict[str, str], basic: tuple[str, str] | None) -> dict[str, Any]:
        """``POST /token`` with ``grant_type=client_credentials``: the access token (no refresh token, §4.4.3)."""
        consumer = self.authenticate(form, basic)
        audience = form.get("resource") or self.idp.audience
        if audience not in (self.idp.audience, BROKER_AUDIENCE):
            raise OidcError("invalid_target", f"no resource {audience!r}: the API ({self.idp.audience}) or the broker")
        kind = API_SCOPE if audience == self.idp.audience else EVENTS_SCOPE
        registered = [s for s in consumer.scopes if s.startswith(kind)]
        asked = form.get("scope", "").split()
        outside = sorted(set(asked) - set(registered))
        if outside:
            raise OidcError("invalid_scope", f"client {consumer.client_id} may not ask for {' '.join(outside)} "
                            f"at {audience}; its scopes there: {' '.join(registered) or 'none'}")  # fmt: skip
        granted = [s for s in registered if s in asked] if asked else registered
        if not granted:
            raise OidcError("invalid_scope", f"client {consumer.client_id} has no scope at {audience}")
        subject = consumer.client_id
        if audience == BROKER_AUDIENCE:
            if consumer.sender is None:
                raise OidcError("invalid_target", f"client {consumer.client_id} sends no events (no sender)")
            subject = f"system:serviceaccount:{NAMESPACE}:{consumer.sender}"
        now = int(time.time())
        claims = {
            "iss": self.idp.issuer,
            "aud": audience,
            "sub": subject,
            "role": "system",
            "level": 0,
            "client_id": consumer.client_id,
            "azp": consumer.client_id,
            "scope": " ".join(granted),
            "iat": now,
            "exp": now + CLIENT_TOKEN_SECONDS,
            "jti": str(uuid.uuid4()),
        }
        token = jwt.encode(claims, self.idp._key, algorithm=ALGORITHM, headers={"kid": KID})
        return {"access_token": token, "token_type": "Bearer", "expires_in": CLIENT_TOKEN_SECONDS,
                "scope": " ".join(granted)}  # fmt: skip
