package consent

import rego.v1

# ---------------------------------------------------------------------------
# Samples
# ---------------------------------------------------------------------------

night_quiet_hours := {"start": "22:00", "end": "08:00"}

campaigns_by_sms_and_email := {"granted": true, "channels": ["sms", "email"], "text_version": "2026-01"}

# A citizen with the given consents, quiet hours 22:00-08:00 and no restriction or objection.
citizen(consents) := {
	"consents": consents,
	"preferences": {"quiet_hours": night_quiet_hours},
	"flags": {"restricted": false, "objections": []},
}

request(purpose, channel, who, local_time) := {
	"purpose": purpose,
	"channel": channel,
	"citizen": who,
	"now": {"local_time": local_time},
}

alert(purpose, channel, who, local_time, topic, severity) := object.union(
	request(purpose, channel, who, local_time),
	{"message": {"topic": topic, "severity": severity}},
)

has_reason(d, text) if {
	some r in d.reasons
	contains(r, text)
}

# ---------------------------------------------------------------------------
# The contract
# ---------------------------------------------------------------------------

test_contract_example_extreme_civil_protection_sms_at_night_allowed if {
	# GIVEN a citizen who consented to campaigns by SMS and e-mail, with quiet hours 22:00-08:00
	# WHEN an extreme civil-protection message goes out by SMS at 23:10
	d := decision with input as alert(
		"campaigns", "sms", citizen({"campaigns": campaigns_by_sms_and_email}), "23:10",
		"civil-protection", "extreme",
	)

	# THEN it is sent at once, on the consent and the civil-protection override
	d == {
		"allow": true,
		"defer": false,
		"legal_basis": "RGPD art. 6.1.a",
		"reasons": [
			`Consent for purpose "campaigns" on channel "sms" was given to text version 2026-01 (RGPD art. 6.1.a).`,
			"Quiet hours overridden: civil-protection alert of severity extreme is sent at once (Ley 17/2015, del Sistema Nacional de Protección Civil (deber de información a la población)).",
		],
	}
}

test_decision_defined_and_denied_without_input if {
	# GIVEN no input at all
	# WHEN the decision is asked for
	d := decision

	# THEN it is a denial with reasons, never undefined
	d.allow == false
	d.defer == false
	d.legal_basis == "none"
	count(d.reasons) > 0
}

# ---------------------------------------------------------------------------
# Declared purposes and channels
# ---------------------------------------------------------------------------

test_declared_purpose_and_channel_allowed if {
	# GIVEN consent to campaigns by e-mail
	# WHEN a campaign goes out by e-mail at noon
	d := decision with input as request("campaigns", "email", citizen({"campaigns": campaigns_by_sms_and_email}), "12:00")

	# THEN it is allowed on consent
	d.allow == true
	d.legal_basis == "RGPD art. 6.1.a"
}

test_unknown_purpose_denied_with_reason if {
	# GIVEN a purpose that data.json does not declare
	# WHEN the council asks to use it
	d := decision with input as request("profiling", "email", citizen({}), "12:00")

	# THEN it is denied under purpose limitation, with no lawful basis
	d.allow == false
	d.defer == false
	d.legal_basis == "none"
	has_reason(d, `Unknown purpose "profiling"`)
	has_reason(d, "RGPD art. 5.1.b")
}

test_unknown_channel_denied_with_reason if {
	# GIVEN consent to campaigns
	# WHEN the council asks to send one by fax
	d := decision with input as request("campaigns", "fax", citizen({"campaigns": campaigns_by_sms_and_email}), "12:00")

	# THEN it is denied because fax is not a declared channel
	d.allow == false
	has_reason(d, `Unknown channel "fax"`)
}

# ---------------------------------------------------------------------------
# Restriction (RGPD art. 18) and objection (RGPD art. 21)
# ---------------------------------------------------------------------------

test_restricted_citizen_denied_campaigns if {
	# GIVEN a citizen who consented to campaigns and then asked to restrict processing
	who := object.union(citizen({"campaigns": campaigns_by_sms_and_email}), {"flags": {"restricted": true}})

	# WHEN a campaign goes out by e-mail
	d := decision with input as request("campaigns", "email", who, "12:00")

	# THEN it is denied under RGPD art. 18
	d.allow == false
	has_reason(d, "RGPD art. 18")
}

