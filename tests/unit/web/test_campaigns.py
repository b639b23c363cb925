"""The campaign manager's desk on fakes: the segment form as the API's filter tree and the API's errors put back
next to the fields that made them, the campaign form as the API's request (Madrid wall-clock times as instants),
a four-eyes refusal said in words on the page, the buttons a state allows, the progress fragment telling a new
state once (and the page itself without htmx), the impact report's tables and the plot's text alternative."""

from __future__ import annotations

from typing import Any

import pytest
from werkzeug.datastructures import MultiDict

from functions.web import campaigns, service
from functions.web.api import ApiProblem
from tests.unit.web.web_fakes import FakeHttp, FakeSessions, make_app, signed_session, visit

MANAGER = service.Person("ag-cm-1", "agent", 2, "comunicacion")
SEGMENT = "seg-" + "a" * 16
CAMPAIGN = "cmp-" + "b" * 16


@pytest.fixture
def manager() -> service.Session:
    return signed_session(MANAGER, "/desk/")


def _campaign(state: str = "draft", **more: Any) -> dict[str, Any]:
    return {
        "id": CAMPAIGN, "name": "Gripe 2026", "segment_id": SEGMENT, "segment_version": 1, "purpose": "campaigns",
        "template": "gripe", "channel_templates": {"sms": "gripe-sms"}, "personalisation": {},
        "schedule": {"at": None, "every": None, "until": None}, "rate_limits": {}, "variants": [],
        "survey_id": None, "conversion": {"days": 14, "kinds": []}, "state": state, "city_wide": False,
        "created_by": "agent:ag-cm-1", "created_at": "2026-12-04T15:00:00+00:00", "approved_by": None, "run": 1,
        "run_at": None, "progress": {"targeted": 40, "dispatched": 10, "skipped": 0, "impact": {"delivered": 7}},
        "history": [{"action": "create", "by": "agent:ag-cm-1", "at": "2026-12-04T15:00:00+00:00", "detail": ""}],
        **more,
    }  # fmt: skip


def test_the_segment_form_is_one_all_of_the_criteria_filled_in_with_their_fields() -> None:
    form = MultiDict([("districts", "02"), ("age_min", "65"), ("consent_purpose", "campaigns"),
                      ("consent_channels", "sms"), ("consent_channels", "email"), ("interacted", "")])  # fmt: skip
    tree, fields, errors = campaigns.segment_filter(form)
    assert errors == {}
    assert tree == {"all": [{"district": ["02"]}, {"age": {"min": 65}},
                            {"consent": {"purpose": "campaigns", "channels": ["sms", "email"]}}]}  # fmt: skip
    assert fields == ["districts", "age_min", "consent_purpose"]
    # nothing chosen, a number that is not one, channels without a purpose, days missing: the form's own errors
    assert campaigns.segment_filter(MultiDict())[2] == {"form": "segment.no_criteria"}
    bad = MultiDict([("age_min", "sesenta"), ("consent_channels", "sms"), ("interacted", "within_days")])
    assert campaigns.segment_filter(bad)[2] == {"age_min": "segment.number_invalid",
                                                "consent_purpose": "segment.consent_purpose_missing",
                                                "interacted_days": "segment.days_missing"}  # fmt: skip


def test_the_apis_errors_go_next_to_the_field_of_their_criterion() -> None:
    problem = ApiProblem(422, {"type": "/problems/validation", "errors": [
        {"field": "filter.all.0.district.1", "message": "'99' is not a Madrid district code"},
        {"field": "filter.all.1.age.max", "message": "Input should be less than or equal to 130"},
        {"field": "filter.all.1.age", "message": "min is greater than max"},
        {"field": "name", "message": "too long"}, {"field": "filter.all.7", "message": "?"}]})  # fmt: skip
    errors = campaigns.segment_errors(problem, ["districts", "age_min"])
    assert errors == {"districts": "'99' is not a Madrid district code",
                      "age_max": "Input should be less than or equal to 130", "age_min": "min is greater than max",
                      "name": "too long", "form": "?"}  # fmt: skip


