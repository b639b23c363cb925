# METADATA
# title: What each viewer sees of a citizen's global position
# description: >-
#   The citizen sees all of their own data. An attention agent states a purpose (Access-Purpose) and
#   then sees, per section and per area of the data: a summary outside their area; inside it, what their
#   attention level allows (data.position.own_area_views: level 1 a summary, level 2 the detail, level 3
#   everything). Special categories of data (RGPD art. 9, e.g. Servicios Sociales) are shown only to the
#   citizen and to agents of their area, and to nobody else not even as a count. Nobody else sees anything.
#   Callers use one entry point, data.position.decision, and show each part as its view says.
# custom:
#   legal_source: >-
#     RGPD art. 5.1.b (purpose limitation), art. 5.1.c (data minimisation), art. 9 (special categories),
#     art. 15 (right of access), art. 25.2 (data protection by default); LOPDGDD (LO 3/2018) art. 5 (duty of
#     confidentiality) and art. 9 (special categories)
package position

import rego.v1

# METADATA
# title: Decision
# description: >-
#   allow says whether the position may be shown at all; reasons why (or why not); parts gives, for each
#   (section, area, special_category) of the input, the view (full, detail, summary, hidden) and its reason.
# entrypoint: true
# custom:
#   legal_source: RGPD art. 5.1.c and art. 25.2
decision := {
	"allow": allow,
	"reasons": reasons,
	"parts": parts,
}

default allow := false

allow if {
	count(refusals) == 0
	count(grounds) > 0
}

reasons := sort(grounds) if allow

reasons := sort(refusals) if not allow

parts := [shown |
	some part in input.resource.parts
	shown := {
		"section": part.section,
		"area": part.area,
		"special_category": part.special_category,
		"view": view(part),
		"reason": view_reason(part),
	}
] if allow

parts := [] if not allow

# ---------------------------------------------------------------------------
# Reasons that deny
# ---------------------------------------------------------------------------

# METADATA
# title: A citizen sees only their own position
# description: A citizen asking for another person's position is refused.
# custom:
#   legal_source: RGPD art. 5.1.f (confidentiality) and art. 15 (access to one's own data)
refusals contains reason if {
	input.subject.role == "citizen"
	not own_position
	reason := sprintf(
		"Citizen %s may see only their own global position, not citizen %s's (RGPD art. 5.1.f and art. 15).",
		[subject_shown, citizen_shown],
	)
}

# METADATA
# title: An agent states a purpose
# description: >-
#   An attention agent must say why they look (a case id, the appointment being attended) in the
#   Access-Purpose header; the purpose is recorded in the access log the citizen can read.
# custom:
#   legal_source: RGPD art. 5.1.b (purpose limitation) and art. 5.2 (accountability)
refusals contains reason if {
	input.subject.role == "agent"
	not purpose_stated
	reason := "An agent must state the purpose of the access in the Access-Purpose header (for example a case id or the appointment being attended): no purpose, no access (RGPD art. 5.1.b purpose limitation, art. 5.2 accountability)."
}

# METADATA
# title: An agent has an attention level
# description: Only agents of attention level 1 to 3 see a position; level 0 is self-service and no agent.
# custom:
#   legal_source: Ley 39/2015 art. 12 (assistance by authorised staff)
refusals contains reason if {
	input.subject.role == "agent"
	not agent_level_valid
	reason := sprintf(
		"Agent %s has attention level %s, which is not an agent level (1 to 3): level 0 is self-service (Ley 39/2015 art. 12).",
		[subject_shown, level_shown],
	)
}

# METADATA
# title: Nobody else
# description: Only the citizen and attention agents see a global position; other roles are refused.
# custom:
#   legal_source: RGPD art. 5.1.f and art. 25.2 (access only where needed)
refusals contains reason if {
	not input.subject.role in {"citizen", "agent"}
	reason := sprintf(
		"Role %s may not see a citizen's global position: only the citizen, or an attention agent stating a purpose, may (RGPD art. 5.1.f and art. 25.2).",
		[role_shown],
	)
}

# METADATA
# title: The citizen is named
# description: A request must name the citizen whose data is read.
# custom:
#   legal_source: RGPD art. 5.1.f
refusals contains "No citizen named: resource.citizen_id must be the citizen whose position is read (RGPD art. 5.1.f)." if {
	not citizen_named
}

# ---------------------------------------------------------------------------
# Grounds given when the answer is allow
# ---------------------------------------------------------------------------

