"""What every citizen timeline route (``GET /v1/citizens/{id}/<resource>``, newest first, paged by cursor)
must do alike, asked of the real platform: the citizen's own only; an agent only with a purpose, recorded in
the citizen's access log; level 1 sees the summary; a malformed limit, cursor or id is a 422 naming it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import requests

from local.harness import Platform
from tests.functional.consent_support import assert_problem, field_names

MALFORMED = [
    ({"limit": "0"}, "limit"),
    ({"limit": "101"}, "limit"),
    ({"limit": "veinte"}, "limit"),
    ({"limit": "-3"}, "limit"),
    ({"limit": "1e3"}, "limit"),
    ({"cursor": "not-a-cursor"}, "cursor"),
    ({"cursor": "%%%"}, "cursor"),
    ({"cursor": "eyJhdCI6IDF9"}, "cursor"),  # {"at": 1}
    ({"cursor": "eyJhdCI6ICJ5ZXN0ZXJkYXkiLCAiaWQiOiAibnRmLTEifQ=="}, "cursor"),  # {"at": "yesterday", ...}
    ({"cursor": "x" * 2000}, "cursor"),
]
"""Each ``(query parameters, the field the 422 names)``: parametrize a route's test with it."""


@dataclass(frozen=True)
class Timeline:
    """One timeline route: its resource (``interactions``), the function serving it and an agent's purpose."""

    resource: str
    function: str
    purpose: str

    def get(self, platform: Platform, citizen_id: str, headers: dict[str, str], **params: Any) -> requests.Response:
        url = platform.url(f"/v1/citizens/{citizen_id}/{self.resource}")
        return platform.http.get(url, params=params, headers=headers, timeout=15)

    def agent(self, platform: Platform, sub: str, level: int = 2, purpose: str | None = "") -> dict[str, str]:
        """An agent's headers, stating this route's purpose unless ``purpose`` is ``None``."""
        headers = platform.as_(sub, role="agent", level=level, area="atencion-ciudadania")
        stated = self.purpose if purpose == "" else purpose
        return {**headers, "Access-Purpose": stated} if stated else headers

    def read_all(self, platform: Platform, citizen_id: str, limit: int) -> list[list[dict[str, Any]]]:
        """The citizen's pages of ``limit`` items, following ``next_cursor`` to the end."""
        pages: list[list[dict[str, Any]]] = []
        cursor: str | None = None
        while True:
            params = {"limit": limit, **({"cursor": cursor} if cursor else {})}
            response = self.get(platform, citizen_id, platform.as_(citizen_id), **params)
            assert response.status_code == 200, response.text
            body = response.json()
            assert set(body) == {"items", "next_cursor"}
            pages.append(body["items"])
            if (cursor := body["next_cursor"]) is None:
                return pages

    def assert_others_refused(self, platform: Platform, citizen_id: str, system: str) -> None:
        """Another citizen, an administrator and a system are refused, 403."""
        for headers in (
            platform.as_(f"c-nosy-{uuid.uuid4().hex[:6]}"),
            platform.as_(f"adm-{self.resource}", role="admin"),
            platform.as_(system, role="system"),
        ):
            assert_problem(self.get(platform, citizen_id, headers), 403, "forbidden")

    def assert_agent_needs_a_purpose(
        self, platform: Platform, citizen_id: str, newest_first: list[str]
    ) -> list[dict[str, Any]]:
        """Without a purpose an agent is refused saying why; with one, level 2 reads the items and level 1 the
        summary; the citizen's access log shows the refused and the allowed read, with the purpose. The
        summary's items, for the route's own checks."""
        reader = f"ag-{self.resource[:4]}-{uuid.uuid4().hex[:6]}"
        refused = self.get(platform, citizen_id, self.agent(platform, reader, purpose=None))
        assert "Access-Purpose" in assert_problem(refused, 403, "forbidden")["detail"]

        response = self.get(platform, citizen_id, self.agent(platform, reader), limit=3)
        assert response.status_code == 200, response.text
        assert [i["id"] for i in response.json()["items"]] == newest_first[:3]

        summary = self.get(platform, citizen_id, self.agent(platform, f"{reader}-l1", level=1)).json()
        assert summary["view"] == "summary" and [i["id"] for i in summary["items"]] == newest_first

        allowed, denied = sorted(self._logged_reads(platform, citizen_id, reader), key=lambda e: e["decision"])
        assert allowed["decision"] == "allowed" and allowed["purpose"] == self.purpose
        assert allowed["function"] == self.function and allowed["sections"] == [f"{self.resource}:detail"]
        assert denied["decision"] == "denied" and denied["sections"] == []
        return list(summary["items"])

    def _logged_reads(self, platform: Platform, citizen_id: str, reader: str) -> list[dict[str, Any]]:
        me = platform.as_(citizen_id)

        def reads() -> list[dict[str, Any]] | None:
            log = platform.http.get(platform.url(f"/v1/citizens/{citizen_id}/access-log"), headers=me, timeout=15)
            assert log.status_code == 200, log.text
            mine = [e for e in log.json()["entries"] if e["reader"]["id"] == reader and e["resource"] == self.resource]
            return mine if len(mine) == 2 else None

        return platform.wait_for(reads, what="the agent's reads")

    def assert_malformed_refused(self, platform: Platform, citizen_id: str, params: dict[str, str], field: str) -> None:
        problem = assert_problem(self.get(platform, citizen_id, platform.as_(citizen_id), **params), 422, "validation")
        assert field_names(problem) == {field}

    def assert_bad_ids_refused_and_nobody_empty(self, platform: Platform) -> None:
        """An id that cannot be a citizen's is a 422; a citizen with nothing gets an empty last page."""
        headers = self.agent(platform, f"ag-{self.resource[:4]}-ids")
        for bad in ("-starts-with-dash", "a" * 65, "semi;colon"):
            assert_problem(self.get(platform, bad, headers), 422, "validation")
        nobody = f"c-{self.resource[:4]}-none-{uuid.uuid4().hex[:6]}"
        response = self.get(platform, nobody, platform.as_(nobody))
        assert response.status_code == 200 and response.json() == {"items": [], "next_cursor": None}
