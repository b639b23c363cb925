"""A micro-app switched on for some districts only (FLAG): the citizen app reads the district of the citizen's
golden record at sign-in (their own read, through the API) and shows the micro-app to the citizens of those
districts only; a citizen C360 does not know yet is not held back by a district rule."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest

from local.harness import Platform
from tests.functional.citizen.test_citizen import fresh_dni, person, upsert, wait_for_citizen
from tests.functional.web.web_support import sign_in

FLAGS_POLL = 2.0  # PIC_FLAGS_POLL_SECONDS of the local platform


def _golden_in(platform: Platform, district: str) -> str:
    local_id = f"PAD{uuid.uuid4().hex[:10]}"
    data = person(local_id, fresh_dni())
    data["address"]["district"] = district
    upsert(platform, "/legacy/padron", data)
    return wait_for_citizen(platform, "/legacy/padron", local_id)


def _set_alerts(platform: Platform, districts: list[str]) -> None:
    admin = platform.as_("adm-district", role="admin")
    current = platform.http.get(platform.url("/v1/flags"), timeout=10).json()["flags"]["alerts"]
    body = {"enabled": True, "districts": districts, "reason": "district pilot test", "version": current["version"]}
    answer = platform.http.put(platform.url("/v1/flags/alerts"), json=body, headers=admin, timeout=10)
    assert answer.status_code == 200, answer.text


@pytest.fixture
def alerts_in_retiro(platform: Platform) -> Iterator[None]:
    """The alerts micro-app on in Retiro (03) only; on everywhere again when the test ends."""
    _set_alerts(platform, ["03"])
    yield
    _set_alerts(platform, [])
    time.sleep(FLAGS_POLL * 1.5)  # every worker has polled the rule back on before the next test asks


def test_a_district_pilot_shows_the_micro_app_to_that_districts_citizens_only(
    platform: Platform, alerts_in_retiro: None
) -> None:
    retiro, centro = _golden_in(platform, "03"), _golden_in(platform, "01")
    unknown = f"c-{uuid.uuid4().hex[:10]}"  # no golden record: no district known

    def shows_alerts(citizen: str) -> bool:
        home = sign_in(platform, citizen).get(platform.url("/app/"), timeout=10)
        return 'id="nav-alerts"' in home.text

    def page_status(citizen: str) -> int:
        return sign_in(platform, citizen).get(platform.url("/app/alerts"), timeout=10).status_code

    def pilot_in_force() -> bool:
        """Each web worker reads the flags within FLAGS_POLL: the four answers below may come from different
        workers, so the pilot is in force when all of them say so in one pass."""
        hidden = not shows_alerts(centro) and page_status(centro) == 404
        return hidden and shows_alerts(retiro) and shows_alerts(unknown) and page_status(retiro) == 200

    platform.wait_for(pilot_in_force, timeout=FLAGS_POLL * 5, what="the pilot in force for every web worker")
