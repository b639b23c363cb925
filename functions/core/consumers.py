"""The registry of the API's consumers: the internal systems that call PIC as OAuth 2.0 clients (client
credentials, RFC 6749 §4.4), one client each, declared as data in ``functions/core/data/consumers.json`` (client
id, system, owner, broker sender, scopes, quota; never a secret). Store-free on purpose: the dev IdP, the pure
rules of ``functions.consumers`` and the kernel's quota (``functions.core.quota``) all read it, and importing it
binds no table. docs/decisions/0035-api-consumers-client-credentials-quotas.md.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from functions.core.auth import SCOPE_TOKEN

REGISTRY = Path(__file__).parent / "data" / "consumers.json"
HOUR = 3600
API_SCOPE, EVENTS_SCOPE = "api:", "events:"


class Quota(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    requests: int = Field(ge=1, le=1_000_000, description="requests admitted per window")
    window_seconds: int = Field(ge=1, le=HOUR, description="the fixed window; divides 3600")

    @field_validator("window_seconds")
    @classmethod
    def _divides_the_hour(cls, value: int) -> int:
        if HOUR % value:
            raise ValueError(f"window_seconds must divide 3600 (one hour's counters in one item), not {value}")
        return value


class Consumer(BaseModel):
    """One internal system as an OAuth 2.0 client: what it may do and how much."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    client_id: str = Field(pattern=r"^[a-z][a-z0-9-]{1,62}$")
    system: dict[str, str] = Field(description="its name, es and en")
    owner: str = Field(min_length=1, max_length=200, description="the team answerable for it")
    sender: str | None = Field(None, description="its broker ServiceAccount (events/catalog.py), if it sends events")
    scopes: tuple[str, ...] = Field(min_length=1)
    quota: Quota

    @field_validator("scopes")
    @classmethod
    def _scope_tokens(cls, scopes: tuple[str, ...]) -> tuple[str, ...]:
        for scope in scopes:
            if not SCOPE_TOKEN.match(scope) or not scope.startswith((API_SCOPE, EVENTS_SCOPE)):
                raise ValueError(f"{scope!r} is not api:<action> or events:<type> (RFC 6749 §3.3 scope-token)")
        return scopes

    @field_validator("system")
    @classmethod
    def _both_languages(cls, names: dict[str, str]) -> dict[str, str]:
        if set(names) != {"es", "en"} or not all(n.strip() for n in names.values()):
            raise ValueError("the system's name in es and en")
        return names


def load_registry(path: Path = REGISTRY) -> dict[str, Consumer]:
    """The registered consumers by client id (a duplicate id is an error, not the last one winning)."""
    consumers = [Consumer.model_validate(c) for c in json.loads(path.read_text(encoding="utf-8"))["consumers"]]
    found: dict[str, Consumer] = {}
    for consumer in consumers:
        if consumer.client_id in found:
            raise ValueError(f"{path}: client {consumer.client_id} is registered twice")
        found[consumer.client_id] = consumer
    return found


@lru_cache(maxsize=1)
def registry() -> dict[str, Consumer]:
    return load_registry()


@dataclass(frozen=True)
class HourUsage:
    hour: str
    admitted: int
    over_quota: int
    forbidden: int
