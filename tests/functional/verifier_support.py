"""The verifier's functional tests trust a stand-in issuer (``tests.verifier_issuer``) until the wallet's issuer runs
in the platform: its identifier, on a port chosen before the session's platform starts, is handed to the platform in
``PIC_VERIFIER_TRUSTED_ISSUERS`` (``tests/functional/conftest.py``); the tests serve it on that port over HTTP."""

from __future__ import annotations

import socket


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


STAND_IN_ISSUER = f"http://127.0.0.1:{_free_port()}/v1/wallet"
