"""The local tools as a newcomer meets them: they find the platform ``make run`` recorded, say in one line
what is wrong when there is none, and ``make run``'s console lists every part with a hint that works."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from local import deadletters, load_records, seed_status
from local.__main__ import hint, local_environment, parse_args, parts_table
from local.running import PLATFORM_FILE, ToolError, base_url, forget_platform, running_platform, write_platform


def test_a_tool_without_a_platform_says_so_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # GIVEN a data directory where no platform runs
    # WHEN each tool is asked to talk to it
    for tool, args in ((deadletters, ["list"]), (seed_status, []), (load_records, [str(tmp_path)])):
        (tmp_path / "padron.jsonl").write_text("{}\n", encoding="utf-8")
        code = tool.main(["--data-dir", str(tmp_path), *args])
        err = capsys.readouterr().err
        # THEN it exits with 2 and one sentence naming what to do, never a traceback
        assert code == 2, tool.__name__
        assert "make run" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1, err


def test_an_unreachable_platform_is_one_line_too(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # GIVEN a URL nobody answers on THEN the tool says it cannot reach it, exit code 2
    assert deadletters.main(["--url", "http://127.0.0.1:9", "list"]) == 2
    err = capsys.readouterr().err
    assert "cannot reach http://127.0.0.1:9" in err and "Traceback" not in err


def test_the_platform_record_is_found_and_forgotten_by_its_own_supervisor(tmp_path: Path) -> None:
    # GIVEN make run's record of itself (this process plays the supervisor)
    write_platform(tmp_path, {"base_url": "http://127.0.0.1:18080", "supervisor_pid": os.getpid()})
    # THEN the tools find its URL without being told a port, and --url still wins
    assert base_url(None, tmp_path) == "http://127.0.0.1:18080"
    assert base_url("http://elsewhere:1/", tmp_path) == "http://elsewhere:1"
    # AND another supervisor's stop leaves it; its own removes it
    forget_platform(tmp_path, os.getpid() + 1)
    assert (tmp_path / PLATFORM_FILE).exists()
    forget_platform(tmp_path, os.getpid())
    assert not (tmp_path / PLATFORM_FILE).exists()


def test_a_record_left_by_a_platform_that_died_is_not_believed(tmp_path: Path) -> None:
    # GIVEN a record whose supervisor is gone (killed: it could not remove it)
    (tmp_path / PLATFORM_FILE).write_text(json.dumps({"base_url": "http://x", "supervisor_pid": 2**22 + 7}))
    # THEN the tools say it is not running
    with pytest.raises(ToolError, match="is not running"):
        running_platform(tmp_path)


def test_the_console_lists_every_part_and_ends_with_a_hint(tmp_path: Path) -> None:
    # GIVEN make run's environment
    env = local_environment(parse_args(["--port", "18080", "--data-dir", str(tmp_path), "--smtp-port", "2525"]))
    table = parts_table(env, [("/v1/citizens/{citizen_id}/consents", "pic-consent")])
    # THEN every part is there, the release poller and the SMS/push provider endpoints included
    for part in ("notification release", "/dev/sms/messages", "/dev/push/messages", "127.0.0.1:2525", "/dev/mail",
                 "outbox relays", "DynamoDB Local", "/dev/deadletters", "/dev/pending", PLATFORM_FILE):  # fmt: skip
        assert part in table, part
    # AND it ends with the hint, then where to go next
    lines = table.splitlines()
    assert lines[-3:-1] == [f"  {line}" for line in hint("http://127.0.0.1:18080")]
    assert "README.md" in lines[-1] and "make help" in lines[-1]
    # AND the console reads as text unless asked for JSON
    assert env["PIC_LOG_FORMAT"] == "human"
