package rgpd.retention

import rego.v1

# ---------------------------------------------------------------------------
# The notification domain (functions/notification): records of legal notices are kept,
# plain messages and copies of other domains' data are erased. Uses ask/has_reason/now
# from retention_test.rego (same package).
# ---------------------------------------------------------------------------

test_a_recent_legal_notice_is_kept_for_thirteen_months_citing_ley_39_2015 if {
	# GIVEN the in-app record of a service notice made available in March 2026
	d := decision with input as ask("notification", "legal-notices", {"created_at": "2026-03-10T09:00:00Z"})

	# THEN it is kept until April 2027, with Ley 39/2015 art. 41 and the archive law as its source
	d.allow == false
	d.keep == true
	d.review == false
	d.keep_until == "2027-04-10T09:00:00Z"
	contains(d.legal_source, "Ley 39/2015")
	contains(d.legal_source, "Ley 16/1985")
	contains(d.legal_basis, "RGPD art. 17.3.b")
}

test_a_legal_notice_past_its_period_is_erased if {
	# GIVEN a notice from September 2025: its 13 months ended in October 2026
	d := decision with input as ask("notification", "legal-notices", {"created_at": "2025-09-30T12:00:00Z"})

	# THEN it may be erased (storage limitation)
	d.allow == true
	d.legal_basis == null
	has_reason(d, "retention period ended on 2026-10-30T12:00:00Z")
}

test_a_legal_notice_without_its_date_is_kept_for_review if {
	d := decision with input as ask("notification", "legal-notices", {})
	d.allow == false
	d.review == true
	d.keep_until == null
	has_reason(d, "needs record.created_at")
}

test_campaign_survey_and_alert_messages_are_erased if {
	d := decision with input as ask("notification", "messages", {"created_at": "2026-11-20T09:00:00Z"})
	d.allow == true
	has_reason(d, "no legal obligation to keep it")
}

test_push_endpoint_projection_and_subscriptions_are_erased if {
	every category in ["push-endpoint", "projection", "contact-points", "subscriptions"] {
		d := decision with input as ask("notification", category, {})
		d.allow == true
	}
}

test_the_projected_flags_are_kept_indefinitely if {
	d := decision with input as ask("notification", "flags", {})
	d.allow == false
	d.keep_until == null
	d.review == false
	contains(d.legal_source, "RGPD arts. 18 and 21")
}

test_a_message_that_cannot_be_classified_is_kept_for_review if {
	d := decision with input as ask("notification", "unclassified-messages", {"created_at": "2026-11-20T09:00:00Z"})
	d.allow == false
	d.review == true
	has_reason(d, "No retention rule for \"unclassified-messages\" in domain \"notification\"")
}
