"""Signed policy bundles (functions/core/bundle.py) and the watched embedded engine that serves them."""

from __future__ import annotations

import gzip
import io
import json
import tarfile
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import jwt
import pytest

from functions.core import bundle
from functions.core.bundle import BundleError, PolicyBundle
from functions.core.policy import BundlePolicy, BundleSource, EmbeddedPolicy, get_policy
from functions.core.settings import get_settings
from tests.unit.conftest import ROOT

POLICIES = ROOT / "policies"
KEY, PUBLIC = bundle.generate_key()
OTHER_KEY, OTHER_PUBLIC = bundle.generate_key()
AUTHZ_OWN = {"subject": {"id": "c-1", "role": "citizen", "level": 0}, "action": "consent.read"}
AUTHZ_OWN["resource"] = {"citizen_id": "c-1"}


def files_of(root: Path = POLICIES) -> dict[str, bytes]:
    return bundle.source_files(root)


def repack(archive: bytes, change: dict[str, bytes | None]) -> bytes:
    """The same archive with files replaced (or removed when None), signatures left as they were."""
    files = bundle.unpack(archive)
    for name, content in change.items():
        if content is None:
            files.pop(name, None)
        else:
            files[name] = content
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        for name, content in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    return gzip.compress(raw.getvalue())


def test_a_bundle_round_trips_with_its_revision_modules_and_data() -> None:
    archive = bundle.build(files_of(), "r-1", KEY)
    read = bundle.read(archive, PUBLIC)
    local = PolicyBundle.load(POLICIES)
    assert read.version == "r-1"
    assert read.modules == local.modules and read.data == local.data and read.packages == local.packages
    assert {"authz", "consent", "rgpd.retention"} <= set(read.packages)


def test_the_archive_is_in_opas_layout() -> None:
    files = bundle.unpack(bundle.build(files_of(), "r-1", KEY))
    assert json.loads(files[".manifest"])["revision"] == "r-1"
    assert "authz/authz.rego" in files and "rgpd/retention/data.json" in files
    assert not any(name.endswith("_test.rego") for name in files)  # tests never ship
    token = json.loads(files[".signatures.json"])["signatures"][0]
    claims = jwt.decode(token, PUBLIC, algorithms=["ES256"])
    signed = {entry["name"]: entry for entry in claims["files"]}
    assert signed.keys() == files.keys() - {".signatures.json"}
    assert all(entry["algorithm"] == "SHA-256" for entry in signed.values())


def test_json_files_are_hashed_in_canonical_form() -> None:
    """OPA hashes a JSON file's parsed value, so whitespace and key order do not matter; content does."""
    assert bundle.file_hash("x/data.json", b'{"b": 1,\n "a": [1, 2]}') == bundle.file_hash(
        "x/data.json", b'{"a":[1,2],"b":1}'
    )
    assert bundle.file_hash("x/data.json", b'{"a": 1}') != bundle.file_hash("x/data.json", b'{"a": 2}')
    assert bundle.file_hash("x/a.rego", b"package a\n") != bundle.file_hash("x/a.rego", b"package a \n")


def test_the_same_policies_give_the_same_revision_and_files() -> None:
    assert bundle.content_revision(files_of()) == PolicyBundle.load(POLICIES).version
    first, second = (bundle.unpack(bundle.build(files_of(), "r", KEY)) for _ in range(2))
    assert first.pop(".signatures.json") != second.pop(".signatures.json")  # ECDSA: a fresh nonce each time
    assert first == second


def test_a_tampered_file_is_refused() -> None:
    archive = bundle.build(files_of(), "r-1", KEY)
    data = json.loads(bundle.unpack(archive)["rgpd/retention/data.json"])
    data["changed"] = True
    with pytest.raises(BundleError, match=r"rgpd/retention/data\.json: hash differs"):
        bundle.read(repack(archive, {"rgpd/retention/data.json": json.dumps(data).encode()}), PUBLIC)


def test_a_tampered_revision_is_refused() -> None:
    archive = bundle.build(files_of(), "r-1", KEY)
    with pytest.raises(BundleError, match=r"\.manifest: hash differs"):
        bundle.read(repack(archive, {".manifest": b'{"revision": "r-2"}'}), PUBLIC)


def test_an_added_or_removed_file_is_refused() -> None:
    archive = bundle.build(files_of(), "r-1", KEY)
    with pytest.raises(BundleError, match="does not cover"):
        bundle.read(repack(archive, {"extra/extra.rego": b"package extra\n"}), PUBLIC)
    with pytest.raises(BundleError, match="missing from the bundle"):
        bundle.read(repack(archive, {"consent/consent.rego": None}), PUBLIC)


