"""Signed OPA bundles: build, sign, verify and read them (docs/decisions/0016).

The format is OPA's own (https://www.openpolicyagent.org/docs/management-bundles): a gzipped tar with the
Rego modules and ``data.json`` files at their place in ``data``, a ``.manifest`` carrying the ``revision``,
and ``.signatures.json`` holding one JWT whose ``files`` claim lists every other file with its SHA-256.
JSON files are hashed in OPA's canonical form (keys sorted, no spaces, no HTML escaping), anything else
byte for byte, so OPA itself accepts the bundles built here and PIC accepts the ones ``opa build
--signing-key`` makes. Pure functions: no I/O beyond the bytes and paths given.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

MANIFEST = ".manifest"
SIGNATURES = ".signatures.json"
HASH_ALGORITHM = "SHA-256"
SIGNING_ALGORITHM = "ES256"
# Asymmetric only: a public key must never be accepted as an HMAC secret (algorithm confusion).
VERIFY_ALGORITHMS = ["ES256", "ES384", "ES512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "EdDSA"]
KEY_ID = "pic-policies"
MAX_BUNDLE_BYTES = 8 * 1024 * 1024  # decompressed: policies are kilobytes, a bigger bundle is a mistake


class BundleError(ValueError):
    """A bundle that must not be served: unsigned, signed by another key, tampered with or malformed."""


@dataclass(frozen=True)
class PolicyBundle:
    """Rego modules and data in OPA's layout (data.json at its folder's path), and the revision they form."""

    modules: list[tuple[str, str]]
    data: dict[str, Any]
    packages: list[str]
    version: str

    @classmethod
    def load(cls, root: Path) -> PolicyBundle:
        """The policies under ``root`` (a checkout's ``policies/``); the revision is a digest of them."""
        files = source_files(root)
        return from_files(files, revision=content_revision(files))


def package_of(text: str) -> str:
    for line in text.splitlines():
        if line.startswith("package "):
            return line.split()[1]
    raise BundleError("a Rego module without a package line")


def canonical_json(value: Any) -> bytes:
    """OPA's canonical JSON (bundle/hash.go: keys sorted, no spaces, Go's encoder without HTML escaping):
    what a JSON file's hash is computed over. Go also escapes U+2028/U+2029; numbers are hashed as Python
    writes them, which matches Go for integers and plain decimals (our data has no exponents)."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029").encode()


def file_hash(name: str, content: bytes) -> str:
    """SHA-256 of a bundle file as OPA computes it (JSON files canonicalised first)."""
    if name.endswith(".json") or name == MANIFEST:
        try:
            content = canonical_json(json.loads(content))
        except ValueError as exc:
            raise BundleError(f"{name} is not valid JSON: {exc}") from exc
    return hashlib.sha256(content).hexdigest()


def source_files(root: Path) -> dict[str, bytes]:
    """The files a bundle carries from a ``policies/`` folder: modules without their tests, and data.json."""
    found = {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
        and ((path.suffix == ".rego" and not path.name.endswith("_test.rego")) or path.name == "data.json")
    }
    if not found:
        raise BundleError(f"no Rego modules under {root}")
    return found


def content_revision(files: dict[str, bytes]) -> str:
    """A revision naming the content: the same policies give the same revision on every machine."""
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + file_hash(name, files[name]).encode() + b"\0")
    return digest.hexdigest()[:12]


def from_files(files: dict[str, bytes], revision: str) -> PolicyBundle:
    """Modules and data from a bundle's files (names relative to the bundle root)."""
    modules: list[tuple[str, str]] = []
    data: dict[str, Any] = {}
    for name in sorted(files):
        if name.endswith(".rego"):
            modules.append((name, files[name].decode("utf-8")))
        elif name.endswith("data.json"):
            node = data
            for part in Path(name).parent.parts:
                node = node.setdefault(part, {})
            loaded = json.loads(files[name])
            if not isinstance(loaded, dict):
                raise BundleError(f"{name} is not a JSON object")
            node.update(loaded)
    if not modules:
        raise BundleError("a bundle without Rego modules")
    packages = sorted({package_of(text) for _, text in modules})
    return PolicyBundle(modules=modules, data=data, packages=packages, version=revision)


def generate_key() -> tuple[bytes, bytes]:
    """A new P-256 signing key and its public key, both PEM (``make policy-keys``)."""
    private = ec.generate_private_key(ec.SECP256R1())
    private_pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public_pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private_pem, public_pem


def sign(files: dict[str, bytes], private_key_pem: bytes) -> bytes:
    """``.signatures.json`` for these files (the manifest included), as ``opa sign`` writes it."""
    claims = {
        "files": [
            {"name": name, "hash": file_hash(name, files[name]), "algorithm": HASH_ALGORITHM} for name in sorted(files)
        ],
        "keyid": KEY_ID,
    }
    token = jwt.encode(claims, private_key_pem, algorithm=SIGNING_ALGORITHM, headers={"kid": KEY_ID})
    return json.dumps({"signatures": [token]}, indent=2).encode()


def build(files: dict[str, bytes], revision: str, private_key_pem: bytes) -> bytes:
    """A signed bundle (tar.gz bytes) of ``files`` at ``revision`` (ECDSA signs with a fresh nonce each time)."""
    manifest = {"revision": revision, "roots": [""], "metadata": {"built_by": "pic compliance"}}
    content = {**files, MANIFEST: json.dumps(manifest, indent=2).encode()}
    content[SIGNATURES] = sign(content, private_key_pem)
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name in sorted(content):
            info = tarfile.TarInfo(f"/{name}")  # OPA's own bundles name members from the root
            info.size, info.mode, info.mtime = len(content[name]), 0o644, 0
            tar.addfile(info, io.BytesIO(content[name]))
    return gzip.compress(raw.getvalue(), mtime=0)


def unpack(archive: bytes) -> dict[str, bytes]:
    """Every regular file of a bundle archive by its name relative to the bundle root."""
    try:
        raw = gzip.decompress(archive)
    except (OSError, EOFError) as exc:
        raise BundleError(f"not a gzip archive: {exc}") from exc
    if len(raw) > MAX_BUNDLE_BYTES:
        raise BundleError(f"bundle larger than {MAX_BUNDLE_BYTES} bytes uncompressed")
    files: dict[str, bytes] = {}
    try:
        with tarfile.open(fileobj=io.BytesIO(raw), mode="r:") as tar:
            for member in tar.getmembers():
                if member.isdir():
                    continue
                name = member.name.lstrip("/")
                if not member.isfile() or ".." in Path(name).parts or not name:
                    raise BundleError(f"bundle member {member.name!r} is not a plain file inside the bundle")
                if name in files:
                    raise BundleError(f"bundle member {name!r} appears twice")
                extracted = tar.extractfile(member)
                files[name] = extracted.read() if extracted else b""
    except tarfile.TarError as exc:
        raise BundleError(f"not a tar archive: {exc}") from exc
    return files


def verify(files: dict[str, bytes], public_key_pem: bytes) -> dict[str, Any]:
    """Check the signature and that the signed file list is exactly the bundle's files with their hashes.

    Returns the manifest. Raises ``BundleError`` naming the first problem found.
    """
    if SIGNATURES not in files:
        raise BundleError("bundle is not signed (no .signatures.json)")
    try:
        signatures = json.loads(files[SIGNATURES])["signatures"]
    except (ValueError, KeyError, TypeError) as exc:
        raise BundleError(f".signatures.json is malformed: {exc}") from exc
    if not isinstance(signatures, list) or len(signatures) != 1:
        raise BundleError(".signatures.json must hold exactly one signature (as OPA requires)")
    try:
        claims = jwt.decode(signatures[0], public_key_pem, algorithms=VERIFY_ALGORITHMS)
    except jwt.InvalidTokenError as exc:
        raise BundleError(f"bundle signature does not verify: {exc}") from exc
    signed = _signed_hashes(claims)
    present = {name for name in files if name != SIGNATURES}
    if missing := sorted(signed.keys() - present):
        raise BundleError(f"signed files missing from the bundle: {missing}")
    if unsigned := sorted(present - signed.keys()):
        raise BundleError(f"files in the bundle that the signature does not cover: {unsigned}")
    for name in sorted(present):
        if file_hash(name, files[name]) != signed[name]:
            raise BundleError(f"{name}: hash differs from the signed one (tampered with)")
    return manifest_of(files)


def _signed_hashes(claims: dict[str, Any]) -> dict[str, str]:
    entries = claims.get("files")
    if not isinstance(entries, list):
        raise BundleError("signature carries no files claim")
    signed: dict[str, str] = {}
    for entry in entries:
        if not isinstance(entry, dict) or entry.get("algorithm", HASH_ALGORITHM) != HASH_ALGORITHM:
            raise BundleError(f"signed file entry not SHA-256: {entry!r}")
        signed[str(entry["name"]).lstrip("/")] = str(entry["hash"])
    return signed


def manifest_of(files: dict[str, bytes]) -> dict[str, Any]:
    if MANIFEST not in files:
        raise BundleError("bundle has no .manifest")
    try:
        manifest = json.loads(files[MANIFEST])
    except ValueError as exc:
        raise BundleError(f".manifest is not JSON: {exc}") from exc
    if not isinstance(manifest, dict) or not isinstance(manifest.get("revision"), str) or not manifest["revision"]:
        raise BundleError(".manifest carries no revision")
    return manifest


def read(archive: bytes, public_key_pem: bytes) -> PolicyBundle:
    """A verified bundle's policies at its manifest's revision (``BundleError`` if it must not be served)."""
    files = unpack(archive)
    manifest = verify(files, public_key_pem)
    policy_files = {name: content for name, content in files.items() if name not in (MANIFEST, SIGNATURES)}
    try:
        return from_files(policy_files, revision=manifest["revision"])
    except (UnicodeDecodeError, ValueError) as exc:
        raise BundleError(f"bundle content unreadable: {exc}") from exc
