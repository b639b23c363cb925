"""Every HTTP function with bearer routes counts an API consumer's requests in table ``consumers`` (the kernel's
quota, ``functions/core/quota.py``, ADR 0035): its IAM role in envs/aws may ``UpdateItem`` that table, or a
client's first request to it would be a 503 on AWS."""

from __future__ import annotations

from events.generate import discover_routes
from tests.contract.test_terraform import _granted, _roles


def test_every_function_a_client_may_call_may_count_its_quota() -> None:
    # GIVEN the HTTP functions with a route that is not public (a client's token may reach it)
    callable_by_clients = {f"pic-{c}" for c, routes in discover_routes().items() if any(not r.public for r in routes)}
    roles = {account: body for _, (_, account, body) in _roles().items()}
    # THEN each one's role may UpdateItem the consumers' table
    missing = sorted(
        account
        for account in callable_by_clients
        if "dynamodb:UpdateItem" not in _granted(roles.get(account, {})).get("table_consumers", set())
    )
    assert not missing, f"roles that cannot count a consumer's request (ConsumerQuota in functions.tf): {missing}"