test_restricted_citizen_still_sent_service_notifications if {
	# GIVEN a citizen who asked to restrict processing
	who := object.union(citizen({}), {"flags": {"restricted": true}})

	# WHEN a notice about their own case file goes out by e-mail
	d := decision with input as request("service-notifications", "email", who, "12:00")

	# THEN it is sent: it meets a legal obligation
	d.allow == true
}

test_objection_to_surveys_denied if {
	# GIVEN a citizen who consented to surveys and later objected to them
	who := object.union(
		citizen({"surveys": {"granted": true, "channels": ["email"], "text_version": "2026-01"}}),
		{"flags": {"objections": ["surveys"]}},
	)

	# WHEN a survey goes out by e-mail
	d := decision with input as request("surveys", "email", who, "12:00")

	# THEN it is denied under RGPD art. 21
	d.allow == false
	has_reason(d, `objected to processing for purpose "surveys" (RGPD art. 21)`)
}

test_objection_to_campaigns_does_not_block_surveys if {
	# GIVEN a citizen who consented to surveys and objected only to campaigns
	who := object.union(
		citizen({"surveys": {"granted": true, "channels": ["email"], "text_version": "2026-01"}}),
		{"flags": {"objections": ["campaigns"]}},
	)

	# WHEN a survey goes out by e-mail
	d := decision with input as request("surveys", "email", who, "12:00")

	# THEN it is allowed
	d.allow == true
}

test_restricted_and_objecting_citizen_denied_with_both_reasons if {
	# GIVEN a citizen who consented to campaigns, restricted processing and objected to campaigns
	# (the flags functions/rgpd publishes and the consent domain projects)
	who := object.union(
		citizen({"campaigns": campaigns_by_sms_and_email}),
		{"flags": {"restricted": true, "objections": ["campaigns"]}},
	)

	# WHEN a campaign goes out by e-mail
	d := decision with input as request("campaigns", "email", who, "12:00")

	# THEN it is denied, not deferred, and both rights are named as reasons
	d.allow == false
	d.defer == false
	has_reason(d, "RGPD art. 18")
	has_reason(d, "RGPD art. 21")
}

test_restricted_citizen_in_quiet_hours_is_denied_not_deferred if {
	# GIVEN a restricted citizen inside their quiet hours (22:00-08:00)
	who := object.union(citizen({"campaigns": campaigns_by_sms_and_email}), {"flags": {"restricted": true}})

	# WHEN a campaign SMS is asked for at 23:00
	d := decision with input as request("campaigns", "sms", who, "23:00")

	# THEN it is refused outright: waiting for the morning would not make it lawful
	d.allow == false
	d.defer == false
	has_reason(d, "RGPD art. 18")
}

# ---------------------------------------------------------------------------
# Consent (RGPD art. 6.1.a, 7)
# ---------------------------------------------------------------------------

test_campaign_sms_denied_without_consent if {
	# GIVEN a citizen who was never asked about campaigns
	# WHEN a campaign goes out by SMS at noon
	d := decision with input as request("campaigns", "sms", citizen({}), "12:00")

	# THEN it is denied, not deferred, and the reason names the purpose and the channel
	d.allow == false
	d.defer == false
	has_reason(d, `No consent for purpose "campaigns" on channel "sms"`)
}

test_campaign_sms_denied_after_consent_withdrawn if {
	# GIVEN a citizen who withdrew their consent to campaigns
	withdrawn := {"granted": false, "channels": ["sms"], "text_version": "2026-01"}

	# WHEN a campaign goes out by SMS at noon
	d := decision with input as request("campaigns", "sms", citizen({"campaigns": withdrawn}), "12:00")

	# THEN it is denied
	d.allow == false
	has_reason(d, "RGPD art. 6.1.a and art. 7.3")
}

test_campaign_sms_allowed_with_consent_for_sms if {
	# GIVEN consent to campaigns by SMS
	# WHEN a campaign goes out by SMS at noon
	d := decision with input as request("campaigns", "sms", citizen({"campaigns": campaigns_by_sms_and_email}), "12:00")

	# THEN it is allowed and the reason names the consent text
	d.allow == true
	d.defer == false
	has_reason(d, `Consent for purpose "campaigns" on channel "sms" was given to text version 2026-01`)
}

