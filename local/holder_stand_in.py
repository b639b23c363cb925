"""``/dev/wallet/`` on the gateway: make run's stand-in for a person's wallet app, so a walk-through in a shell
(no virtual environment, no Python cryptography) can accept a card and present it. It is the same holder as
``python -m local.wallet_holder`` (``local.wallet_holder``): it talks to the issuer and the verifier only through
their public OpenID4VCI / OpenID4VP endpoints, over HTTP, as any conformant wallet would — the gateway calls
itself. Each wallet is a directory under the data directory (``wallets/<name>``: its keys and credentials).

    POST /dev/wallet/accept   {"wallet": "ana", "offer": "openid-credential-offer://…", "tx_code": "1234", "copies": 2}
    POST /dev/wallet/present  {"wallet": "ana", "request": "openid4vp://…"}
    GET  /dev/wallet?wallet=ana
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests
from werkzeug.wrappers import Request, Response

from functions.core.errors import ValidationError
from functions.core.jsontext import loads
from local.jsonreply import as_json
from local.wallet_holder import HolderError, Wallet, accept, present

NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


class HolderStandIn:
    """The person's wallet app, for make run only (never deployed: the gateway is the local platform's)."""

    def __init__(self, data_dir: Path) -> None:
        self.root = data_dir / "wallets"

    def handlers(self) -> dict[tuple[str, str], Callable[[Request], Response]]:
        return {
            ("POST", "/dev/wallet/accept"): self.accept,
            ("POST", "/dev/wallet/present"): self.present,
            ("GET", "/dev/wallet"): self.held,
        }

    def _wallet(self, name: Any) -> Wallet:
        if not isinstance(name, str) or not NAME.match(name):
            raise ValidationError("wallet: a name of lowercase letters, digits and hyphens (at most 63)")
        return Wallet(self.root / name)

    @staticmethod
    def _body(request: Request) -> dict[str, Any]:
        body = loads(request.get_data(cache=False))
        if not isinstance(body, dict):
            raise ValidationError("a JSON object")
        return body

    @staticmethod
    def _text(body: dict[str, Any], name: str) -> str:
        value = body.get(name)
        if not isinstance(value, str) or not value:
            raise ValidationError(f"{name}: a non-empty string")
        return value

    def accept(self, request: Request) -> Response:
        body = self._body(request)
        wallet = self._wallet(body.get("wallet"))
        copies = body.get("copies", 1)
        if isinstance(copies, bool) or not isinstance(copies, int) or not 1 <= copies <= 10:
            raise ValidationError("copies: 1 to 10")
        try:
            got = accept(self._text(body, "offer"), self._text(body, "tx_code"), copies, wallet, requests.Session())
        except HolderError as error:
            return as_json({"refused": str(error)}, 422)
        return as_json({"accepted": len(got), "vct": got[0]["vct"] if got else None})

    def present(self, request: Request) -> Response:
        body = self._body(request)
        wallet = self._wallet(body.get("wallet"))
        try:
            return as_json(present(self._text(body, "request"), wallet, requests.Session()))
        except HolderError as error:
            return as_json({"refused": str(error)}, 422)

    def held(self, request: Request) -> Response:
        wallet = self._wallet(request.args.get("wallet"))
        return as_json(
            {"held": [{k: e[k] for k in ("vct", "issuer", "received_at", "presented")} for e in wallet.held()]}
        )