def test_a_refused_segment_is_the_form_again_with_the_apis_words_at_the_field(manager: service.Session) -> None:
    refused = (422, {"type": "/problems/validation", "title": "not valid", "errors": [
        {"field": "filter.all.1.age.min", "message": "Input should be greater than or equal to 0"}]})  # fmt: skip
    http = FakeHttp({("GET", "/v1/segments"): (200, {"segments": []}), ("POST", "/v1/segments"): refused})
    app = make_app(FakeSessions({manager.id: manager}), http)
    form = {"csrf": manager.csrf, "name": "Mayores", "age_min": "-3", "districts": "02"}
    page = visit(app, "/desk/segments", manager.id, "POST", form)
    text = page.get_data(as_text=True)
    assert page.status_code == 422
    assert 'id="age_min-error"' in text and "greater than or equal to 0" in text and 'value="-3"' in text
    assert http.sent[-1][1]["filter"] == {"all": [{"district": ["02"]}, {"age": {"min": -3}}]}
    assert 'value="02" id="district-02" checked' in text  # what they chose, to correct the rest


def test_the_campaign_form_is_the_apis_request_with_madrid_times_as_instants() -> None:
    form = MultiDict([("name", " Gripe "), ("segment_id", SEGMENT), ("purpose", "campaigns"), ("template", "gripe"),
                      ("template_sms", "gripe-sms"), ("personalisation", "centro = CS Arganzuela\n\n"),
                      ("when", "recurring"), ("at", "2026-12-10T09:30"), ("every", "P7D"),
                      ("until", "2027-01-10T09:30"), ("rate_sms", "600"), ("variant1_name", "A"),
                      ("variant1_template", "gripe"), ("variant1_share", "50"), ("variant2_name", "B"),
                      ("variant2_template", "gripe-b"), ("variant2_share", "50"), ("conversion_days", "7"),
                      ("conversion_kinds", "case"), ("conversion_kinds", "nonsense")])  # fmt: skip
    body, errors = campaigns.campaign_request(form)
    assert errors == {}
    assert body["schedule"] == {"at": "2026-12-10T09:30:00+01:00", "until": "2027-01-10T09:30:00+01:00",
                                "every": "P7D"}  # fmt: skip
    assert body["name"] == "Gripe" and body["channel_templates"] == {"sms": "gripe-sms"}
    assert body["personalisation"] == {"centro": "CS Arganzuela"} and body["rate_limits"] == {"sms": 600}
    assert [v["share"] for v in body["variants"]] == [50, 50]
    assert body["conversion"] == {"days": 7, "kinds": ["case"]}
    summer = campaigns.campaign_request(MultiDict([("when", "at"), ("at", "2027-07-01T10:00:05")]))[0]
    assert summer["schedule"] == {"at": "2027-07-01T10:00:05+02:00"}  # Madrid's summer time
    assert campaigns.campaign_request(MultiDict([("when", "now"), ("at", "2026-12-10T09:30")]))[0]["schedule"] == {}
    impossible = MultiDict([("when", "recurring"), ("at", "2027-02-30T10:00"), ("until", "")])
    assert campaigns.campaign_request(impossible)[1] == {"at": "campaign.at_invalid", "until": "campaign.at_invalid"}
    _, bad = campaigns.campaign_request(MultiDict([("when", "at"), ("at", "mañana"), ("rate_email", "x"),
                                                   ("personalisation", "sin igual")]))  # fmt: skip
    assert bad == {"at": "campaign.at_invalid", "rate_email": "segment.number_invalid",
                   "personalisation": "campaign.constants_invalid"}  # fmt: skip


def test_the_apis_refusal_of_a_campaign_goes_to_its_fields() -> None:
    problem = ApiProblem(422, {"type": "/problems/validation", "errors": [
        {"field": "channel_templates.sms", "message": "no such template"},
        {"field": "rate_limits.email", "message": "too many"},
        {"field": "(body)", "message": "Value error, variants: the shares sum to 100"},
        {"field": "personalisation.importe", "message": "used by template gripe"}]})  # fmt: skip
    assert campaigns.campaign_errors(problem, "x") == {
        "template_sms": "no such template", "rate_email": "too many",
        "variants": "variants: the shares sum to 100", "personalisation": "used by template gripe"}  # fmt: skip
    past = ApiProblem(422, {"type": "/problems/schedule-in-past", "detail": "schedule.at is before now"})
    assert campaigns.campaign_errors(past, "La fecha y hora ya han pasado.") == {"at": "La fecha y hora ya han pasado."}


def test_a_state_offers_only_the_buttons_it_allows() -> None:
    assert campaigns.actions_of(_campaign("draft")) == ("schedule", "cancel")
    assert campaigns.actions_of(_campaign("draft", city_wide=True)) == ("approve", "schedule", "cancel")
    assert campaigns.actions_of(_campaign("approved", city_wide=True, approved_by="agent:b")) == ("schedule", "cancel")
    assert campaigns.actions_of(_campaign("running")) == ("pause", "cancel")
    assert campaigns.actions_of(_campaign("paused")) == ("resume", "cancel")
    assert campaigns.actions_of(_campaign("finished")) == ()


