"""Routes whose answer names several people (``functions.core.http.Several``): the policy is asked about a
placeholder, and the kernel records one access per person the handler says it showed, in the view the route
declares."""

from __future__ import annotations

from typing import Any

import pytest

from functions.core import audit, http
from functions.core.auth import Subject
from functions.core.http import SUMMARY, Reads, Reply, RequestContext, Route, Several
from functions.core.policy import Decision

AGENT = Subject(id="ag-1", role="agent", level=1, area="atencion-ciudadania")


def route(reads: Reads) -> Route:
    return Route("/v1/x-search", "POST", lambda ctx: Reply(200), "a search", action="x.search", citizen=Several("(x)"),
                 reads=reads)  # fmt: skip


def context(r: Route) -> RequestContext:
    decision = Decision(True, ["agent for a purpose"], {"view": "full"})
    return RequestContext(
        request=None,  # type: ignore[arg-type]
        subject=AGENT,
        traceparent="00-0-0-01",
        route=r,
        function="pic-x",
        purpose="CITA-1",
        decision=decision,
    )


@pytest.fixture
def appended(monkeypatch: pytest.MonkeyPatch) -> list[audit.AccessRecord]:
    records: list[audit.AccessRecord] = []
    monkeypatch.setattr(audit, "append", lambda found: records.extend(found))
    return records


def test_a_route_naming_several_people_asks_about_its_placeholder() -> None:
    r = route(Reads("x-search", ("golden-record",)))
    assert r.names_citizen and r.names_several
    assert r.citizen is not None and r.citizen(context(r), {}) == "(x)"
    assert not http.is_person("(x)")  # a refusal is in nobody's access log
    with pytest.raises(ValueError, match="parentheses"):
        Several("cit-1")


def test_one_access_per_person_shown_in_the_view_the_route_declares(appended: list[audit.AccessRecord]) -> None:
    # GIVEN a search whose answer is a summary of each person, and a policy view of full
    r = route(Reads("x-search", ("golden-record",), view=SUMMARY))
    ctx = context(r)
    # WHEN its handler showed two people
    ctx.shown_citizens = ["cit-1", "cit-2"]
    http.disclose(ctx, Reply(200, {"matches": ["..."]}))
    # THEN each has one record: the agent, the purpose, the resource, the summary view
    assert [(a.citizen_id, a.reader.id, a.purpose, a.resource, a.sections, a.decision) for a in appended] == [
        ("cit-1", "ag-1", "CITA-1", "x-search", ["golden-record:summary"], "allowed"),
        ("cit-2", "ag-1", "CITA-1", "x-search", ["golden-record:summary"], "allowed"),
    ]


def test_nobody_shown_is_nobody_recorded(appended: list[audit.AccessRecord]) -> None:
    r = route(Reads("x-search", ("golden-record",), view=SUMMARY))
    ctx = context(r)
    ctx.shown_citizens = []
    reply: Any = http.disclose(ctx, Reply(200, {"matches": []}))
    assert reply.body == {"matches": []} and appended == []
