"""The campaign domain's pure rules: four-eyes' city-wide test, recurring runs, pacing, a saved segment's count from
its snapshot and deltas, the batch's key parsed back by the impact projection, and the RGPD answer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from events.rgpd import RgpdRequestOpened
from functions.campaign import handlers, rights, service
from functions.campaign.audience import AudienceRow
from functions.campaign.service import Delta, Held, Segment
from functions.core.policy import Policy
from tests.unit.campaign.fakes import NOW, make_ports
from tests.unit.fakes import event_models


def test_city_wide_is_no_place_in_the_tree_or_over_100000() -> None:
    arganzuela = {"version": 1, "filter": {"all": [{"district": ["02"]}, {"age": {"min": 65}}]}}
    assert not service.is_city_wide(arganzuela, 10_000)
    assert service.is_city_wide(arganzuela, 100_001)
    assert service.is_city_wide({"version": 1, "filter": {"not": {"district": ["02"]}}}, 10)
    assert service.is_city_wide({"version": 1, "filter": {"consent": {"purpose": "campaigns"}}}, 10)


def test_a_monthly_run_keeps_to_the_28th_and_stops_at_until() -> None:
    post = service.CampaignPost.model_validate({
        "name": "m", "segment_id": "seg-1", "template": "t",
        "schedule": {"every": "P1M", "until": "2027-03-01T00:00:00+00:00"},
    })  # fmt: skip
    base = service.Campaign(id="cmp-1", post=post, state="running", created_by="a", created_at=NOW, segment_version=1,
                            city_wide=False, targeted_estimate=0, history=(),
                            run_at=datetime(2027, 1, 31, 9, tzinfo=UTC))  # fmt: skip
    following = service.next_run_at(base)
    assert following == datetime(2027, 2, 28, 9, tzinfo=UTC)
    assert service.next_run_at(service.Campaign(**{**base.__dict__, "run_at": following})) is None


def test_the_token_bucket_refills_at_the_rate_and_holds_a_minute_at_most() -> None:
    post = service.CampaignPost.model_validate({"name": "m", "segment_id": "seg-1", "template": "t",
                                                "rate_limits": {"sms": 120}})  # fmt: skip
    campaign = service.Campaign(id="cmp-1", post=post, state="running", created_by="a", created_at=NOW,
                                segment_version=1, city_wide=False, targeted_estimate=0, history=(),
                                tokens={"sms": 0.0}, tokens_at=NOW)  # fmt: skip
    assert service.refill(campaign, NOW + timedelta(seconds=30)) == {"sms": 60.0}
    assert service.refill(campaign, NOW + timedelta(hours=1)) == {"sms": 120.0}
    members = [service.Member(f"c-{i}", "sms" if i % 2 else "email", "02", "es") for i in range(10)]
    taken, left = service.take(members, {"sms": 2.0}, ["sms"])
    assert taken == 5 and left == {"sms": 0.0}  # email, sms, email, sms, email — then the third sms waits


def test_a_saved_segments_members_are_its_snapshot_plus_and_minus_its_deltas() -> None:
    segment = Segment(id="seg-1", name="s", versions=({},), purpose="campaigns", created_by="a", created_at=NOW,
                      updated_at=NOW, snapshot="k", snapshot_at=NOW,
                      snapshot_counts={"targeted": 10, "by_channel": {"email": 6, "sms": 4}})  # fmt: skip
    out = Delta("seg-1", "c-1", False, True, None, "email", "02", "es", NOW)
    moved = Delta("seg-1", "c-2", True, True, "sms", "email", "02", "es", NOW)
    new = Delta("seg-1", "c-3", True, False, "email", None, "02", "es", NOW)
    back = Delta("seg-1", "c-4", True, True, "sms", "sms", "02", "es", NOW)
    assert back.void
    found = service.materialised(segment, [out, moved, new, back])
    assert found["targeted"] == 10 and found["by_channel"] == {"email": 5, "sms": 5}


def test_a_batch_names_each_recipients_district_and_barrio_and_a_default_for_those_without() -> None:
    post = service.CampaignPost.model_validate(
        {
            "name": "Fiestas",
            "segment_id": "seg-1",
            "template": "camp-fiestas",
            "personalisation": {"barrio_name": "Madrid"},
        }
    )
    made = service.Campaign(
        id="cmp-1", post=post, state="running", created_by="agent:a", created_at=NOW, segment_version=1,
        city_wide=False, targeted_estimate=2, history=(), run=1,
    )  # fmt: skip
    members = [service.Member("c-1", "sms", "02", "es", "021"), service.Member("c-2", "sms", None, "es", None)]
    batch = service.batch_of(made, members, "b-1")
    first, second = (r.personalisation for r in batch.recipients)
    assert first["district_name"] == "Arganzuela" and first["barrio_name"] == "Imperial"
    assert second == {"barrio_name": "Madrid"}  # the campaign's default; no district to name


def test_a_place_name_is_fillable_only_where_the_segment_guarantees_the_place() -> None:
    post = service.CampaignPost.model_validate({"name": "x", "segment_id": "seg-1", "template": "t"})
    in_district = {"version": 1, "filter": {"all": [{"district": ["02"]}, {"age": {"min": 65}}]}}
    service.check_fields("t", ["district_name"], post, in_district)
    with pytest.raises(service.TemplateFieldError, match="barrio_name"):
        service.check_fields("t", ["barrio_name"], post, in_district)  # a district does not name a barrio
    in_barrio = {"version": 1, "filter": {"barrio": ["021"]}}
    service.check_fields("t", ["district_name", "barrio_name"], post, in_barrio)
    either = {"version": 1, "filter": {"any": [{"district": ["02"]}, {"age": {"min": 65}}]}}
    with pytest.raises(service.TemplateFieldError, match="district_name"):
        service.check_fields("t", ["district_name"], post, either)


def test_the_batch_key_names_the_campaign_and_its_run() -> None:
    assert service.campaign_of_key("cmp-0a1b:3") == ("cmp-0a1b", 3)
    assert service.campaign_of_key("bulk-1") is None and service.campaign_of_key(None) is None
    assert service.counter_key("delivered", "sms", {"district": "02"}) == "delivered|sms|02|-"


def test_erasure_deletes_the_audience_row_and_answers_with_what_it_did(tmp_path: Path, policy: Policy) -> None:
    p, store, _ = make_ports(tmp_path, policy)
    store.audience["c-9"] = Held(AudienceRow("c-9", district="02"), {}, None)
    request: dict[str, Any] = {
        "request_id": "r-1",
        "citizen_id": "c-9",
        "right": "erasure",
        "opened_at": NOW,
        "due_at": NOW + timedelta(days=30),
    }
    uow = handlers.answer_rights(RgpdRequestOpened.model_validate(request), p, None)
    (answered,) = event_models(uow)
    store.commit(uow)
    assert "c-9" not in store.audience
    assert answered.outcome == "done" and any(a.result == "erased" for a in answered.actions)  # type: ignore[attr-defined]
    export = rights.answer(RgpdRequestOpened.model_validate({**request, "right": "access"}), store, policy, NOW)
    assert export.event.export == {"audience": []}  # erased: nothing left to export
