"""The dev identity provider: one RSA key in the data directory, JWKS and token minting.

Local only, never deployed: it signs whatever it is asked to. Production tokens come from Cl@ve
(citizens) and the council's IdP (agents); event senders' tokens from Kubernetes (a ServiceAccount's
projected token for the broker's audience), which ``mint_for`` stands in for.
"""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pydantic import BaseModel, ConfigDict, Field

from events.catalog import NAMESPACE

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
