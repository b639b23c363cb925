"""Token Status List (IETF OAuth, draft-ietf-oauth-status-list): a compressed array of statuses, one entry
of ``bits`` bits per credential, published as a signed JWT (``typ: statuslist+jwt``).

Bit order is the specification's: the status of index ``i`` lives in byte ``i*bits // 8`` at bit offset
``(i*bits) % 8`` counted from the least significant bit; ``lst`` is base64url (unpadded) of the zlib (DEFLATE)
compression of the bytes. A list reveals nothing of who holds an index: the issuer picks indexes at random.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from functions.core.errors import CredentialRefusedError
from functions.core.jose import Jwk, Signer, b64url, b64url_decode, decode_jws, encode_jws, epoch

TYP = "statuslist+jwt"
ALLOWED_BITS = (1, 2, 4, 8)
MAX_DECOMPRESSED = 64 * 1024 * 1024  # a list is at most this large: a hostile list cannot exhaust memory


class StatusList:
    """A mutable status list of ``size`` entries of ``bits`` bits each, all VALID (0) at first."""

    def __init__(self, bits: int, size: int, data: bytes | bytearray | None = None) -> None:
        if bits not in ALLOWED_BITS:
            raise ValueError(f"bits must be one of {ALLOWED_BITS}")
        if size < 0:
            raise ValueError("size must be natural")
        self.bits = bits
        self.size = size
        length = (size * bits + 7) // 8
        self._bytes = bytearray(data) if data is not None else bytearray(length)
        if len(self._bytes) != length:
            raise ValueError("data does not hold size entries")
        self._mask = (1 << bits) - 1

    def _where(self, index: int) -> tuple[int, int]:
        if not 0 <= index < self.size:
            raise IndexError(f"index {index} is outside the list (size {self.size})")
        bit = index * self.bits
        return bit // 8, bit % 8

    def get(self, index: int) -> int:
        """The status value of ``index``."""
        byte, shift = self._where(index)
        return (self._bytes[byte] >> shift) & self._mask

    def set(self, index: int, value: int) -> None:
        """Set the status value of ``index`` (0 VALID, 1 INVALID, 2 SUSPENDED…)."""
        if not 0 <= value <= self._mask:
            raise ValueError(f"a status of {self.bits} bits is at most {self._mask}")
        byte, shift = self._where(index)
        self._bytes[byte] = (self._bytes[byte] & ~(self._mask << shift)) | (value << shift)

    def to_bytes(self) -> bytes:
        return bytes(self._bytes)

    def encode(self) -> str:
        """``lst``: base64url of the zlib-compressed bytes (best compression: published once, read often)."""
        return b64url(zlib.compress(bytes(self._bytes), 9))

    @classmethod
    def decode(cls, lst: str, bits: int) -> StatusList:
        """The list ``lst`` encodes; its size is every entry the bytes hold."""
        decompressor = zlib.decompressobj()
        try:
            data = decompressor.decompress(b64url_decode(lst), MAX_DECOMPRESSED)
        except zlib.error as exc:
            raise CredentialRefusedError("status-unavailable", "the status list is not zlib data") from exc
        if decompressor.unconsumed_tail:
            raise CredentialRefusedError("status-unavailable", "the status list is too large")
        if bits not in ALLOWED_BITS:
            raise CredentialRefusedError("status-unavailable", f"a status list of {bits} bits")
        return cls(bits, len(data) * 8 // bits, data)


def status_token(uri: str, lst: str, bits: int, *, iat: datetime, exp: datetime, ttl: int, signer: Signer) -> str:
    """The signed Status List Token published at ``uri`` (its ``sub``), valid until ``exp``, to be cached
    ``ttl`` seconds."""
    payload = {"sub": uri, "iat": epoch(iat), "exp": epoch(exp), "ttl": ttl, "status_list": {"bits": bits, "lst": lst}}
    return encode_jws({"typ": TYP}, payload, signer)


def read_status_token(token: str, keys: Mapping[str, Jwk], *, uri: str, now: datetime) -> StatusList:
    """The list of a Status List Token fetched from ``uri``, signed by one of the issuer's ``keys``, not
    expired. Every refusal is ``status-unavailable`` (what it makes of the credential: its status is unknown)
    except the signature's own (alg-not-allowed, unknown-key, bad-signature), kept to tell forgeries apart."""
    try:
        _, payload = decode_jws(token, keys, typ=TYP, now=now, require=("exp", "sub", "iat"))
    except CredentialRefusedError as exc:
        if exc.reason in ("alg-not-allowed", "unknown-key", "bad-signature"):
            raise
        raise CredentialRefusedError("status-unavailable", f"status list: {exc.detail}") from exc
    if payload["sub"] != uri:
        raise CredentialRefusedError("status-unavailable", f"the status list at {uri} is the one of {payload['sub']}")
    listed: Any = payload.get("status_list")
    if (
        not isinstance(listed, Mapping)
        or not isinstance(listed.get("lst"), str)
        or not isinstance(listed.get("bits"), int)
    ):
        raise CredentialRefusedError("status-unavailable", "the token holds no status_list {bits, lst}")
    return StatusList.decode(listed["lst"], listed["bits"])


def status_lookup(lists: Mapping[str, StatusList]) -> Callable[[str, int], int]:
    """A ``status_of`` for ``sdjwt.verify`` over lists already read (a verifier's cache): an unknown list or
    an index outside it is ``status-unavailable``."""

    def status_of(uri: str, index: int) -> int:
        status_list = lists.get(uri)
        if status_list is None:
            raise CredentialRefusedError("status-unavailable", f"no status list read from {uri}")
        try:
            return status_list.get(index)
        except IndexError as exc:
            raise CredentialRefusedError("status-unavailable", str(exc)) from exc

    return status_of
