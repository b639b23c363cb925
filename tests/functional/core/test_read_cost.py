"""What a read of personal data costs in store calls, from the kernel's ``Server-Timing`` header: the read
itself and ONE write, the access record (ADR 0010). A change that adds calls to a read fails here, not
silently in production's bill (DynamoDB charges per call; DynamoDB Local's latency does not transfer)."""

from __future__ import annotations

import re

import pytest

from local.harness import Platform

pytestmark = pytest.mark.functional
STORE = re.compile(r'store;desc="(?P<calls>\d+) calls: (?P<ops>[^"]*)"')


def store_calls(response_headers: dict[str, str]) -> tuple[int, str]:
    match = STORE.search(response_headers.get("Server-Timing", ""))
    assert match, f"no store figure in Server-Timing: {response_headers.get('Server-Timing')!r}"
    return int(match["calls"]), match["ops"]


@pytest.mark.parametrize(
    ("tail", "calls", "ops"),
    [
        ("/consents", 2, "GetItem=1 PutItem=1"),
        ("/position", 2, "PutItem=1 Query=1"),  # + one BatchGetItem of the linked records' facts when there are any
        ("/preferences", 2, "GetItem=1 PutItem=1"),
    ],
)
def test_a_read_costs_its_reads_and_one_access_record(
    platform: Platform, citizen_id: str, tail: str, calls: int, ops: str
) -> None:
    # GIVEN a citizen WHEN they read their own data
    response = platform.http.get(platform.url(f"/v1/citizens/{citizen_id}{tail}"), headers=platform.as_(citizen_id))
    # THEN the answer says what it cost: its own reads and one conditional PutItem of the access record
    assert response.status_code == 200, response.text
    assert store_calls(dict(response.headers)) == (calls, ops)
    assert {"authn", "authz", "handler", "access"} <= {
        p.split(";")[0] for p in response.headers["Server-Timing"].split(", ")
    }