test_campaign_sms_denied_when_consent_covers_only_email if {
	# GIVEN consent to campaigns by e-mail only
	by_email := {"granted": true, "channels": ["email"], "text_version": "2026-01"}

	# WHEN a campaign goes out by SMS at noon
	d := decision with input as request("campaigns", "sms", citizen({"campaigns": by_email}), "12:00")

	# THEN it is denied because the consent does not cover SMS
	d.allow == false
	has_reason(d, `Consent for purpose "campaigns" does not cover channel "sms": the citizen consented only to email`)
}

test_personalisation_allowed_with_consent_on_any_channel if {
	# GIVEN consent to personalisation, which is not given channel by channel
	given := {"granted": true, "text_version": "2026-01"}

	# WHEN personalised content is shown in the app
	d := decision with input as request("personalisation", "inapp", citizen({"personalisation": given}), "12:00")

	# THEN it is allowed on that consent, whatever the channel
	d.allow == true
	d.reasons == [`Consent for purpose "personalisation" was given to text version 2026-01 (RGPD art. 6.1.a).`]
}

test_location_denied_without_consent if {
	# GIVEN a citizen who consented to campaigns but not to location
	# WHEN the app wants to use their location
	d := decision with input as request("location", "inapp", citizen({"campaigns": campaigns_by_sms_and_email}), "12:00")

	# THEN it is denied
	d.allow == false
	has_reason(d, `No consent for purpose "location" on channel "inapp"`)
}

test_consent_to_unpublished_text_version_denied if {
	# GIVEN consent recorded against a text version that was never published
	unpublished := {"granted": true, "channels": ["sms"], "text_version": "2019-07"}

	# WHEN a campaign goes out by SMS at noon
	d := decision with input as request("campaigns", "sms", citizen({"campaigns": unpublished}), "12:00")

	# THEN it is denied: the council cannot show what the citizen agreed to
	d.allow == false
	has_reason(d, "RGPD art. 7.1")
}

test_consent_without_text_version_denied if {
	# GIVEN consent recorded with no text version
	unversioned := {"granted": true, "channels": ["sms"]}

	# WHEN a campaign goes out by SMS at noon
	d := decision with input as request("campaigns", "sms", citizen({"campaigns": unversioned}), "12:00")

	# THEN it is denied
	d.allow == false
	has_reason(d, "not a published consent text")
}

test_service_notification_allowed_without_consent if {
	# GIVEN a citizen who gave no consent at all
	# WHEN a notice about their own case file goes out by e-mail
	d := decision with input as request("service-notifications", "email", citizen({}), "12:00")

	# THEN it is allowed on the legal obligation, and the reason says consent is not required
	d.allow == true
	d.legal_basis == "RGPD art. 6.1.c and 6.1.e; Ley 39/2015 art. 41"
	has_reason(d, `Consent not required for purpose "service-notifications"`)
}

test_service_notification_denied_once_data_says_it_needs_consent if {
	# GIVEN a compliance officer who marks service notifications as needing consent
	edited := object.union(
		data.consent.purposes,
		{"service-notifications": {"requires_consent": true, "legal_basis": "RGPD art. 6.1.a"}},
	)

	# WHEN a notice goes out by e-mail to a citizen who gave no consent
	d := decision with input as request("service-notifications", "email", citizen({}), "12:00")
		with data.consent.purposes as edited

	# THEN it is denied for lack of consent
	d.allow == false
	has_reason(d, `No consent for purpose "service-notifications" on channel "email"`)
}

# ---------------------------------------------------------------------------
# Quiet hours
# ---------------------------------------------------------------------------

test_sms_deferred_inside_quiet_hours_before_midnight if {
	# GIVEN consent to campaigns by SMS and quiet hours 22:00-08:00
	# WHEN a campaign goes out by SMS at 23:10
	d := decision with input as request("campaigns", "sms", citizen({"campaigns": campaigns_by_sms_and_email}), "23:10")

	# THEN it waits until 08:00
	d.allow == false
	d.defer == true
	d.reasons == [`Deferred: quiet hours until 08:00 (Europe/Madrid); channel "sms" interrupts, so the message waits until the citizen's quiet hours end (citizen preference).`]
}

