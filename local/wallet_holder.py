"""A command-line wallet holder for the tests and the README: accepts a credential offer (OpenID4VCI 1.0,
pre-authorized code flow), keeps the credentials and their keys in a directory, presents one to a verifier
(OpenID4VP 1.0, request by value with a DCQL query, ``direct_post``), and lists what it holds.

    python -m local.wallet_holder accept '<openid-credential-offer://...>' --tx-code 123456 [--copies 3] [--wallet DIR]
    python -m local.wallet_holder present '<openid4vp://...>' [--wallet DIR]
    python -m local.wallet_holder list [--wallet DIR]

Pure HTTP (``requests``) and ``functions.core.sdjwt``: it knows nothing of PIC's internals, so what it does any
conformant wallet could do. One P-256 key per credential (``DIR/keys/<kid>.pem``): copies are unlinkable, each is
presented once and with its own key. Sources: OpenID4VCI 1.0 §4.1 (offer), §6 (token), §7 (nonce), §8 (credential),
§12.2.2 (path-inserted metadata URL); OpenID4VP 1.0 §5 (request), §6 (DCQL), §8.2 (direct_post), §8.1 (vp_token).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from functions.core import sdjwt
from functions.core.jose import LocalSigner

PRE_AUTHORIZED_GRANT = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
DEFAULT_WALLET = Path(".pic-data") / "holder"
TIMEOUT = 15


class HolderError(Exception):
    """What the holder could not do, said plainly (the command prints it and exits 1)."""


def _query(link: str, scheme: str) -> dict[str, str]:
    parts = urlsplit(link)
    if parts.scheme != scheme:
        raise HolderError(f"not a {scheme}:// link: {link[:60]}")
    return {k: v[0] for k, v in parse_qs(parts.query).items()}


def well_known(identifier: str, name: str) -> str:
    """OpenID4VCI §12.2.2 / RFC 8414 §3.1: ``/.well-known/<name>`` inserted between the host and the path."""
    parts = urlsplit(identifier)
    return f"{parts.scheme}://{parts.netloc}/.well-known/{name}{parts.path.rstrip('/')}"


def _ok(response: requests.Response, what: str) -> Any:
    if response.status_code >= 400:
        raise HolderError(f"{what}: {response.status_code} {response.text[:400]}")
    return response.json() if response.content else {}


@dataclass(frozen=True)
class Wallet:
    """A directory: ``keys/<kid>.pem`` (0600) and ``credentials.json`` (each credential, its key and its type)."""

    root: Path

    @property
    def store(self) -> Path:
        return self.root / "credentials.json"

    def held(self) -> list[dict[str, Any]]:
        return list(json.loads(self.store.read_text())) if self.store.exists() else []

    def new_key(self) -> LocalSigner:
        key = LocalSigner.generate()
        path = self.root / "keys" / f"{key.kid}.pem"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_bytes(key.private_pem())
        return key

    def key(self, kid: str) -> LocalSigner:
        loaded = serialization.load_pem_private_key((self.root / "keys" / f"{kid}.pem").read_bytes(), password=None)
        assert isinstance(loaded, ec.EllipticCurvePrivateKey)
        return LocalSigner(loaded)

    def keep(self, entries: list[dict[str, Any]]) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.store.write_text(json.dumps(self.held() + entries, indent=2))


def accept(link: str, tx_code: str, copies: int, wallet: Wallet, http: requests.Session) -> list[dict[str, Any]]:
    """Redeem the offer: token (code + tx_code), a c_nonce, one key proof per copy, the credentials kept."""
    query = _query(link, "openid-credential-offer")
    if "credential_offer" in query:
        offer = json.loads(query["credential_offer"])
    elif "credential_offer_uri" in query:
        offer = _ok(http.get(query["credential_offer_uri"], timeout=TIMEOUT), "credential offer")
    else:
        raise HolderError("the link carries no credential_offer")
    issuer = offer["credential_issuer"]
    configuration = offer["credential_configuration_ids"][0]
    code = offer["grants"][PRE_AUTHORIZED_GRANT]["pre-authorized_code"]
    metadata = _ok(http.get(well_known(issuer, "openid-credential-issuer"), timeout=TIMEOUT), "issuer metadata")
    servers = metadata.get("authorization_servers") or [issuer]
    as_metadata = _ok(http.get(well_known(servers[0], "oauth-authorization-server"), timeout=TIMEOUT), "AS metadata")
    form = {"grant_type": PRE_AUTHORIZED_GRANT, "pre-authorized_code": code, "tx_code": tx_code}
    token = _ok(http.post(as_metadata["token_endpoint"], data=form, timeout=TIMEOUT), "token")["access_token"]
    nonce = _ok(http.post(metadata["nonce_endpoint"], timeout=TIMEOUT), "nonce")["c_nonce"]
    keys = [wallet.new_key() for _ in range(copies)]
    now = datetime.now(UTC)
    proofs = [sdjwt.key_proof(k, audience=issuer, nonce=nonce, iat=now) for k in keys]
    body = {"credential_configuration_id": configuration, "proofs": {"jwt": proofs}}
    headers = {"Authorization": f"Bearer {token}"}
    answer = _ok(http.post(metadata["credential_endpoint"], json=body, headers=headers, timeout=TIMEOUT), "credential")
    vct = metadata["credential_configurations_supported"][configuration]["vct"]
    entries = [
        {"credential": item["credential"], "kid": key.kid, "vct": vct, "issuer": issuer, "configuration": configuration,
         "received_at": now.isoformat(), "presented": False}
        for item, key in zip(answer["credentials"], keys, strict=True)
    ]  # fmt: skip
    wallet.keep(entries)
    return entries


def present(link: str, wallet: Wallet, http: requests.Session) -> dict[str, Any]:
    """Answer an OpenID4VP request by value: the first DCQL credential query, a held credential of one of its
    vcts (one not presented yet, when there is one: copies stay unlinkable), only the asked claims disclosed,
    bound to the request (KB-JWT ``aud`` = client_id, ``nonce``), posted to ``response_uri``."""
    query = _query(link, "openid4vp")
    if query.get("response_mode") != "direct_post" or "response_uri" not in query:
        raise HolderError("only response_mode=direct_post with a response_uri")
    dcql = json.loads(query["dcql_query"])
    wanted = dcql["credentials"][0]
    vcts = set(wanted.get("meta", {}).get("vct_values", []))
    held = [e for e in wallet.held() if not vcts or e["vct"] in vcts]
    if not held:
        raise HolderError(f"no credential of {sorted(vcts)} held")
    entries = wallet.held()
    chosen = next((e for e in held if not e.get("presented")), held[0])
    paths = [tuple(str(p) for p in claim["path"]) for claim in wanted.get("claims", [])]
    shown = sdjwt.present(chosen["credential"], paths, holder_key=wallet.key(chosen["kid"]), aud=query["client_id"],
                          nonce=query["nonce"], iat=datetime.now(UTC))  # fmt: skip
    form = {"vp_token": json.dumps({wanted["id"]: [shown]}), "state": query.get("state", "")}
    answer = _ok(http.post(query["response_uri"], data=form, timeout=TIMEOUT), "direct_post")
    for e in entries:
        if e["credential"] == chosen["credential"]:
            e["presented"] = True
    wallet.store.write_text(json.dumps(entries, indent=2))
    return {"presented": chosen["configuration"], "disclosed": [list(p) for p in paths], "answer": answer}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.wallet_holder", description=__doc__.split("\n\n")[0])
    parser.add_argument("--wallet", type=Path, default=DEFAULT_WALLET, help="the holder's directory")
    commands = parser.add_subparsers(dest="command", required=True)
    accepting = commands.add_parser("accept", help="redeem a credential offer")
    accepting.add_argument("link")
    accepting.add_argument("--tx-code", required=True)
    accepting.add_argument("--copies", type=int, default=1, help="credentials to ask for (at most the offer's)")
    presenting = commands.add_parser("present", help="answer an openid4vp:// request")
    presenting.add_argument("link")
    commands.add_parser("list", help="the credentials held")
    args = parser.parse_args(argv)
    wallet, http = Wallet(args.wallet), requests.Session()
    try:
        if args.command == "accept":
            got = accept(args.link, args.tx_code, args.copies, wallet, http)
            print(json.dumps({"accepted": len(got), "vct": got[0]["vct"] if got else None}))
        elif args.command == "present":
            print(json.dumps(present(args.link, wallet, http)))
        else:
            print(json.dumps([{k: e[k] for k in ("vct", "issuer", "received_at", "presented")} for e in wallet.held()]))
    except HolderError as error:
        print(f"wallet holder: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
