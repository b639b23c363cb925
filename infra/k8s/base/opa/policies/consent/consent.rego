# METADATA
# title: Contacting a citizen
# description: >-
#   May Madrid City Council contact this citizen for this purpose on this channel now?
#   Purposes, channels, the published consent texts, alert topics and the quiet-hours
#   overrides are in data.consent (policies/consent/data.json), which compliance officers edit.
#   Callers use one entry point, data.consent.decision.
# custom:
#   legal_source: RGPD arts. 5, 6.1, 7, 18 and 21; Ley 39/2015 art. 41; Ley 17/2015
package consent

import rego.v1

# METADATA
# title: Decision
# description: >-
#   The answer callers act on, always defined. allow is true only when no reason stands in the
#   way; defer is true only when the citizen's quiet hours are the sole reason, so the message is
#   sent when they end. Allowing also needs a ground: consent given, or a basis that needs none.
#   legal_basis is the purpose's lawful basis ("none" for an unknown purpose).
#   reasons are the sentences behind the answer: why not when denied, on what ground when allowed.
# entrypoint: true
# custom:
#   legal_source: RGPD art. 6.1 (lawfulness of processing)
decision := {
	"allow": allow,
	"defer": defer,
	"legal_basis": legal_basis,
	"reasons": reasons,
}

default allow := false

allow if {
	purpose
	channel
	count(refusals) == 0
	count(deferrals) == 0
	count(grounds) > 0
}

default defer := false

defer if {
	purpose
	channel
	count(refusals) == 0
	count(deferrals) > 0
}

# METADATA
# title: Lawful basis of the purpose
# description: The lawful basis declared for the purpose in data.json; "none" when the purpose is unknown.
# custom:
#   legal_source: RGPD art. 6.1
default legal_basis := "none"

legal_basis := purpose.legal_basis

reasons := sort(grounds) if allow

reasons := array.concat(sort(refusals), sort(deferrals)) if not allow

# ---------------------------------------------------------------------------
# Reasons that deny
# ---------------------------------------------------------------------------

# METADATA
# title: Only declared purposes
# description: A purpose that is not declared in data.json is never a reason to contact anyone.
# custom:
#   legal_source: RGPD art. 5.1.b (purpose limitation)
refusals contains reason if {
	not purpose
	reason := sprintf(
		"Unknown purpose %s: the council processes personal data only for the purposes it has declared (RGPD art. 5.1.b, purpose limitation).",
		[purpose_shown],
	)
}

# METADATA
# title: Only declared channels
# description: The council contacts citizens only on the channels it has told them about.
# custom:
#   legal_source: RGPD art. 5.1.a and art. 13 (transparency)
refusals contains reason if {
	not channel
	reason := sprintf(
		"Unknown channel %s: the council contacts citizens only on the channels it has declared to them (RGPD art. 5.1.a and art. 13, transparency).",
		[channel_shown],
	)
}

# METADATA
# title: Restriction of processing
# description: >-
#   While a citizen's data is restricted, the council contacts them only to meet a legal
#   obligation (a purpose marked legal_obligation in data.json).
# custom:
#   legal_source: RGPD art. 18 (right to restriction of processing)
refusals contains reason if {
	input.citizen.flags.restricted == true
	purpose
	not purpose.legal_obligation == true
	reason := sprintf(
		"The citizen has asked to restrict the processing of their data (RGPD art. 18), so they are contacted only to meet a legal obligation, and purpose %s is not one.",
		[purpose_shown],
	)
}

# METADATA
# title: Objection to a purpose
# description: A citizen who has objected to a purpose is not contacted for it.
# custom:
#   legal_source: RGPD art. 21 (right to object)
refusals contains reason if {
	objections := input.citizen.flags.objections
	is_array(objections)
	input.purpose in objections
	reason := sprintf(
		"The citizen has objected to processing for purpose %s (RGPD art. 21), so the council does not contact them for it.",
		[purpose_shown],
	)
}

# METADATA
# title: Consent not given
# description: >-
#   A purpose that rests on consent needs consent given and not withdrawn. A purpose the citizen
#   was never asked about has no consent.
# custom:
#   legal_source: RGPD art. 6.1.a and art. 7.3 (consent, and its withdrawal)
refusals contains reason if {
	consent_required
	not consent_granted
	reason := sprintf(
		"No consent for purpose %s on channel %s: the citizen has not given it or has withdrawn it, and this purpose rests on consent (RGPD art. 6.1.a and art. 7.3).",
		[purpose_shown, channel_shown],
	)
}