def test_a_bundle_signed_with_another_key_is_refused() -> None:
    with pytest.raises(BundleError, match="signature does not verify"):
        bundle.read(bundle.build(files_of(), "r-1", OTHER_KEY), PUBLIC)


def test_an_unsigned_bundle_is_refused() -> None:
    archive = bundle.build(files_of(), "r-1", KEY)
    with pytest.raises(BundleError, match="not signed"):
        bundle.read(repack(archive, {".signatures.json": None}), PUBLIC)


def test_an_hmac_token_made_with_the_public_key_is_refused() -> None:
    """Algorithm confusion: the public key is public, so it must never verify an HS256 signature."""
    files = bundle.unpack(bundle.build(files_of(), "r-1", KEY))
    claims = jwt.decode(json.loads(files[".signatures.json"])["signatures"][0], PUBLIC, algorithms=["ES256"])
    forged = jwt.encode(claims, "an-hmac-secret-long-enough-for-pyjwt-32b", algorithm="HS256")
    with pytest.raises(BundleError, match="signature does not verify"):
        bundle.verify({**files, ".signatures.json": json.dumps({"signatures": [forged]}).encode()}, PUBLIC)


def test_a_manifest_without_revision_is_refused() -> None:
    files = {"a/a.rego": b'package a\n\ndecision := {"allow": true}\n', ".manifest": b"{}"}
    with pytest.raises(BundleError, match="no revision"):
        bundle.verify({**files, ".signatures.json": bundle.sign(files, KEY)}, PUBLIC)


def test_paths_outside_the_bundle_and_garbage_are_refused() -> None:
    archive = bundle.build(files_of(), "r-1", KEY)
    with pytest.raises(BundleError, match="not a plain file inside"):
        bundle.unpack(repack(archive, {"../evil.rego": b"package evil\n"}))
    with pytest.raises(BundleError, match="not a gzip"):
        bundle.unpack(b"not a bundle")


def test_bad_rego_in_a_well_signed_bundle_fails_to_compile(tmp_path: Path) -> None:
    files = {**files_of(), "consent/consent.rego": b"package consent\n\ndecision := {\n"}
    read = bundle.read(bundle.build(files, "r-bad", KEY), PUBLIC)  # the signature is fine
    with pytest.raises(BundleError, match="do not compile"):
        EmbeddedPolicy(read)


# ---------------------------------------------------------------------------
# BundlePolicy: the watched engine, swapped atomically
# ---------------------------------------------------------------------------


def publish(path: Path, files: dict[str, bytes], revision: str, key: bytes = KEY) -> None:
    """Write atomically, as a publisher should (a reader never sees half a file)."""
    staging = path.with_suffix(".tmp")
    staging.write_bytes(bundle.build(files, revision, key))
    staging.replace(path)


def with_authz_denying_all() -> dict[str, bytes]:
    files = files_of()
    files["authz/authz.rego"] = b'package authz\n\ndecision := {"allow": false, "reasons": ["frozen"]}\n'
    return files


def served(tmp_path: Path, revision: str = "r-1") -> tuple[BundlePolicy, Path]:
    path = tmp_path / "bundle.tar.gz"
    publish(path, files_of(), revision)
    return BundlePolicy(BundleSource(str(path)), PUBLIC, poll_seconds=0), path


def test_a_new_revision_is_swapped_in_and_decisions_flip(tmp_path: Path) -> None:
    policy, path = served(tmp_path)
    assert policy.revision == "r-1" and policy.decide("authz", AUTHZ_OWN).allow
    publish(path, with_authz_denying_all(), "r-2")
    assert policy.refresh() is True
    assert policy.revision == "r-2"
    assert policy.decide("authz", AUTHZ_OWN).reasons == ["frozen"]
    assert policy.refresh() is False  # unchanged file: nothing fetched, nothing swapped
    path.touch()
    assert policy.source.fetch() is None  # touched, same bytes: nothing to verify again


@pytest.mark.parametrize(
    ("files", "key", "reason"),
    [
        (with_authz_denying_all(), OTHER_KEY, "signature does not verify"),
        ({**files_of(), "authz/authz.rego": b"package authz\n\ndecision := {\n"}, KEY, "do not compile"),
        ({**files_of(), "authz/authz.rego": b"package authz\n\ndecision := 1\n"}, KEY, "no decision"),
        ({k: v for k, v in files_of().items() if not k.startswith("consent/")}, KEY, "drops packages"),
    ],
    ids=["wrong-key", "bad-rego", "no-decision", "drops-a-package"],
)
def test_a_bad_bundle_is_refused_and_the_good_one_keeps_serving(
    tmp_path: Path, files: dict[str, bytes], key: bytes, reason: str, caplog: pytest.LogCaptureFixture
) -> None:
    policy, path = served(tmp_path)
    publish(path, files, "r-bad", key)
    assert policy.refresh() is False
    assert policy.revision == "r-1" and policy.decide("authz", AUTHZ_OWN).allow
    refused = [r for r in caplog.records if r.getMessage() == "policy bundle refused"]
    assert refused and reason in refused[0].__dict__["policy_bundle"]["reason"]