# METADATA
# title: The citizen sees their own data
# description: The data subject sees everything the council holds about them, in full.
# custom:
#   legal_source: RGPD art. 15 (right of access)
grounds contains reason if {
	own_position
	reason := sprintf("Citizen %s sees all of their own data (RGPD art. 15, right of access).", [subject_shown])
}

# METADATA
# title: An agent with a purpose
# description: An attention agent of a valid level who states a purpose sees the position, minimised per section.
# custom:
#   legal_source: RGPD art. 5.1.b and art. 5.1.c; Ley 39/2015 art. 12
grounds contains reason if {
	input.subject.role == "agent"
	agent_level_valid
	purpose_stated
	citizen_named
	reason := sprintf(
		"Agent %s (attention level %s, area %s) attends citizen %s for the stated purpose %s; each section is shown as minimised for their level and area (RGPD art. 5.1.b and art. 5.1.c; Ley 39/2015 art. 12).",
		[subject_shown, level_shown, area_shown, citizen_shown, purpose_shown],
	)
}

# METADATA
# title: Special categories stay in their area
# description: >-
#   Said to every agent, whether or not the position holds such data, so that the reason itself never
#   reveals that it does.
# custom:
#   legal_source: RGPD art. 9.1 and 9.2.h; LOPDGDD art. 9
grounds contains "Special categories of data (RGPD art. 9, e.g. Servicios Sociales) are shown only to agents of the area that holds them; to others they are withheld, not even counted (RGPD art. 9; LOPDGDD art. 9)." if {
	input.subject.role == "agent"
	agent_level_valid
	purpose_stated
	citizen_named
}

# METADATA
# title: A restriction of processing is said, never bypassed
# description: >-
#   When the citizen has restricted the processing of their data (resource.restricted, from the RGPD
#   flags), an agent is told so and sees nothing of the position; the citizen still sees everything.
# custom:
#   legal_source: RGPD art. 18.1 and 18.2 (restriction of processing)
grounds contains "The citizen has restricted the processing of their data (RGPD art. 18): nothing of the position is shown to agents; tell the citizen how to lift the restriction." if {
	input.subject.role == "agent"
	restricted
}

# ---------------------------------------------------------------------------
# Views per part
# ---------------------------------------------------------------------------

# METADATA
# title: The view of one part
# description: >-
#   full for the citizen; hidden for special categories outside the agent's area; inside their area,
#   what their level allows; outside it, a summary.
# custom:
#   legal_source: RGPD art. 5.1.c, art. 9, art. 15
view(part) := "full" if {
	own_position
} else := "hidden" if {
	restricted
} else := "hidden" if {
	part.special_category == true
	not in_area(part)
} else := data.position.own_area_views[format_int(input.subject.level, 10)] if {
	in_area(part)
} else := data.position.other_area_view

view_reason(part) := "The data subject sees all of their own data (RGPD art. 15)." if {
	own_position
} else := "The citizen has restricted the processing of their data (RGPD art. 18): withheld from agents." if {
	restricted
} else := sprintf(
	"%s of area %s is a special category (RGPD art. 9) held by another area: withheld.",
	[part.section, part.area],
) if {
	part.special_category == true
	not in_area(part)
} else := sprintf(
	"%s of area %s is the agent's own area: attention level %s sees %s (RGPD art. 5.1.c).",
	[part.section, part.area, level_shown, view(part)],
) if {
	in_area(part)
} else := sprintf(
	"%s of area %s is outside the agent's area %s: a summary only (RGPD art. 5.1.c, data minimisation).",
	[part.section, part.area, area_shown],
)

# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------

citizen_named if {
	is_string(input.resource.citizen_id)
	input.resource.citizen_id != ""
}

own_position if {
	input.subject.role == "citizen"
	citizen_named
	input.subject.id == input.resource.citizen_id
}

restricted if input.resource.restricted == true

purpose_stated if {
	is_string(input.purpose)
	trim_space(input.purpose) != ""
}

agent_level_valid if {
	is_number(input.subject.level)
	input.subject.level in {1, 2, 3}
}

in_area(part) if {
	input.subject.role == "agent"
	is_string(input.subject.area)
	part.area == input.subject.area
}

default subject_shown := "(none given)"

subject_shown := json.marshal(input.subject.id)

default citizen_shown := "(none given)"

citizen_shown := json.marshal(input.resource.citizen_id)

default role_shown := "(none given)"

role_shown := json.marshal(input.subject.role)

default level_shown := "(none given)"

level_shown := json.marshal(input.subject.level)

default area_shown := "(none)"

area_shown := json.marshal(input.subject.area)

default purpose_shown := "(none given)"

purpose_shown := json.marshal(input.purpose)
