"""The verifier's real adapters, built once per process: DynamoDB through ``storage.DynamoVerifierStore``, the system
clock, and the trusted issuers' keys and status lists read over HTTP (``fetch.HttpFetch``) and cached
(``trust``). Configuration from the environment:

- ``PIC_BASE_URL``: the platform's public origin (``client_id`` and ``response_uri`` are under it); by default
  ``PIC_API_URL``, the one public API host;
- ``PIC_VERIFIER_TRUSTED_ISSUERS``: a comma list of credential issuer identifiers; by default
  ``{PIC_BASE_URL}/v1/wallet``, the platform's own issuer;
- ``PIC_VERIFIER_STATUS_MAX_AGE``: seconds a status list is used before it is read again (60).

Read here rather than in ``functions.core.settings``: only this function has them. Tests build
``handlers.VerifierPorts`` with fakes instead.
"""

from __future__ import annotations

import os
from datetime import timedelta
from functools import lru_cache

from functions.core.clock import SYSTEM_CLOCK
from functions.core.settings import get_settings
from functions.verifier.fetch import HttpFetch
from functions.verifier.handlers import VerifierPorts
from functions.verifier.storage import DynamoVerifierStore
from functions.verifier.trust import STATUS_MAX_AGE, IssuerDirectory, StatusCache, trusted_issuers


def base_url() -> str:
    return os.environ.get("PIC_BASE_URL") or get_settings().api_url


@lru_cache(maxsize=1)
def ports() -> VerifierPorts:
    base = base_url()
    fetch = HttpFetch()
    issuers = IssuerDirectory(trusted_issuers(os.environ.get("PIC_VERIFIER_TRUSTED_ISSUERS", ""), base), fetch,
                              SYSTEM_CLOCK)  # fmt: skip
    max_age = int(os.environ.get("PIC_VERIFIER_STATUS_MAX_AGE") or STATUS_MAX_AGE.total_seconds())
    statuses = StatusCache(issuers, fetch, SYSTEM_CLOCK, timedelta(seconds=max_age))
    return VerifierPorts(store=DynamoVerifierStore(), clock=SYSTEM_CLOCK, issuers=issuers, statuses=statuses,
                         base_url=base)  # fmt: skip
