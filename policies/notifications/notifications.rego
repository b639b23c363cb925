# METADATA
# title: Sending a notification or an alert
# description: >-
#   May PIC send this message to this recipient on this channel now? Notifications ask
#   data.consent.decision (purpose, consent, restriction, objection, quiet hours) and add what
#   sending needs: a contact point on the channel, and for explicit addresses a purpose that does
#   not rest on consent. Alerts rest on the citizen's subscription to the topic and zone.
#   One entry point, data.notifications.decision, asked once per candidate channel.
# custom:
#   legal_source: Ley 39/2015 arts. 41 to 43; Ley 34/2002 (LSSI) art. 21; RGPD arts. 6, 18 and 21; Ley 17/2015
package notifications

import rego.v1

# METADATA
# title: Decision
# description: >-
#   allow when no reason stands in the way and there is a ground; defer when quiet hours are the
#   only reason (the message waits for their end, it is not dropped). code is the machine reason
#   of a refusal (no-channel, no-consent, restricted, objection, ...), "deferred" or "allowed".
# entrypoint: true
# custom:
#   legal_source: RGPD art. 6.1 (lawfulness of processing)
decision := {
	"allow": allow,
	"defer": defer,
	"code": code,
	"legal_basis": legal_basis,
	"reasons": reasons,
}

default allow := false

allow if {
	count(refusals) == 0
	count(deferrals) == 0
	count(grounds) > 0
}

default defer := false

defer if {
	count(refusals) == 0
	count(deferrals) > 0
}

reasons := sort(grounds) if allow

reasons := array.concat(sort(refusals), sort(deferrals)) if not allow

default legal_basis := "none"

legal_basis := data.consent.decision.legal_basis if not is_alert

legal_basis := data.notifications.alerts.legal_basis if is_alert

is_alert if input.message.kind == "alert"

# ---------------------------------------------------------------------------
# Notifications: the contact decision of policies/consent
# ---------------------------------------------------------------------------

# METADATA
# title: The contact decision
# description: >-
#   A notification is sent only if policies/consent allows contacting the citizen for its purpose
#   on the channel: service notifications under a legal obligation need no consent; campaigns and
#   surveys do, channel by channel; restriction and objection are honoured; quiet hours defer.
# custom:
#   legal_source: RGPD arts. 6.1, 7, 18 and 21; Ley 39/2015 art. 41
refusals contains reason if {
	not is_alert
	not data.consent.decision.allow
	not data.consent.decision.defer
	some reason in data.consent.decision.reasons
}

deferrals contains reason if {
	not is_alert
	data.consent.decision.defer
	some reason in data.consent.decision.reasons
}

grounds contains reason if {
	not is_alert
	data.consent.decision.allow
	some reason in data.consent.decision.reasons
}

# METADATA
# title: Commercial communications need prior consent
# description: >-
#   A campaign (a purpose that rests on consent) is never sent to an explicit e-mail address or
#   phone number: there is no identified citizen whose consent PIC holds. Notices of the citizen's
#   own procedures may be (Ley 39/2015 art. 41.6: the notice to the e-mail or device they gave).
# custom:
#   legal_source: Ley 34/2002 (LSSI) art. 21; RGPD art. 6.1.a; Ley 39/2015 art. 41.6
refusals contains reason if {
	input.recipient == "direct"
	not is_alert
	data.consent.consent_required
	reason := sprintf(
		"Purpose %s rests on consent and the recipient is an explicit address, not an identified citizen whose consent PIC holds: commercial communications by e-mail or SMS need prior consent (LSSI art. 21; RGPD art. 6.1.a).",
		[json.marshal(input.purpose)],
	)
}

# ---------------------------------------------------------------------------
# Every message: a contact point on the channel
# ---------------------------------------------------------------------------

# METADATA
# title: A contact point on the channel
# description: >-
#   A message goes only to a channel where PIC holds a usable contact point (a valid e-mail or
#   mobile number in the golden record, a registered push endpoint, or the in-app inbox of a
#   citizen known to PIC). A citizen with none on any channel gets not-allowed, code no-channel.
# custom:
#   legal_source: Ley 39/2015 art. 41.1 and 41.6 (notices to the e-mail or device the citizen gave); RGPD art. 5.1.d (accuracy)
refusals contains reason if {
	not reachable
	reason := sprintf(
		"No contact point for channel %s: PIC holds no usable address of the recipient there (Ley 39/2015 art. 41.6; RGPD art. 5.1.d).",
		[json.marshal(input.channel)],
	)
}

reachable if input.channel in input.reachable

# ---------------------------------------------------------------------------
# NOT's blocklist: addresses that bounce or complain
# ---------------------------------------------------------------------------