def test_a_four_eyes_refusal_is_said_in_words_on_the_campaign_page(manager: service.Session) -> None:
    refused = (403, {"type": "/problems/four-eyes", "title": "Another campaign manager must approve",
                     "detail": "agent:ag-cm-1 created campaign"})  # fmt: skip
    http = FakeHttp({("GET", f"/v1/campaigns/{CAMPAIGN}"): (200, _campaign("draft", city_wide=True)),
                     ("POST", f"/v1/campaigns/{CAMPAIGN}/approve"): refused})  # fmt: skip
    app = make_app(FakeSessions({manager.id: manager}), http)
    page = visit(app, f"/desk/campaigns/{CAMPAIGN}/approve", manager.id, "POST", {"csrf": manager.csrf})
    text = page.get_data(as_text=True)
    assert page.status_code == 403 and 'id="refusal"' in text and "cuatro ojos" in text
    assert 'id="four-eyes-note"' in text and 'id="approve-button"' in text


def test_the_campaign_page_polls_its_progress_and_the_fragment_tells_a_new_state_once(
    manager: service.Session,
) -> None:
    http = FakeHttp({("GET", f"/v1/campaigns/{CAMPAIGN}"): (200, _campaign("running"))})
    app = make_app(FakeSessions({manager.id: manager}), http)
    text = visit(app, f"/desk/campaigns/{CAMPAIGN}", manager.id).get_data(as_text=True)
    assert 'hx-trigger="every 2s"' in text and "progress?state=running" in text and 'aria-live="polite"' in text
    assert "10 de 40 (25 %)" in text and 'id="impact-delivered">7<' in text and 'id="pause-button"' in text
    assert 'id="nav-campaigns"' in text and "hx-swap-oob" not in text
    hx = {"HX-Request": "true"}
    same = visit(app, f"/desk/campaigns/{CAMPAIGN}/progress?state=running", manager.id, headers=hx)
    assert "hx-swap-oob" not in same.get_data(as_text=True)  # the counts change silently
    new = visit(app, f"/desk/campaigns/{CAMPAIGN}/progress?state=scheduled", manager.id, headers=hx)
    assert "La campaña está ahora: Enviándose." in new.get_data(as_text=True)
    assert visit(app, f"/desk/campaigns/{CAMPAIGN}/progress", manager.id).status_code == 303
    http.answers[("GET", f"/v1/campaigns/{CAMPAIGN}")] = (200, _campaign("finished"))
    done = visit(app, f"/desk/campaigns/{CAMPAIGN}/progress?state=running", manager.id, headers=hx)
    text = done.get_data(as_text=True)
    assert "hx-trigger" not in text  # a finished campaign stops asking
    assert '<div id="actions" hx-swap-oob="outerHTML">' in text and 'id="no-actions"' in text  # its buttons go


def test_the_report_has_its_tables_and_a_plot_whose_text_states_the_figures(manager: service.Session) -> None:
    cell = {m: 0 for m in ("targeted", "dispatched", *campaigns.METRICS)}
    report = {"campaign_id": CAMPAIGN, "state": "finished", "run": 1,
              "totals": {**cell, "targeted": 3, "dispatched": 3, "delivered": 3},
              "by_district": {"02": {**cell, "delivered": 3}}, "by_channel": {"sms": {**cell, "delivered": 1}},
              "by_variant": {}}  # fmt: skip
    http = FakeHttp({("GET", f"/v1/campaigns/{CAMPAIGN}"): (200, _campaign("finished")),
                     ("GET", f"/v1/campaigns/{CAMPAIGN}/report"): (200, report)})  # fmt: skip
    app = make_app(FakeSessions({manager.id: manager}), http)
    text = visit(app, f"/desk/campaigns/{CAMPAIGN}/report", manager.id).get_data(as_text=True)
    assert 'id="district-02"' in text and "Arganzuela" in text and 'id="by-variant-none"' in text
    assert "Destinatarios 3" in text and "Recibidos 3" in text  # the alternative text of the plot
    assert f"/desk/campaigns/{CAMPAIGN}/report/png" in text and f"/desk/campaigns/{CAMPAIGN}/report/csv" in text
    assert visit(app, f"/desk/campaigns/{CAMPAIGN}/report/pdf", manager.id).status_code == 404
    assert visit(app, "/desk/campaigns/cmp-nope", manager.id).status_code == 404


