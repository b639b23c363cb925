"""The pollers' one loop (``functions.core.periodic``): a failed pass does not stop the next, a good one touches the
heartbeat the probes read, and ``stop`` ends it."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from functions.core import periodic


def test_a_failed_pass_is_tried_again_and_a_good_one_touches_the_heartbeat(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    heartbeat = tmp_path / "beat"
    monkeypatch.setenv("PIC_TEST_HEARTBEAT", str(heartbeat))
    stop, passes = threading.Event(), []

    def one_pass() -> None:
        passes.append(1)
        if len(passes) == 1:
            raise OSError("the store did not answer")
        if len(passes) == 3:
            stop.set()

    periodic.run_forever(stop, one_pass, every=0.0, heartbeat_env="PIC_TEST_HEARTBEAT", what="test sweep")
    assert len(passes) == 3 and heartbeat.exists()
    assert "test sweep pass failed: the store did not answer" in capsys.readouterr().err


def test_no_heartbeat_is_written_before_a_good_pass(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    heartbeat = tmp_path / "beat"
    monkeypatch.setenv("PIC_TEST_HEARTBEAT", str(heartbeat))
    stop = threading.Event()

    def failing() -> None:
        stop.set()
        raise OSError("down")

    periodic.run_forever(stop, failing, every=0.0, heartbeat_env="PIC_TEST_HEARTBEAT", what="test")
    assert not heartbeat.exists()