test_sms_deferred_inside_quiet_hours_after_midnight if {
	# GIVEN consent to campaigns by SMS and quiet hours 22:00-08:00
	# WHEN a campaign goes out by SMS at 07:59
	d := decision with input as request("campaigns", "sms", citizen({"campaigns": campaigns_by_sms_and_email}), "07:59")

	# THEN it waits
	d.allow == false
	d.defer == true
	has_reason(d, "quiet hours until 08:00 (Europe/Madrid)")
}

test_sms_allowed_when_quiet_hours_end if {
	# GIVEN quiet hours 22:00-08:00
	# WHEN a campaign goes out by SMS at 08:00
	d := decision with input as request("campaigns", "sms", citizen({"campaigns": campaigns_by_sms_and_email}), "08:00")

	# THEN it is sent
	d.allow == true
	d.defer == false
}

test_sms_allowed_just_before_quiet_hours if {
	# GIVEN quiet hours 22:00-08:00
	# WHEN a campaign goes out by SMS at 21:59
	d := decision with input as request("campaigns", "sms", citizen({"campaigns": campaigns_by_sms_and_email}), "21:59")

	# THEN it is sent
	d.allow == true
}

test_sms_deferred_inside_daytime_quiet_hours if {
	# GIVEN quiet hours 14:00-16:00 that do not cross midnight
	who := object.union(
		citizen({"campaigns": campaigns_by_sms_and_email}),
		{"preferences": {"quiet_hours": {"start": "14:00", "end": "16:00"}}},
	)

	# WHEN a campaign goes out by SMS at 14:00 and at 16:00
	inside := decision with input as request("campaigns", "sms", who, "14:00")
	after := decision with input as request("campaigns", "sms", who, "16:00")

	# THEN the first waits until 16:00 and the second is sent
	inside.defer == true
	has_reason(inside, "quiet hours until 16:00 (Europe/Madrid)")
	after.allow == true
}

test_email_not_deferred_during_quiet_hours if {
	# GIVEN quiet hours 22:00-08:00
	# WHEN a campaign goes out by e-mail, which does not interrupt, at 23:10
	d := decision with input as request("campaigns", "email", citizen({"campaigns": campaigns_by_sms_and_email}), "23:10")

	# THEN it is sent
	d.allow == true
	d.defer == false
}

test_sms_allowed_at_night_when_quiet_hours_are_null if {
	# GIVEN a citizen whose quiet hours are null
	who := object.union(citizen({"campaigns": campaigns_by_sms_and_email}), {"preferences": {"quiet_hours": null}})

	# WHEN a campaign goes out by SMS at 23:10
	d := decision with input as request("campaigns", "sms", who, "23:10")

	# THEN it is sent
	d.allow == true
}

test_sms_allowed_at_night_without_preferences_or_flags if {
	# GIVEN a citizen with consents only: no preferences, no flags
	who := {"consents": {"campaigns": campaigns_by_sms_and_email}}

	# WHEN a campaign goes out by SMS at 23:10
	d := decision with input as request("campaigns", "sms", who, "23:10")

	# THEN it is sent
	d.allow == true
}

test_quiet_hours_do_not_defer_when_consent_missing if {
	# GIVEN a citizen with no consent to surveys and quiet hours 22:00-08:00
	# WHEN a survey goes out by SMS at 23:10
	d := decision with input as request("surveys", "sms", citizen({}), "23:10")

	# THEN it is denied, not deferred: waiting would not make it lawful
	d.allow == false
	d.defer == false
}

test_missing_local_time_denied_on_sms_with_quiet_hours if {
	# GIVEN quiet hours 22:00-08:00
	# WHEN a campaign goes out by SMS and the caller sends no local time
	d := decision with input as request("campaigns", "sms", citizen({"campaigns": campaigns_by_sms_and_email}), null)

	# THEN it is denied rather than risk the quiet hours
	d.allow == false
	d.defer == false
	has_reason(d, "Quiet hours cannot be checked")
}

test_missing_local_time_does_not_matter_on_email if {
	# GIVEN quiet hours 22:00-08:00
	# WHEN a campaign goes out by e-mail and the caller sends no local time
	d := decision with input as request("campaigns", "email", citizen({"campaigns": campaigns_by_sms_and_email}), null)

	# THEN it is sent: e-mail does not interrupt
	d.allow == true
}

