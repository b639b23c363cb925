"""The wallet functions' real adapters, built once per process: DynamoDB through ``storage.DynamoWalletStore``,
the policy engine ``PIC_POLICY_ENGINE`` names, the system clock, the issuer identifier (``PIC_BASE_URL`` +
``/v1/wallet``) and the signing key ring:

- ``PIC_WALLET_KMS_KEY_ID`` set: the key is in AWS KMS (``KmsSigner``, the private key never leaves it);
- otherwise a P-256 key in a file, ``PIC_WALLET_KEY_FILE`` or ``<PIC_DATA_DIR>/wallet/issuer-key.pem``
  (``make run``), generated on first use;
- ``PIC_WALLET_OLD_KEYS``: a JSON array of the public JWKs of rotated keys, still published (what they signed
  keeps verifying until it expires).
Tests build ``handlers.WalletPorts`` with fakes instead."""

from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path

from functions.core.clock import SYSTEM_CLOCK
from functions.core.jose import FileSigner, KeyRing, KmsSigner, Signer
from functions.core.policy import get_policy
from functions.core.settings import get_settings
from functions.wallet.handlers import WalletPorts
from functions.wallet.storage import DynamoWalletStore

ISSUER_PATH = "/v1/wallet"


def issuer_id() -> str:
    """The credential issuer identifier: the platform's public base URL and the wallet's path."""
    base = os.environ.get("PIC_BASE_URL") or get_settings().api_url
    return base.rstrip("/") + ISSUER_PATH


def signer() -> Signer:
    kms_key = os.environ.get("PIC_WALLET_KMS_KEY_ID")
    if kms_key:
        return KmsSigner(kms_key)
    data_dir = Path(os.environ.get("PIC_DATA_DIR", ".pic-data"))
    return FileSigner(os.environ.get("PIC_WALLET_KEY_FILE") or data_dir / "wallet" / "issuer-key.pem")


@lru_cache(maxsize=1)
def ports() -> WalletPorts:
    older = json.loads(os.environ.get("PIC_WALLET_OLD_KEYS") or "[]")
    return WalletPorts(
        store=DynamoWalletStore(), policy=get_policy(), clock=SYSTEM_CLOCK, keys=KeyRing(signer(), older),
        issuer=issuer_id(),
    )  # fmt: skip