# METADATA
# title: Consent does not cover the channel
# description: >-
#   For a purpose whose consent is given channel by channel (channel_scoped in data.json), the
#   consent must name the channel used.
# custom:
#   legal_source: RGPD art. 6.1.a and art. 4.11 (specific consent)
refusals contains reason if {
	consent_required
	consent_granted
	channel_scoped
	not channel_consented
	reason := sprintf(
		"Consent for purpose %s does not cover channel %s: the citizen consented only to %s (RGPD art. 6.1.a and art. 4.11, specific consent).",
		[purpose_shown, channel_shown, consented_channels_text],
	)
}

# METADATA
# title: Consent to a published text
# description: >-
#   Consent counts only if it was given to a consent text published in data.json, so the council
#   can show what the citizen agreed to.
# custom:
#   legal_source: RGPD art. 7.1 (the controller must be able to demonstrate consent)
refusals contains reason if {
	consent_required
	consent_granted
	not consent_text_published
	reason := sprintf(
		"Consent for purpose %s was recorded against text version %s, which is not a published consent text, so the council cannot show what the citizen agreed to (RGPD art. 7.1).",
		[purpose_shown, json.marshal(object.get(consent, "text_version", null))],
	)
}

# METADATA
# title: Quiet hours that cannot be checked
# description: >-
#   When the citizen has quiet hours and the channel interrupts, a missing or malformed time
#   means the council does not use the channel rather than risk waking the citizen.
# custom:
#   legal_source: Citizen's quiet-hours preference (fail closed)
refusals contains reason if {
	interruptive
	quiet_hours != null
	not quiet_hours_checkable
	reason := sprintf(
		"Quiet hours cannot be checked: now.local_time and the citizen's quiet hours must be HH:MM (%s), so interruptive channel %s is not used.",
		[zone, channel_shown],
	)
}

# ---------------------------------------------------------------------------
# Quiet hours: the only reason that defers rather than denies
# ---------------------------------------------------------------------------

# METADATA
# title: Quiet hours
# description: >-
#   An interruptive channel (interruptive in data.json) is not used during the citizen's quiet
#   hours; the message waits for their end. A window whose start is after its end crosses
#   midnight (22:00 to 08:00 covers 22:00 to 07:59).
# custom:
#   legal_source: Citizen's quiet-hours preference
deferrals contains reason if {
	interruptive
	in_quiet_hours
	not quiet_hours_overridden
	reason := sprintf(
		"Deferred: quiet hours until %s (%s); channel %s interrupts, so the message waits until the citizen's quiet hours end (citizen preference).",
		[quiet_hours.end, zone, channel_shown],
	)
}

# METADATA
# title: Alerts that override quiet hours
# description: >-
#   An alert matching an entry of overrides.quiet_hours in data.json (by default civil-protection
#   alerts of severity extreme) is sent even during quiet hours. It overrides nothing else.
# custom:
#   legal_source: Ley 17/2015, del Sistema Nacional de Protección Civil (deber de información a la población)
quiet_hours_overrides contains override if {
	some override in data.consent.overrides.quiet_hours
	input.message.topic == override.topic
	input.message.severity in override.severities
}

quiet_hours_overridden if count(quiet_hours_overrides) > 0

# ---------------------------------------------------------------------------
# Grounds given when the answer is allow
# ---------------------------------------------------------------------------

# METADATA
# title: Consent given
# description: The purpose rests on consent and the citizen gave it, for this channel where consent is per channel.
# custom:
#   legal_source: RGPD art. 6.1.a
grounds contains reason if {
	consent_required
	consent_granted
	consent_text_published
	not channel_scoped
	reason := sprintf(
		"Consent for purpose %s was given to text version %s (RGPD art. 6.1.a).",
		[purpose_shown, consent.text_version],
	)
}

grounds contains reason if {
	consent_required
	consent_granted
	consent_text_published
	channel_scoped
	channel_consented
	reason := sprintf(
		"Consent for purpose %s on channel %s was given to text version %s (RGPD art. 6.1.a).",
		[purpose_shown, channel_shown, consent.text_version],
	)
}

# METADATA
# title: Consent not required
# description: A purpose marked requires_consent false rests on its own lawful basis, such as a legal obligation.
# custom:
#   legal_source: RGPD art. 6.1.c and 6.1.e; Ley 39/2015 art. 41
grounds contains reason if {
	purpose
	not consent_required
	reason := sprintf(
		"Consent not required for purpose %s: the council contacts the citizen on its lawful basis (%s).",
		[purpose_shown, purpose.legal_basis],
	)
}