test_malformed_quiet_hours_denied_on_sms if {
	# GIVEN quiet hours that are not HH:MM
	who := object.union(
		citizen({"campaigns": campaigns_by_sms_and_email}),
		{"preferences": {"quiet_hours": {"start": "10pm", "end": "8"}}},
	)

	# WHEN a campaign goes out by SMS at noon
	d := decision with input as request("campaigns", "sms", who, "12:00")

	# THEN it is denied
	d.allow == false
	has_reason(d, "Quiet hours cannot be checked")
}

test_minutes_reads_every_valid_time_and_nothing_else if {
	# GIVEN times at the edges of a day, with leading zeros
	minutes("00:00") == 0
	minutes("08:05") == 485
	minutes("23:59") == 1439

	# THEN anything that is not HH:MM within a day is undefined (so quiet hours cannot be checked)
	not minutes("24:00")
	not minutes("12:60")
	not minutes("8:00")
	not minutes("08-00")
	not minutes("ab:cd")
	not minutes(480)
}

# ---------------------------------------------------------------------------
# Alerts that override quiet hours (Ley 17/2015)
# ---------------------------------------------------------------------------

test_extreme_civil_protection_alert_overrides_quiet_hours if {
	# GIVEN quiet hours 22:00-08:00
	# WHEN an extreme civil-protection notice goes out by push at 03:00
	d := decision with input as alert(
		"service-notifications", "push", citizen({}), "03:00",
		"civil-protection", "extreme",
	)

	# THEN it is sent at once, citing Ley 17/2015
	d.allow == true
	d.defer == false
	has_reason(d, "Ley 17/2015")
}

test_severe_civil_protection_alert_waits_for_quiet_hours if {
	# GIVEN quiet hours 22:00-08:00
	# WHEN a severe (not extreme) civil-protection notice goes out by push at 03:00
	d := decision with input as alert(
		"service-notifications", "push", citizen({}), "03:00",
		"civil-protection", "severe",
	)

	# THEN it waits
	d.allow == false
	d.defer == true
}

test_extreme_traffic_alert_waits_for_quiet_hours if {
	# GIVEN quiet hours 22:00-08:00
	# WHEN an extreme traffic notice goes out by push at 03:00
	d := decision with input as alert(
		"service-notifications", "push", citizen({}), "03:00",
		"traffic", "extreme",
	)

	# THEN it waits: only civil protection overrides quiet hours
	d.defer == true
}

test_override_does_not_replace_consent if {
	# GIVEN a citizen with no consent to campaigns
	# WHEN an extreme civil-protection campaign goes out by SMS at 23:10
	d := decision with input as alert(
		"campaigns", "sms", citizen({}), "23:10",
		"civil-protection", "extreme",
	)

	# THEN it is denied: the override lifts quiet hours, not the need for consent
	d.allow == false
	d.defer == false
}

test_override_list_is_read_from_data if {
	# GIVEN a compliance officer who lets severe civil-protection alerts override quiet hours too
	edited := [object.union(data.consent.overrides.quiet_hours[0], {"severities": ["extreme", "severe"]})]

	# WHEN a severe civil-protection notice goes out by push at 03:00
	d := decision with input as alert(
		"service-notifications", "push", citizen({}), "03:00",
		"civil-protection", "severe",
	)
		with data.consent.overrides.quiet_hours as edited

	# THEN it is sent at once
	d.allow == true
}

# ---------------------------------------------------------------------------
# data.json itself
# ---------------------------------------------------------------------------

test_every_purpose_has_its_current_text_in_spanish_and_english if {
	# GIVEN every declared purpose
	# THEN its current consent text is published in Spanish and English
	every id, declared in data.consent.purposes {
		every lang in ["es", "en"] {
			count(data.consent.texts[id][declared.current_text_version][lang].text) > 0
		}
	}
}

test_every_channel_says_whether_it_interrupts if {
	# GIVEN every declared channel
	# THEN it says, as a boolean, whether quiet hours apply to it
	every declared in data.consent.channels {
		is_boolean(declared.interruptive)
	}
}
