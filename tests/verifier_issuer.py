"""An issuer stand-in for the verifier's tests (tests only, never shipped): it issues SD-JWT VCs with
``functions.core.sdjwt``, keeps a Token Status List per card type with ``functions.core.statuslist``, and publishes
what a real issuer publishes — JWT VC issuer metadata at ``/.well-known/jwt-vc-issuer/<path>`` and the signed status
lists at ``<issuer>/status/<list>`` — either to a fake ``Fetch`` (unit tests) or over real HTTP (``serve``:
functional and browser tests). A Python holder (``Holder``) presents what it holds as the CLI holder would.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests

from functions.core import sdjwt
from functions.core.jose import LocalSigner
from functions.core.statuslist import StatusList, status_token
from functions.verifier.trust import FetchError, metadata_url

SIZE = 1024


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# The issuer the functional and browser tests serve: its port chosen before their platform starts, which trusts it
# through PIC_VERIFIER_TRUSTED_ISSUERS (their conftest.py) until the wallet's own issuer runs in the platform.
STAND_IN_ISSUER = f"http://127.0.0.1:{_free_port()}/v1/wallet"
MAYOR = "urn:es:madrid:pic:card:madrid-mayor:1"
MAYOR_CLAIMS: dict[str, Any] = {
    "given_name": "Carmen",
    "family_name": "Ruiz Pérez",
    "card_number": "MM-000123",
    "age_equal_or_over": {"65": True, "18": True},
    "birth_date": "1952-03-14",
    "district": "Chamberí",
}
MAYOR_DISCLOSABLE = ["age_equal_or_over", "age_equal_or_over.65", "age_equal_or_over.18", "birth_date", "district",
                     "given_name", "family_name", "card_number"]  # fmt: skip


@dataclass
class StandInIssuer:
    """A credential issuer at ``issuer`` (an identifier with a path, as ``{base}/v1/wallet``)."""

    issuer: str
    clock: Any  # anything with now()
    signer: LocalSigner = field(default_factory=LocalSigner.generate)
    older: list[LocalSigner] = field(default_factory=list)
    lists: dict[str, StatusList] = field(default_factory=dict)
    ttl: int = 300
    next_index: int = 0
    fetches: list[str] = field(default_factory=list)

    def list_uri(self, card_type: str) -> str:
        return f"{self.issuer}/status/{card_type}"

    def issue(
        self, holder: LocalSigner, *, card_type: str = "madrid-mayor", vct: str = MAYOR, claims: dict[str, Any] | None
        = None, disclosable: list[str] | None = None, exp: timedelta = timedelta(days=365), nbf: datetime | None = None,
        signer: LocalSigner | None = None,
    ) -> tuple[str, int]:  # fmt: skip
        """A credential for ``holder`` and its status index."""
        index = self.next_index
        self.next_index += 1
        self.lists.setdefault(card_type, StatusList(2, SIZE))
        now = self.clock.now()
        credential = sdjwt.issue(
            claims or MAYOR_CLAIMS, disclosable if disclosable is not None else MAYOR_DISCLOSABLE, vct=vct,
            issuer=self.issuer, holder_jwk=holder.public_jwk(),
            status={"status_list": {"idx": index, "uri": self.list_uri(card_type)}}, iat=nbf or now,
            exp=(nbf or now) + exp, nbf=nbf, signer=signer or self.signer,
        )  # fmt: skip
        return credential, index

    def set_status(self, card_type: str, index: int, value: int) -> None:
        self.lists[card_type].set(index, value)

    def rotate(self) -> None:
        """A new current key; the old one still published (it still verifies what it signed)."""
        self.older.append(self.signer)
        self.signer = LocalSigner.generate()

    def metadata(self) -> dict[str, Any]:
        keys = [self.signer.public_jwk(), *(old.public_jwk() for old in self.older)]
        return {"issuer": self.issuer, "jwks": {"keys": keys}}

    def status_token(self, card_type: str) -> str:
        now = self.clock.now()
        return status_token(self.list_uri(card_type), self.lists[card_type].encode(), 2, iat=now,
                            exp=now + timedelta(days=1), ttl=self.ttl, signer=self.signer)  # fmt: skip

    def __call__(self, url: str, accept: str) -> bytes:
        """``trust.Fetch``: what a GET of ``url`` answers."""
        self.fetches.append(url)
        if url == metadata_url(self.issuer):
            return json.dumps(self.metadata()).encode()
        for card_type in self.lists:
            if url == self.list_uri(card_type):
                return self.status_token(card_type).encode()
        raise FetchError(f"GET {url} answered 404")

    @contextmanager
    def serve(self) -> Iterator[None]:
        """Serve this issuer over HTTP at its own identifier's host and port (which must be 127.0.0.1:<port>)."""
        parts = urlsplit(self.issuer)
        origin = f"{parts.scheme}://{parts.netloc}"
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                try:
                    body = issuer(origin + self.path, self.headers.get("Accept", ""))
                except FetchError:
                    self.send_error(404)
                    return
                kind = "application/statuslist+jwt" if "/status/" in self.path else "application/json"
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer((parts.hostname or "127.0.0.1", parts.port or 80), Handler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield
        finally:
            server.shutdown()
            server.server_close()


@dataclass
class Holder:
    """A holder's key and credentials, presenting as ``local.wallet_holder`` does: only the asked claims (DCQL), a
    key-binding JWT over the request's client_id and nonce, posted to its response_uri."""

    key: LocalSigner = field(default_factory=LocalSigner.generate)

    def answer(self, credential: str, link: str, now: datetime, reveal: list[str] | None = None,
               nonce: str | None = None, aud: str | None = None) -> tuple[str, dict[str, str]]:  # fmt: skip
        """(response_uri, form) answering the ``openid4vp://`` ``link`` with ``credential``."""
        query = {name: values[0] for name, values in parse_qs(urlsplit(link).query).items()}
        dcql = json.loads(query["dcql_query"])
        asked = [".".join(c["path"]) for c in dcql["credentials"][0]["claims"]]
        presentation = sdjwt.present(credential, reveal if reveal is not None else asked, holder_key=self.key,
                                     aud=aud or query["client_id"], nonce=nonce or query["nonce"], iat=now)  # fmt: skip
        form = {"vp_token": json.dumps({"card": [presentation]}), "state": query["state"]}
        return query["response_uri"], form

    def present(self, credential: str, link: str, now: datetime, **kw: Any) -> requests.Response:
        uri, form = self.answer(credential, link, now, **kw)
        return requests.post(uri, data=form, timeout=15)
