"""The local provider sinks: what ``/dev/mail``, ``/dev/sms`` and ``/dev/push`` report."""

from __future__ import annotations

import json
from pathlib import Path

from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from local.notify_sinks import ProviderSinks


def get(sinks: ProviderSinks, kind: str, query: str) -> dict[str, object]:
    request = Request(EnvironBuilder(method="GET", path=f"/dev/{kind}", query_string=query).get_environ())
    response = sinks.listing(kind, request)
    assert response.status_code == 200
    return dict(json.loads(response.get_data()))


def test_the_count_is_of_the_messages_to_the_recipient_asked_for(tmp_path: Path) -> None:
    # GIVEN two mails to Inés, one to Luis, and an SMS
    sinks = ProviderSinks(tmp_path)
    for to in ("ines@example.org", "luis@example.org", "ines@example.org"):
        sinks.store.add("mail", to, None, "s", "b", "raw")
    sinks.store.add("sms", "+34612345678", None, None, "b", "raw")
    # WHEN the mail sink is asked for Inés's messages THEN the count is of hers, as the list is
    mine = get(sinks, "mail", "to=ines@example.org")
    assert mine["count"] == 2 and isinstance(mine["messages"], list) and len(mine["messages"]) == 2
    # AND without a filter it is every mail (not the SMS)
    assert get(sinks, "mail", "")["count"] == 3
    # AND a limit shortens the list, never the count
    assert get(sinks, "mail", "limit=1")["count"] == 3
