"""Token Status List: the specification's own examples fix the bit order and the encoding; the signed token
is refused when it is another list's, expired, or not the issuer's."""

from __future__ import annotations

import zlib
from datetime import UTC, datetime, timedelta

import pytest

from functions.core.errors import CredentialRefusedError
from functions.core.jose import KeyRing, LocalSigner, b64url, encode_jws, epoch
from functions.core.statuslist import StatusList, read_status_token, status_lookup, status_token

NOW = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
URI = "https://api.pic.example/v1/wallet/status/madrid-mayor-1"

# draft-ietf-oauth-status-list (section "Status List", examples; the same in -17 and -21, Appendix C test
# vectors): a 1-bit list of 16 statuses is the bytes 0xB9 0xA3, "lst" "eNrbuRgAAhcBXQ"; a 2-bit list of 12
# statuses is 0xC9 0x44 0xF9, "lst" "eNo76fITAAPfAgc". Both lst strings checked against the text.
SPEC_1BIT = [1, 0, 0, 1, 1, 1, 0, 1, 1, 1, 0, 0, 0, 1, 0, 1]
SPEC_1BIT_LST = "eNrbuRgAAhcBXQ"
SPEC_2BIT = [1, 2, 0, 3, 0, 1, 0, 1, 1, 2, 3, 3]
SPEC_2BIT_LST = "eNo76fITAAPfAgc"


@pytest.mark.parametrize(
    ("bits", "statuses", "raw", "lst"),
    [(1, SPEC_1BIT, bytes([0xB9, 0xA3]), SPEC_1BIT_LST), (2, SPEC_2BIT, bytes([0xC9, 0x44, 0xF9]), SPEC_2BIT_LST)],
    ids=["1-bit", "2-bit"],
)
def test_the_specifications_examples_encode_and_decode_exactly(
    bits: int, statuses: list[int], raw: bytes, lst: str
) -> None:
    status_list = StatusList(bits, len(statuses))
    for index, value in enumerate(statuses):
        status_list.set(index, value)
    assert status_list.to_bytes() == raw
    assert status_list.encode() == lst
    decoded = StatusList.decode(lst, bits)
    assert [decoded.get(i) for i in range(len(statuses))] == statuses


def test_setting_one_entry_leaves_its_neighbours() -> None:
    status_list = StatusList(2, 131_072)
    status_list.set(5, 2)
    status_list.set(6, 1)
    status_list.set(5, 0)
    assert [status_list.get(i) for i in range(4, 8)] == [0, 0, 1, 0]


def test_values_and_indexes_outside_the_list_are_refused() -> None:
    status_list = StatusList(2, 8)
    with pytest.raises(ValueError):
        status_list.set(0, 4)
    with pytest.raises(IndexError):
        status_list.get(8)
    with pytest.raises(ValueError):
        StatusList(3, 8)


def test_a_compression_bomb_is_refused() -> None:
    bomb = b64url(zlib.compress(bytes(80 * 1024 * 1024), 9))
    with pytest.raises(CredentialRefusedError) as caught:
        StatusList.decode(bomb, 2)
    assert caught.value.reason == "status-unavailable"


@pytest.fixture
def signer() -> LocalSigner:
    return LocalSigner.generate()


def _token(signer: LocalSigner, *, uri: str = URI, exp: datetime = NOW + timedelta(days=1)) -> str:
    status_list = StatusList(2, 131_072)
    status_list.set(42, 1)
    status_list.set(43, 2)
    return status_token(uri, status_list.encode(), 2, iat=NOW, exp=exp, ttl=300, signer=signer)


def test_a_status_token_round_trips_and_feeds_a_lookup(signer: LocalSigner) -> None:
    status_list = read_status_token(_token(signer), KeyRing(signer).keys(), uri=URI, now=NOW)
    status_of = status_lookup({URI: status_list})
    assert (status_of(URI, 41), status_of(URI, 42), status_of(URI, 43)) == (0, 1, 2)
    with pytest.raises(CredentialRefusedError, match="outside"):
        status_of(URI, 131_072)
    with pytest.raises(CredentialRefusedError):
        status_of(URI + "-other", 1)


def _refused(reason: str, token: str, signer: LocalSigner, *, now: datetime = NOW) -> None:
    with pytest.raises(CredentialRefusedError) as caught:
        read_status_token(token, KeyRing(signer).keys(), uri=URI, now=now)
    assert caught.value.reason == reason, caught.value.detail


def test_the_list_of_another_uri_is_refused(signer: LocalSigner) -> None:
    _refused("status-unavailable", _token(signer, uri=URI.replace("-1", "-2")), signer)


def test_an_expired_list_is_refused(signer: LocalSigner) -> None:
    _refused("status-unavailable", _token(signer, exp=NOW - timedelta(minutes=2)), signer)


def test_a_list_of_another_signer_is_refused(signer: LocalSigner) -> None:
    _refused("unknown-key", _token(LocalSigner.generate()), signer)


def test_a_token_of_another_type_is_refused(signer: LocalSigner) -> None:
    payload = {
        "sub": URI,
        "iat": epoch(NOW),
        "exp": epoch(NOW + timedelta(days=1)),
        "status_list": {"bits": 2, "lst": StatusList(2, 8).encode()},
    }
    _refused("status-unavailable", encode_jws({"typ": "JWT"}, payload, signer), signer)


def test_a_token_without_a_list_is_refused(signer: LocalSigner) -> None:
    payload = {"sub": URI, "iat": epoch(NOW), "exp": epoch(NOW + timedelta(days=1))}
    _refused("status-unavailable", encode_jws({"typ": "statuslist+jwt"}, payload, signer), signer)