# METADATA
# title: Override applied
# description: Says when an alert was sent during quiet hours because an override applied.
# custom:
#   legal_source: Ley 17/2015, del Sistema Nacional de Protección Civil (deber de información a la población)
grounds contains reason if {
	interruptive
	in_quiet_hours
	some override in quiet_hours_overrides
	reason := sprintf(
		"Quiet hours overridden: %s alert of severity %s is sent at once (%s).",
		[override.topic, input.message.severity, override.legal_source],
	)
}

# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------

purpose := data.consent.purposes[input.purpose]

channel := data.consent.channels[input.channel]

# How the purpose and channel asked for are quoted in reasons, even when absent.
default purpose_shown := "(none given)"

purpose_shown := json.marshal(input.purpose)

default channel_shown := "(none given)"

channel_shown := json.marshal(input.channel)

# The zone in which local_time and quiet hours are read (data.json time_zone).
default zone := "Europe/Madrid"

zone := data.consent.time_zone

consent := input.citizen.consents[input.purpose]

# Fails closed: a purpose is taken to need consent unless data.json says requires_consent false.
consent_required if {
	purpose
	not purpose.requires_consent == false
}

# Fails closed: consent is per channel unless data.json says channel_scoped false.
channel_scoped if {
	purpose
	not purpose.channel_scoped == false
}

# Fails closed: a channel is taken to interrupt unless data.json says interruptive false.
interruptive if {
	channel
	not channel.interruptive == false
}

consent_granted if consent.granted == true

channel_consented if {
	is_array(consent.channels)
	input.channel in consent.channels
}

default consented_channels_text := "no channel"

consented_channels_text := concat(", ", [c | some c in consent.channels; is_string(c)]) if {
	is_array(consent.channels)
	count(consent.channels) > 0
}

consent_text_published if {
	is_string(consent.text_version)
	data.consent.texts[input.purpose][consent.text_version]
}

default quiet_hours := null

quiet_hours := input.citizen.preferences.quiet_hours

# Each time is parsed once per decision (rules are evaluated once; function calls are not cached).
now_minutes := minutes(input.now.local_time)

quiet_start_minutes := minutes(quiet_hours.start)

quiet_end_minutes := minutes(quiet_hours.end)

quiet_hours_checkable if {
	now_minutes
	quiet_start_minutes
	quiet_end_minutes
}

in_quiet_hours if within(now_minutes, quiet_start_minutes, quiet_end_minutes)

# A window [start, end) in minutes since midnight; start after end crosses midnight;
# start equal to end is an empty window.
within(now, start, end) if {
	start < end
	start <= now
	now < end
}

within(now, start, end) if {
	start > end
	now >= start
}

within(now, start, end) if {
	start > end
	now < end
}

# Minutes since midnight of a "HH:MM" string; undefined for anything else. Each half is looked up in a
# table of two-digit numbers (regorus's to_number rejects a leading zero, "08", and a regex or digit-by-digit
# parse costs tens of microseconds per decision).
minutes(hhmm) := (hours * 60) + mins if {
	is_string(hhmm)
	count(hhmm) == 5
	substring(hhmm, 2, 1) == ":"
	hours := two_digits[substring(hhmm, 0, 2)]
	mins := two_digits[substring(hhmm, 3, 2)]
	hours < 24
}

two_digits := {
	"00": 0, "01": 1, "02": 2, "03": 3, "04": 4, "05": 5, "06": 6, "07": 7, "08": 8, "09": 9,
	"10": 10, "11": 11, "12": 12, "13": 13, "14": 14, "15": 15, "16": 16, "17": 17, "18": 18, "19": 19,
	"20": 20, "21": 21, "22": 22, "23": 23, "24": 24, "25": 25, "26": 26, "27": 27, "28": 28, "29": 29,
	"30": 30, "31": 31, "32": 32, "33": 33, "34": 34, "35": 35, "36": 36, "37": 37, "38": 38, "39": 39,
	"40": 40, "41": 41, "42": 42, "43": 43, "44": 44, "45": 45, "46": 46, "47": 47, "48": 48, "49": 49,
	"50": 50, "51": 51, "52": 52, "53": 53, "54": 54, "55": 55, "56": 56, "57": 57, "58": 58, "59": 59,
}
