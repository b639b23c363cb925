"""The web function's real adapters, built once per process: the session table, the API host, the OpenID
Connect issuer, the system clock. Unit tests build ``WebPorts`` with fakes."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import requests

from functions.core.clock import SYSTEM_CLOCK, Clock
from functions.core.settings import Settings, get_settings
from functions.web.api import Api
from functions.web.oidc import OidcClient
from functions.web.service import SessionStore
from functions.web.storage import DynamoSessionStore


@dataclass(frozen=True)
class WebPorts:
    sessions: SessionStore
    api: Api
    oidc: OidcClient
    clock: Clock
    settings: Settings


@lru_cache(maxsize=1)
def ports() -> WebPorts:
    settings = get_settings()
    http = requests.Session()
    return WebPorts(
        sessions=DynamoSessionStore(),
        api=Api(settings.api_url, http),
        oidc=OidcClient(settings, http),
        clock=SYSTEM_CLOCK,
        settings=settings,
    )