def test_other_agents_see_no_campaigns_entry(manager: service.Session) -> None:
    other = signed_session(service.Person("ag-1", "agent", 1, "atencion-ciudadania"), "/desk/")
    http = FakeHttp({("GET", "/v1/kb/articles"): (200, {"articles": []})})
    app = make_app(FakeSessions({other.id: other}), http)
    assert 'id="nav-campaigns"' not in visit(app, "/desk/kb", other.id).get_data(as_text=True)


def test_a_segment_is_shown_in_words_and_counted_by_channel_with_its_reasons(manager: service.Session) -> None:
    segment = {"id": SEGMENT, "name": "Arganzuela 65+", "version": 1, "purpose": "campaigns",
               "filter": {"version": 1, "filter": {"all": [{"district": ["02"]}]}},
               "explanation": {"es": "Residentes de Arganzuela", "en": "Residents of Arganzuela"},
               "created_by": "agent:ag-cm-1", "created_at": "2026-12-04T15:00:00+00:00",
               "updated_at": "2026-12-04T15:00:00+00:00", "snapshot_at": None}  # fmt: skip
    count = {"segment_id": SEGMENT, "version": 1, "purpose": "campaigns", "targeted": 5,
             "by_channel": {"email": 2, "sms": 1, "push": 0, "inapp": 0}, "not_sent": {"no-consent": 2},
             "sample": [{"pseudonym": "ab12", "age_band": "70-79", "district": "02", "channel": "sms", "reason": None},
                        {"pseudonym": "cd34", "age_band": "80-89", "district": "02", "channel": None,
                         "reason": "no-consent"}],
             "explanation": segment["explanation"], "as_of": "2026-12-04T15:00:00+00:00", "took_ms": 12.5}  # fmt: skip
    http = FakeHttp({("GET", f"/v1/segments/{SEGMENT}"): (200, segment),
                     ("POST", f"/v1/segments/{SEGMENT}/count"): (200, count)})  # fmt: skip
    app = make_app(FakeSessions({manager.id: manager}), http)
    shown = visit(app, f"/desk/segments/{SEGMENT}?done=created", manager.id).get_data(as_text=True)
    assert "Residentes de Arganzuela" in shown and "Segmento guardado." in shown and 'id="count-total"' not in shown
    counted = visit(app, f"/desk/segments/{SEGMENT}/count?purpose=campaigns", manager.id).get_data(as_text=True)
    assert 'id="count-sms"><th scope="row">SMS</th><td>1<' in counted
    assert "sin consentimiento" in counted and "ab12" in counted and "Arganzuela" in counted
    assert http.sent[-1] == (f"/v1/segments/{SEGMENT}/count", {"purpose": "campaigns", "sample": 10})
    visit(app, f"/desk/segments/{SEGMENT}/count?purpose=surveys&fresh=yes", manager.id)
    assert http.sent[-1] == (f"/v1/segments/{SEGMENT}/count", {"purpose": "surveys", "sample": 10, "fresh": True})
    assert visit(app, f"/desk/segments/{SEGMENT}/count?purpose=spam", manager.id).status_code == 404


def test_the_lists_and_the_new_campaign_form_show_the_saved_segments(manager: service.Session) -> None:
    http = FakeHttp({("GET", "/v1/segments"): (200, {"segments": [{"id": SEGMENT, "name": "Arg", "version": 2}]}),
                     ("GET", "/v1/campaigns"): (200, {"campaigns": [{"id": CAMPAIGN, "name": "Gripe",
                                                                     "state": "paused"}]})})  # fmt: skip
    app = make_app(FakeSessions({manager.id: manager}), http)
    assert "En pausa" in visit(app, "/desk/campaigns", manager.id).get_data(as_text=True)
    assert f'id="segment-{SEGMENT}"' in visit(app, "/desk/segments", manager.id).get_data(as_text=True)
    form = visit(app, f"/desk/campaigns/new?segment={SEGMENT}", manager.id).get_data(as_text=True)
    assert f'<option value="{SEGMENT}" selected>' in form
    refused = visit(app, "/desk/campaigns/new", manager.id, "POST", {"csrf": manager.csrf, "name": "x"})
    assert refused.status_code == 422 and 'id="segment_id-error"' in refused.get_data(as_text=True)
    assert not any(method == "POST" for method, _, _ in http.asked)