# METADATA
# title: A blocked address
# description: >-
#   NOT keeps per address (its blind index) the providers' feedback: a hard bounce blocks the
#   address for every purpose, three soft bounces within 30 days or one complaint block it for
#   campaigns and surveys (data.notifications.blocklist, with its rationale). input.citizen.blocked
#   names, per channel, the rule that blocks the citizen's current address there.
# custom:
#   legal_source: Operational policy, not law (Amazon SES bounce and complaint guidance; M3AAWG Sender BCP)
refusals contains reason if {
	some rule in blocked_rules
	reason := sprintf(
		"The %s address is blocked (%s): %s Operational policy that keeps PIC's sending reputation with the providers, not law.",
		[input.channel, rule, data.notifications.blocklist.rules[rule].why.en],
	)
}

blocked_rules contains rule if {
	rule := object.get(object.get(input.citizen, "blocked", {}), input.channel, null)
	rule != null
	applies := data.notifications.blocklist.rules[rule].purposes
	blocks_purpose(applies)
}

blocks_purpose(applies) if applies == "*"

blocks_purpose(applies) if {
	is_array(applies)
	input.purpose in applies
}

# ---------------------------------------------------------------------------
# Alerts: the citizen's subscription to a topic and zone
# ---------------------------------------------------------------------------

# METADATA
# title: Alerts rest on the subscription
# description: >-
#   An alert reaches a citizen because they subscribed to its topic in their zone: that request is
#   the ground. Civil-protection alerts also rest on the public task of informing the population.
# custom:
#   legal_source: RGPD art. 6.1.a and 6.1.e; Ley 17/2015 art. 7 (derecho a la información)
grounds contains reason if {
	is_alert
	alert_channel
	reason := sprintf(
		"The citizen subscribed to alerts of topic %s in this zone: their request is the ground (RGPD art. 6.1.a; for civil protection also art. 6.1.e and Ley 17/2015 art. 7).",
		[json.marshal(input.message.topic)],
	)
}

refusals contains reason if {
	is_alert
	not alert_channel
	reason := sprintf("Unknown channel %s: alerts go only on the channels PIC has declared (RGPD art. 13).", [json.marshal(input.channel)])
}

alert_channel if input.channel in data.notifications.channels

# METADATA
# title: Restriction of processing and alerts
# description: >-
#   While a citizen's data is restricted, only alerts of an exempt topic (civil protection) reach
#   them: RGPD art. 18.2 allows processing restricted data for important public interest.
# custom:
#   legal_source: RGPD art. 18.1 and 18.2; Ley 17/2015
refusals contains reason if {
	is_alert
	input.citizen.flags.restricted == true
	not input.message.topic in data.notifications.alerts.restriction_exempt_topics
	reason := sprintf(
		"The citizen has asked to restrict the processing of their data (RGPD art. 18), and alerts of topic %s are not exempt (only civil protection is, art. 18.2).",
		[json.marshal(input.message.topic)],
	)
}

# METADATA
# title: Objection to alerts
# description: A citizen who objected to purpose "alerts" receives none.
# custom:
#   legal_source: RGPD art. 21
refusals contains reason if {
	is_alert
	data.notifications.alerts.purpose in input.citizen.flags.objections
	reason := "The citizen has objected to receiving alerts (RGPD art. 21)."
}

# METADATA
# title: Quiet hours for alerts
# description: >-
#   An interruptive channel waits for the end of the citizen's quiet hours, unless the alert matches
#   an override of policies/consent (civil-protection alerts of severity extreme).
# custom:
#   legal_source: Citizen's quiet-hours preference; Ley 17/2015 (deber de información a la población)
deferrals contains reason if {
	is_alert
	data.consent.interruptive
	data.consent.in_quiet_hours
	not data.consent.quiet_hours_overridden
	reason := sprintf(
		"Deferred: quiet hours until %s (Europe/Madrid); channel %s interrupts, so the alert waits until they end (citizen preference).",
		[input.citizen.preferences.quiet_hours.end, json.marshal(input.channel)],
	)
}

grounds contains reason if {
	is_alert
	data.consent.interruptive
	data.consent.in_quiet_hours
	some override in data.consent.quiet_hours_overrides
	reason := sprintf("Quiet hours overridden: %s alert of severity %s is sent at once (%s).", [override.topic, input.message.severity, override.legal_source])
}

# ---------------------------------------------------------------------------
# The machine reason
# ---------------------------------------------------------------------------

default code := "not-allowed"

code := "allowed" if allow

code := "deferred" if defer

code := refusal_code if {
	not allow
	not defer
}

refusal_code := "no-channel" if {
	not reachable
} else := "unknown-purpose" if {
	not is_alert
	not data.consent.purpose
} else := "unknown-channel" if {
	not data.consent.channel
} else := "blocked" if {
	count(blocked_rules) > 0
} else := "restricted" if {
	input.citizen.flags.restricted == true
	restriction_applies
} else := "objection" if {
	objected
} else := "no-consent"

restriction_applies if {
	not is_alert
	not data.consent.purpose.legal_obligation == true
}

restriction_applies if {
	is_alert
	not input.message.topic in data.notifications.alerts.restriction_exempt_topics
}

objected if {
	not is_alert
	input.purpose in input.citizen.flags.objections
}

objected if {
	is_alert
	data.notifications.alerts.purpose in input.citizen.flags.objections
}
