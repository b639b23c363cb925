"""Blind indexes: lookups by personal identifiers go through a keyed hash, never the raw value.

A table key such as ``doc#<hmac>`` finds the golden record that holds a DNI without the DNI appearing in
any key, index or log (ARCHITECTURE.md, "Storage"). HMAC-SHA-256 with a secret key: without the key the
hashes cannot be recomputed from guessed numbers (a DNI has only ~10^8 values, so a plain hash would not
protect it). Rotating the key means rebuilding the index items.
"""

from __future__ import annotations

import hashlib
import hmac

from functions.core.settings import get_settings


def blind_index(kind: str, value: str, key: str | None = None) -> str:
    """The keyed hash of a normalised identifier, scoped by its kind (``DNI``, ``email``...)."""
    secret = (key or get_settings().blind_index_key).encode()
    return hmac.new(secret, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()
