package notifications

import rego.v1



citizen(consents, quiet, flags) := {
	"consents": consents,
	"preferences": {"quiet_hours": quiet},
	"flags": flags,
}

no_flags := {"restricted": false, "objections": []}

notice := {
	"purpose": "service-notifications",
	"channel": "email",
	"recipient": "citizen",
	"reachable": ["email", "inapp"],
	"citizen": citizen({}, null, no_flags),
	"now": {"local_time": "12:00"},
	"message": {"kind": "notification"},
}

campaign := object.union(notice, {"purpose": "campaigns"})

campaign_consent := {"campaigns": {"granted": true, "channels": ["email"], "text_version": "2026-01"}}

alert := object.union(notice, {
	"purpose": "alerts",
	"channel": "push",
	"reachable": ["push", "inapp"],
	"message": {"kind": "alert", "topic": "traffic", "severity": "moderate"},
})

night := {"start": "22:00", "end": "08:00"}

test_service_notification_needs_no_consent if {
	d := decision with input as notice
	d.allow
	d.code == "allowed"
	contains(d.legal_basis, "Ley 39/2015 art. 41")
}

test_campaign_without_consent_is_refused_with_no_consent if {
	d := decision with input as campaign
	not d.allow
	not d.defer
	d.code == "no-consent"
	some r in d.reasons
	contains(r, "RGPD art. 6.1.a")
}

test_campaign_with_consent_on_the_channel_is_allowed if {
	d := decision with input as object.union(campaign, {"citizen": citizen(campaign_consent, null, no_flags)})
	d.allow
}

test_campaign_consent_on_another_channel_does_not_cover_sms if {
	d := decision with input as object.union(campaign, {
		"channel": "sms",
		"reachable": ["sms"],
		"citizen": citizen(campaign_consent, null, no_flags),
	})
	not d.allow
	d.code == "no-consent"
}

test_unreachable_channel_is_no_channel if {
	d := decision with input as object.union(notice, {"channel": "sms"})
	not d.allow
	d.code == "no-channel"
	some r in d.reasons
	contains(r, "No contact point")
}

test_campaign_to_an_explicit_address_is_refused_citing_lssi if {
	d := decision with input as object.union(campaign, {"recipient": "direct"})
	not d.allow
	some r in d.reasons
	contains(r, "LSSI art. 21")
}

test_service_notice_to_an_explicit_address_is_allowed if {
	d := decision with input as object.union(notice, {"recipient": "direct", "reachable": ["email"]})
	d.allow
}

test_restricted_citizen_gets_legal_obligation_notices_only if {
	flags := {"restricted": true, "objections": []}
	ok := decision with input as object.union(notice, {"citizen": citizen({}, null, flags)})
	ok.allow
	no := decision with input as object.union(campaign, {"citizen": citizen(campaign_consent, null, flags)})
	not no.allow
	no.code == "restricted"
}

test_objection_to_campaigns_refuses_them if {
	flags := {"restricted": false, "objections": ["campaigns"]}
	d := decision with input as object.union(campaign, {"citizen": citizen(campaign_consent, null, flags)})
	not d.allow
	d.code == "objection"
}

test_quiet_hours_defer_sms_not_email if {
	sms := decision with input as object.union(notice, {
		"channel": "sms",
		"reachable": ["sms"],
		"citizen": citizen({}, night, no_flags),
		"now": {"local_time": "23:30"},
	})
	not sms.allow
	sms.defer
	sms.code == "deferred"
	email := decision with input as object.union(notice, {
		"citizen": citizen({}, night, no_flags),
		"now": {"local_time": "23:30"},
	})
	email.allow
}

test_alert_rests_on_the_subscription if {
	d := decision with input as alert
	d.allow
	some r in d.reasons
	contains(r, "subscribed")
}

test_alert_to_a_restricted_citizen_only_for_civil_protection if {
	flags := {"restricted": true, "objections": []}
	traffic := decision with input as object.union(alert, {"citizen": citizen({}, null, flags)})
	not traffic.allow
	traffic.code == "restricted"
	cp := decision with input as object.union(alert, {
		"citizen": citizen({}, null, flags),
		"message": {"kind": "alert", "topic": "civil-protection", "severity": "severe"},
	})
	cp.allow
}

test_alert_objection if {
	flags := {"restricted": false, "objections": ["alerts"]}
	d := decision with input as object.union(alert, {"citizen": citizen({}, null, flags)})
	not d.allow
	d.code == "objection"
}

test_alert_in_quiet_hours_is_deferred if {
	d := decision with input as object.union(alert, {
		"citizen": citizen({}, night, no_flags),
		"now": {"local_time": "02:00"},
	})
	d.defer
	not d.allow
}

test_extreme_civil_protection_alert_overrides_quiet_hours if {
	d := decision with input as object.union(alert, {
		"citizen": citizen({}, night, no_flags),
		"now": {"local_time": "02:00"},
		"message": {"kind": "alert", "topic": "civil-protection", "severity": "extreme"},
	})
	d.allow
	some r in d.reasons
	contains(r, "Ley 17/2015")
}

test_severe_civil_protection_alert_still_waits if {
	d := decision with input as object.union(alert, {
		"citizen": citizen({}, night, no_flags),
		"now": {"local_time": "02:00"},
		"message": {"kind": "alert", "topic": "civil-protection", "severity": "severe"},
	})
	d.defer
}

test_unknown_purpose_is_refused if {
	d := decision with input as object.union(notice, {"purpose": "lottery"})
	not d.allow
	d.code == "unknown-purpose"
}

test_alert_on_an_unknown_channel_is_refused if {
	d := decision with input as object.union(alert, {"channel": "fax", "reachable": ["fax"]})
	not d.allow
	d.code == "unknown-channel"
}

# ---- the blocklist ---------------------------------------------------------------------------------

consenting_campaign := object.union(campaign, {"citizen": citizen(campaign_consent, null, no_flags)})

with_blocked(base, blocked) := object.union(base, {"citizen": object.union(base.citizen, {"blocked": blocked})})

test_hard_bounce_blocks_a_campaign_with_code_blocked if {
	d := decision with input as with_blocked(consenting_campaign, {"email": "hard-bounce"})
	not d.allow
	d.code == "blocked"
	some r in d.reasons
	contains(r, "not law")
}

test_hard_bounce_blocks_even_a_service_notification if {
	d := decision with input as with_blocked(notice, {"email": "hard-bounce"})
	not d.allow
	d.code == "blocked"
}

test_complaint_blocks_campaigns_but_not_service_notifications if {
	c := decision with input as with_blocked(consenting_campaign, {"email": "complaint"})
	not c.allow
	c.code == "blocked"
	n := decision with input as with_blocked(notice, {"email": "complaint"})
	n.allow
}

test_soft_bounces_block_surveys if {
	survey := object.union(consenting_campaign, {"purpose": "surveys", "citizen": citizen({"surveys": {"granted": true, "channels": ["email"], "text_version": "2026-01"}}, null, no_flags)})
	d := decision with input as with_blocked(survey, {"email": "soft-bounce"})
	d.code == "blocked"
}

test_a_block_on_another_channel_does_not_refuse_this_one if {
	d := decision with input as with_blocked(consenting_campaign, {"sms": "hard-bounce"})
	d.allow
}

test_no_blocked_key_is_no_block if {
	d := decision with input as consenting_campaign
	d.allow
}
