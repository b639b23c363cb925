"""``python -m local.deadletters``: list dead letters with their reason and replay one, from a terminal."""

from __future__ import annotations

import subprocess
import sys
import uuid

import pytest

from local.harness import ROOT, Platform
from tests.functional.core.test_events_path import TRIGGER, change_request, deadletters_of, post_binary

pytestmark = pytest.mark.functional


def cli(platform: Platform, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "local.deadletters", "--url", platform.base, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_cli_lists_a_dead_letter_with_its_reason_and_replays_it(platform: Platform, citizen_id: str) -> None:
    # GIVEN a change request whose purpose is unknown, dead-lettered by the consent trigger
    event_id = f"cli-{uuid.uuid4().hex[:8]}"
    response = post_binary(platform, change_request(citizen_id, purpose="telepathy"), event_id=event_id)
    assert response.status_code == 202
    (letter,) = platform.wait_for(lambda: deadletters_of(platform, event_id), what="the dead letter")
    assert letter["trigger"] == TRIGGER

    # WHEN an operator lists dead letters
    listed = cli(platform, "list")
    # THEN it names the event, the subscriber and the reason
    assert listed.returncode == 0, listed.stderr
    line = next(i for i, text in enumerate(listed.stdout.splitlines()) if event_id in text)
    assert "pic-consent-events" in listed.stdout.splitlines()[line]
    assert "telepathy" in listed.stdout.splitlines()[line + 1]

    # WHEN they replay it THEN it is accepted (202) and, still invalid, dead-lettered once more
    replayed = cli(platform, "replay", str(letter["id"]))
    assert replayed.returncode == 0, replayed.stdout + replayed.stderr
    platform.wait_for(lambda: len(deadletters_of(platform, event_id)) == 2, what="the second dead letter")


def test_replaying_an_unknown_dead_letter_fails_with_the_problem(platform: Platform) -> None:
    result = cli(platform, "replay", "999999")
    assert result.returncode == 1 and "not-found" in result.stdout