def test_a_bad_first_bundle_fails_at_start(tmp_path: Path) -> None:
    path = tmp_path / "bundle.tar.gz"
    publish(path, files_of(), "r-1", OTHER_KEY)
    with pytest.raises(BundleError):
        BundlePolicy(BundleSource(str(path)), PUBLIC, poll_seconds=0)


def test_an_unreachable_source_keeps_the_revision_serving(tmp_path: Path) -> None:
    policy, path = served(tmp_path)
    path.unlink()
    assert policy.refresh() is False and policy.revision == "r-1"


def test_every_decision_log_line_carries_the_revision(
    tmp_path: Path, logged: Callable[[], list[dict[str, Any]]]
) -> None:
    policy, _ = served(tmp_path, "r-logged")
    policy.decide("authz", AUTHZ_OWN)
    entries = [entry for entry in logged() if "decision_log" in entry]
    assert entries[-1]["decision_log"]["revision"] == "r-logged" and entries[-1]["decision_log"]["policy"] == "authz"


def test_the_watcher_polls_and_swaps(tmp_path: Path) -> None:
    path = tmp_path / "bundle.tar.gz"
    publish(path, files_of(), "r-1")
    policy = BundlePolicy(BundleSource(f"file://{path}"), PUBLIC, poll_seconds=0.05)
    policy.start()
    try:
        publish(path, with_authz_denying_all(), "r-2")
        swapped = threading.Event()
        for _ in range(100):
            if policy.revision == "r-2":
                swapped.set()
                break
            threading.Event().wait(0.05)
        assert swapped.is_set()
    finally:
        policy.stop()


class _BundleServer(BaseHTTPRequestHandler):
    archive = b""
    etag = '"r-1"'
    requests: ClassVar[list[dict[str, Any]]] = []

    def do_GET(self) -> None:
        type(self).requests.append({"if_none_match": self.headers.get("If-None-Match")})
        if self.headers.get("If-None-Match") == self.etag:
            self.send_response(304)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("ETag", self.etag)
        self.send_header("Content-Length", str(len(self.archive)))
        self.end_headers()
        self.wfile.write(self.archive)

    def log_message(self, *args: Any) -> None:
        pass


def test_http_sources_ask_with_if_none_match() -> None:
    _BundleServer.archive = bundle.build(files_of(), "r-1", KEY)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _BundleServer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        policy = BundlePolicy(BundleSource(f"http://127.0.0.1:{server.server_port}/b.tar.gz"), PUBLIC, 0)
        assert policy.refresh() is False  # 304: nothing downloaded
        _BundleServer.archive, _BundleServer.etag = bundle.build(with_authz_denying_all(), "r-2", KEY), '"r-2"'
        assert policy.refresh() is True and policy.revision == "r-2"
        assert [r["if_none_match"] for r in _BundleServer.requests] == [None, '"r-1"', '"r-1"']
    finally:
        server.shutdown()


def test_get_policy_serves_the_bundle_the_settings_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "bundle.tar.gz"
    publish(path, files_of(), "r-from-settings")
    monkeypatch.setenv("PIC_POLICY_ENGINE", "embedded")
    monkeypatch.setenv("PIC_POLICY_BUNDLE_URL", f"file://{path}")
    monkeypatch.setenv("PIC_POLICY_BUNDLE_PUBLIC_KEY", PUBLIC.decode())
    monkeypatch.setenv("PIC_POLICY_BUNDLE_POLL_SECONDS", "0")
    get_settings.cache_clear()
    get_policy.cache_clear()
    try:
        policy = get_policy()
        assert isinstance(policy, BundlePolicy) and policy.revision == "r-from-settings"
    finally:
        get_settings.cache_clear()
        get_policy.cache_clear()


def test_the_watcher_survives_an_unexpected_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _, path = served(tmp_path)
    policy = BundlePolicy(BundleSource(str(path)), PUBLIC, poll_seconds=0.02)
    calls: list[int] = []

    def broken() -> bool:
        calls.append(1)
        raise RuntimeError("a bug in a poll")

    monkeypatch.setattr(policy, "refresh", broken)
    policy.start()
    try:
        for _ in range(100):
            if len(calls) >= 3:
                break
            threading.Event().wait(0.02)
        assert len(calls) >= 3 and policy.revision == "r-1"  # it kept polling, the revision kept serving
    finally:
        policy.stop()
