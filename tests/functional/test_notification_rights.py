"""Functional: the data-subject rights service functions (contracts.md §3) over the platform's DynamoDB:
export everything NOT holds about a citizen; erase what may be erased and report what is kept and why."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from typing import Any

import pytest

from local.harness import ROOT, Platform
from tests.functional.notification_support import IBI_VALUES, fresh_template, notify, profile, wait_status

pytestmark = pytest.mark.functional


def call(platform: Platform, function: str, citizen_id: str) -> Any:
    """``functions.notification.pipeline.<function>(citizen_id)`` in a process bound to the platform's DynamoDB,
    as the RGPD request handler will call it."""
    port = platform.args[platform.args.index("--dynamodb-port") + 1]
    env = {
        **os.environ, "PYTHONPATH": str(ROOT), "PIC_DYNAMODB_ENDPOINT": f"http://127.0.0.1:{port}",
        "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local", "AWS_REGION": "eu-south-2",
    }  # fmt: skip
    code = (
        "import json; from functions.notification import pipeline; "
        f"print(json.dumps(pipeline.{function}({citizen_id!r}), default=str))"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_export_then_erasure_keeps_only_what_the_law_requires(platform: Platform) -> None:
    # GIVEN a citizen who prefers the app, with a push endpoint, one message read and one unread
    citizen = f"c-{uuid.uuid4().hex[:10]}"
    me = platform.as_(citizen)
    assert platform.http.put(
        platform.url(f"/v1/citizens/{citizen}/preferences"), json={"channels": ["inapp"]}, headers=me
    ).ok
    assert platform.http.put(
        platform.url(f"/v1/citizens/{citizen}/push-endpoint"),
        json={"endpoint": "https://push.example.org/x"},
        headers=me,
    ).ok
    platform.wait_for(lambda: profile(platform, citizen)["channels"] == ["inapp"], what="the projection")
    template = fresh_template(platform)
    ids = []
    for _ in range(2):
        created = notify(
            platform, {"template": template, "recipient": {"citizen_id": citizen}, "personalisation": IBI_VALUES}
        )
        ids.append(created.json()["id"])
        wait_status(platform, created.json()["id"])
    assert (
        platform.http.post(platform.url(f"/v1/citizens/{citizen}/inbox/{ids[0]}/read"), headers=me).status_code == 204
    )

    # WHEN NOT's data is exported
    exported = call(platform, "export_citizen", citizen)

    # THEN the projection and both messages are in it
    assert exported["profile"]["preferences"]["value"]["channels"] == ["inapp"]
    assert exported["profile"]["push_endpoint"]["value"] == "https://push.example.org/x"
    assert {m["notification_id"] for m in exported["inbox"]} == set(ids)

    # WHEN it is erased
    actions = call(platform, "erase_citizen", citizen)

    # THEN the push endpoint and the read message are gone; the unread notice and the projection are kept, with why
    results = {a["what"]: (a["result"], a["count"]) for a in actions}
    assert results["push endpoint"] == ("erased", 1)
    assert results["in-app messages already read"] == ("erased", 1)
    assert results["unread in-app notices"] == ("kept", 1)
    assert all(a["legal_basis"] for a in actions if a["result"] == "kept")
    after = call(platform, "export_citizen", citizen)
    assert "push_endpoint" not in after["profile"]
    assert [m["notification_id"] for m in after["inbox"]] == [ids[1]]
