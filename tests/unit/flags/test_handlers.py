"""The flags use cases (``functions.flags.handlers``) on in-memory fakes: an administrator's switch (versioned,
audited, refused on a stale version, nothing on the same rules), the snapshot it changes, a citizen's home
(pins, hides, refusals), a concurrent change, and the answer to data-subject requests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from events.flags import AppsArrangement, FlagChange
from functions.core.errors import LostRaceError, ValidationError
from functions.core.flags import CitizenContext, Rule, Snapshot, decide, load_catalogue
from functions.core.policy import EmbeddedPolicy
from functions.core.settings import get_settings
from functions.flags import handlers
from functions.flags.handlers import ArrangeApps, ChangeFlag, FlagPorts
from functions.flags.service import StaleFlagVersionError, UnknownAppError
from tests.unit.fakes import FixedClock, events_in
from tests.unit.flags.fakes import FakeFlagStore
from tests.unit.rgpd_support import rgpd_request

T0 = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
ADMIN = "admin:adm-1"
CITIZEN = "c-lucia"
CHANGED = "es.madrid.pic.flag.changed.v1"
ARRANGED = "es.madrid.pic.apps.arranged.v1"


@pytest.fixture
def store() -> FakeFlagStore:
    return FakeFlagStore()


@pytest.fixture
def ports(store: FakeFlagStore, policy: EmbeddedPolicy) -> FlagPorts:
    catalogue = load_catalogue(get_settings().flags_catalogue)

    def enabled(app: str, context: CitizenContext) -> bool:  # the catalogue's defaults, evaluated as the kernel does
        rules = catalogue["apps"][app]["rules"]
        rule = Rule(rules["enabled"], frozenset(rules["districts"]), rules["percentage"])
        return decide(app, rule, context.citizen_id, context.district)[0]

    return FlagPorts(store=store, policy=policy, clock=FixedClock(T0), catalogue=catalogue, enabled=enabled)


def switch(ports: FlagPorts, flag: str, **rules: Any) -> handlers.Changed:
    body = FlagChange.model_validate({"reason": "pilot in Centro", "version": 0, "enabled": True, **rules})
    staged = handlers.change_flag(ChangeFlag(flag, body, ADMIN), ports, traceparent=None)
    ports.store.commit(staged.unit)  # type: ignore[attr-defined]
    return staged.result


# ---- an administrator's switch ---------------------------------------------------------------------


def test_switching_an_app_off_is_a_new_version_with_who_when_before_and_after(ports: FlagPorts) -> None:
    # GIVEN inbox on (the catalogue's default, version 0)
    before = handlers.snapshot(ports)
    assert before["flags"]["inbox"]["enabled"] is True and before["flags"]["inbox"]["version"] == 0
    # WHEN an administrator switches it off
    body = FlagChange(enabled=False, reason="provider outage", version=0)
    staged = handlers.change_flag(ChangeFlag("inbox", body, ADMIN), ports, traceparent="00-trace")
    ((kind, event),) = events_in(staged.unit)
    ports.store.commit(staged.unit)  # type: ignore[attr-defined]
    # THEN flag.changed says who, when, before, after and why; the snapshot's revision moves
    assert kind == CHANGED
    assert event["before"]["enabled"] is True and event["after"]["enabled"] is False
    assert (event["version"], event["changed_by"], event["reason"]) == (1, ADMIN, "provider outage")
    assert event["changed_at"].startswith("2026-12-04T09:00")
    after = handlers.snapshot(ports)
    assert after["flags"]["inbox"] == {**after["flags"]["inbox"], "enabled": False, "version": 1}
    assert after["revision"] != before["revision"]
    assert Snapshot.from_body(after).rules["inbox"].enabled is False
    # AND the history keeps the change
    assert [h["version"] for h in handlers.flag_history("inbox", ports)] == [1]


def test_a_district_and_share_rollout_is_stored_as_given(ports: FlagPorts) -> None:
    done = switch(ports, "pay", districts=["01", "05"], percentage=25)
    assert done.changed and done.flag.version == 1
    assert handlers.snapshot(ports)["flags"]["pay"] == {
        **handlers.snapshot(ports)["flags"]["pay"],
        "enabled": True,
        "districts": ["01", "05"],
        "percentage": 25,
    }


def test_the_same_rules_again_change_nothing(ports: FlagPorts) -> None:
    body = FlagChange(enabled=True, reason="no-op", version=0)
    staged = handlers.change_flag(ChangeFlag("inbox", body, ADMIN), ports, traceparent=None)
    assert len(staged.unit) == 0 and staged.result.changed is False


def test_a_change_on_a_stale_version_is_refused(ports: FlagPorts) -> None:
    switch(ports, "services")
    # WHEN another administrator, who read version 0, changes it
    with pytest.raises(StaleFlagVersionError) as refused:
        switch(ports, "services", percentage=10)
    assert refused.value.status == 409 and refused.value.extra["current_version"] == 1


def test_a_concurrent_change_loses_the_race_at_commit(ports: FlagPorts, store: FakeFlagStore) -> None:
    body = FlagChange(enabled=True, reason="open cases", version=0)
    first = handlers.change_flag(ChangeFlag("services", body, ADMIN), ports, traceparent=None)
    second = handlers.change_flag(ChangeFlag("services", body, "admin:adm-2"), ports, traceparent=None)
    store.commit(first.unit)
    with pytest.raises(LostRaceError):
        store.commit(second.unit)
    # THEN decided again, the second sees version 1 and is told so (no silent overwrite)
    with pytest.raises(StaleFlagVersionError):
        handlers.change_flag(ChangeFlag("services", body, "admin:adm-2"), ports, traceparent=None)


def test_an_unknown_app_is_not_found(ports: FlagPorts) -> None:
    with pytest.raises(UnknownAppError):
        switch(ports, "lottery")
    with pytest.raises(UnknownAppError):
        handlers.flag_history("lottery", ports)


def test_a_barrio_code_or_an_out_of_range_share_is_not_a_rule() -> None:
    with pytest.raises(ValueError, match="district"):
        FlagChange(enabled=True, districts=["011"], reason="barrio", version=0)
    with pytest.raises(ValueError):
        FlagChange(enabled=True, percentage=101, reason="too much", version=0)


# ---- a citizen's home -------------------------------------------------------------------------------


def arrange(ports: FlagPorts, **body: Any) -> dict[str, Any]:
    staged = handlers.arrange_apps(ArrangeApps(CITIZEN, AppsArrangement(**body), f"citizen:{CITIZEN}"), ports, None)
    ports.store.commit(staged.unit)  # type: ignore[attr-defined]
    return staged.result


def test_a_citizen_pins_and_hides_apps_on_their_home(ports: FlagPorts) -> None:
    # GIVEN the default home: the apps on, in the catalogue's order; the coming ones (off) left out
    home = handlers.citizen_home(CITIZEN, ports)
    on = ["position", "consents", "alerts", "inbox", "my-data", "pay", "cases", "assistant", "wallet", "surveys", "zbe",
          "bookings", "agenda", "avisos", "suggestions"]  # fmt: skip
    assert [a["app"] for a in home["apps"]] == on
    # WHEN the citizen pins inbox and hides alerts
    staged = handlers.arrange_apps(
        ArrangeApps(CITIZEN, AppsArrangement(pinned=["inbox"], hidden=["alerts"]), f"citizen:{CITIZEN}"), ports, None
    )
    ((kind, event),) = events_in(staged.unit)
    ports.store.commit(staged.unit)  # type: ignore[attr-defined]
    # THEN inbox comes first, alerts last and marked hidden; apps.arranged is announced
    home = handlers.citizen_home(CITIZEN, ports)
    assert [a["app"] for a in home["apps"]] == ["inbox", *[a for a in on if a not in ("inbox", "alerts")], "alerts"]
    assert home["apps"][-1]["hidden"] and home["apps"][0]["pinned"] and home["version"] == 1
    assert kind == ARRANGED and event["pinned"] == ["inbox"] and event["arranged_by"] == f"citizen:{CITIZEN}"


def test_a_pinned_app_switched_off_does_not_show(ports: FlagPorts) -> None:
    home = arrange(ports, pinned=["services", "inbox"])
    assert [a["app"] for a in home["apps"]][:1] == ["inbox"] and "services" not in [a["app"] for a in home["apps"]]


def test_the_same_arrangement_again_stages_nothing(ports: FlagPorts) -> None:
    arrange(ports, pinned=["inbox"])
    staged = handlers.arrange_apps(ArrangeApps(CITIZEN, AppsArrangement(pinned=["inbox"]), "c"), ports, None)
    assert len(staged.unit) == 0


def test_unknown_repeated_or_both_pinned_and_hidden_apps_are_refused_naming_the_field(ports: FlagPorts) -> None:
    with pytest.raises(ValidationError) as refused:
        arrange(ports, pinned=["lottery", "inbox", "inbox"], hidden=["inbox"])
    fields = [e["field"] for e in refused.value.errors or []]
    assert fields == ["pinned", "pinned", "hidden"]
    assert handlers.citizen_home(CITIZEN, ports)["version"] == 0  # nothing written


# ---- data-subject rights (RGPD) -------------------------------------------------------------------


def test_an_access_request_exports_the_arrangement(ports: FlagPorts) -> None:
    arrange(ports, pinned=["inbox"], hidden=["alerts"])
    ((_, answer),) = events_in(handlers.answer_rights(rgpd_request("access", CITIZEN, T0), ports, None))
    assert answer["outcome"] == "done"
    assert answer["export"]["home_apps"][0]["pinned"] == ["inbox"]


def test_an_erasure_erases_the_arrangement(ports: FlagPorts, store: FakeFlagStore) -> None:
    arrange(ports, pinned=["inbox"])
    unit = handlers.answer_rights(rgpd_request("erasure", CITIZEN, T0), ports, None)
    ((_, answer),) = events_in(unit)
    store.commit(unit)
    assert CITIZEN not in store.homes
    assert {a["category"]: a["result"] for a in answer["actions"]}["home-apps"] == "erased"


def test_nothing_held_nothing_to_answer(ports: FlagPorts) -> None:
    ((_, answer),) = events_in(handlers.answer_rights(rgpd_request("erasure", "c-nobody", T0), ports, None))
    assert answer["outcome"] == "not-applicable"
