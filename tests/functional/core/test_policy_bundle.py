"""A running platform serving a signed policy bundle: a new revision flips decisions, a bad one is refused.

The platform here is its own (not the session's): its functions read policies from a bundle file polled
every 0.3 s (PIC_POLICY_BUNDLE_URL), as deployed functions read theirs from a bucket or a bundle server.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from functions.core import bundle
from local.harness import Platform, start_platform
from tests.functional.consent_support import citizen_url

ROOT = Path(__file__).resolve().parents[3]
KEY, PUBLIC = bundle.generate_key()
OTHER_KEY, _ = bundle.generate_key()
FROZEN_AUTHZ = b'package authz\n\ndecision := {"allow": false, "reasons": ["Frozen by revision r-2."]}\n'


def publish(path: Path, files: dict[str, bytes], revision: str, key: bytes = KEY) -> None:
    staging = path.with_name(f".{path.name}.tmp")
    staging.write_bytes(bundle.build(files, revision, key))
    staging.replace(path)


@pytest.fixture(scope="module")
def bundled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Platform, Path]]:
    root = tmp_path_factory.mktemp("pic-bundle")
    path = root / "bundle.tar.gz"
    publish(path, bundle.source_files(ROOT / "policies"), "r-1")
    (root / "data").mkdir()
    variables = {
        "PIC_POLICY_BUNDLE_URL": f"file://{path}",
        "PIC_POLICY_BUNDLE_PUBLIC_KEY": PUBLIC.decode(),
        "PIC_POLICY_BUNDLE_POLL_SECONDS": "0.3",
    }
    saved = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        running = start_platform(root / "data")
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    yield running, path
    running.stop()


def test_a_published_revision_flips_decisions_and_a_bad_one_is_refused(bundled: tuple[Platform, Path]) -> None:
    platform, path = bundled
    citizen_id = f"c-{uuid.uuid4().hex[:12]}"
    me = platform.as_(citizen_id)

    def status() -> int:
        return platform.http.get(citizen_url(platform, citizen_id, "/consents"), headers=me, timeout=15).status_code

    # GIVEN revision r-1 (policies/ as in the repository): a citizen reads their own consents
    assert status() == 200

    # WHEN revision r-2, which refuses everything, is published
    publish(path, {**bundle.source_files(ROOT / "policies"), "authz/authz.rego": FROZEN_AUTHZ}, "r-2")

    # THEN every worker swaps to it within a few polls, and the same request is refused
    platform.wait_for(lambda: all(status() == 403 for _ in range(6)), timeout=20, what="r-2 serving")

    # WHEN a bundle signed by another key (r-1's policies, which would allow again) is published
    publish(path, bundle.source_files(ROOT / "policies"), "r-3-forged", OTHER_KEY)
    platform.wait_for(lambda: "policy bundle refused" in _log(platform), timeout=20, what="the refusal logged")

    # THEN it is refused and r-2 keeps serving; the decision log names r-2
    assert all(status() == 403 for _ in range(6))
    log = _log(platform)
    assert '"revision": "r-2"' in log or '"revision":"r-2"' in log
    assert "r-3-forged" not in log  # never activated, never decided under: its manifest was not even trusted


def _log(platform: Platform) -> str:
    """Everything the platform's processes wrote (the harness sends their output to one file)."""
    return "".join(path.read_text(errors="replace") for path in platform.data_dir.parent.glob("platform-*.log"))
