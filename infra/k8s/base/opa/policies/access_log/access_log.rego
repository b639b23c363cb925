# METADATA
# title: Who may read a citizen's access log ("who looked at my data")
# description: >-
#   The citizen reads their own access log; a compliance officer (an agent of an area listed in
#   data.access_log.compliance_areas, e.g. the Data Protection Officer's office) reads anyone's, stating a
#   purpose; nobody else. Callers use data.access_log.decision.
# custom:
#   legal_source: >-
#     RGPD art. 15.1.c (the recipients to whom the data were disclosed), art. 5.2 (accountability),
#     art. 39.1.b (the DPO monitors compliance); LOPDGDD art. 37
package access_log

import rego.v1

# METADATA
# title: Decision
# description: The answer callers act on, always defined, with allow and the reasons for it or against it.
# entrypoint: true
# custom:
#   legal_source: RGPD art. 15.1.c and art. 5.2
decision := {"allow": allow, "reasons": reasons}

default allow := false

allow if {
	count(refusals) == 0
	count(grounds) > 0
}

reasons := sort(grounds) if allow

reasons := sort(refusals) if not allow

# METADATA
# title: The citizen reads their own log
# description: The data subject sees who accessed their data, when, why and what was shown.
# custom:
#   legal_source: RGPD art. 15.1.c
grounds contains reason if {
	own_log
	reason := sprintf("Citizen %s reads who accessed their data (RGPD art. 15.1.c).", [json.marshal(input.subject.id)])
}

# METADATA
# title: A compliance officer, with a purpose
# description: An agent of a compliance area (data.json) reviews any citizen's access log, stating why.
# custom:
#   legal_source: RGPD art. 39.1.b and art. 5.2; LOPDGDD art. 37
grounds contains reason if {
	compliance_officer
	purpose_stated
	citizen_named
	reason := sprintf(
		"Compliance officer %s (area %s) reviews citizen %s's access log for the purpose %s (RGPD art. 39.1.b and art. 5.2).",
		[json.marshal(input.subject.id), json.marshal(input.subject.area), json.marshal(input.resource.citizen_id), json.marshal(input.purpose)],
	)
}

# METADATA
# title: Nobody else
# description: Every other caller is refused, with this reason.
# custom:
#   legal_source: RGPD art. 5.1.f
refusals contains reason if {
	not own_log
	not compliance_officer
	reason := "Only the citizen, or a compliance officer of the Data Protection Officer's office, may read a citizen's access log (RGPD art. 15.1.c, art. 39.1.b and art. 5.1.f)."
}

# METADATA
# title: A compliance officer states a purpose
# description: The review's purpose is itself recorded in the access log.
# custom:
#   legal_source: RGPD art. 5.1.b
refusals contains "A compliance officer must state the purpose of the review in the Access-Purpose header (RGPD art. 5.1.b)." if {
	compliance_officer
	not purpose_stated
}

# METADATA
# title: The citizen is named
# description: A request must name the citizen whose data is read.
# custom:
#   legal_source: RGPD art. 5.1.f
refusals contains "No citizen named: resource.citizen_id must be the citizen whose access log is read (RGPD art. 5.1.f)." if {
	not citizen_named
}

citizen_named if {
	is_string(input.resource.citizen_id)
	input.resource.citizen_id != ""
}

own_log if {
	input.subject.role == "citizen"
	citizen_named
	input.subject.id == input.resource.citizen_id
}

compliance_officer if {
	input.subject.role == "agent"
	input.subject.level in {1, 2, 3}
	input.subject.area in data.access_log.compliance_areas
}

purpose_stated if {
	is_string(input.purpose)
	trim_space(input.purpose) != ""
}
