# METADATA
# title: Who may read or change a citizen's consents, preferences and subscriptions
# description: >-
#   A citizen acts on their own record; a citizen-attention agent (attention level 1 to 3) acts
#   on the citizen's behalf; nobody else. The actions and the roles that may do each one are in
#   data.authz (policies/authz/data.json), which compliance officers edit.
#   Callers use one entry point, data.authz.decision.
# custom:
#   legal_source: RGPD art. 5.1.f and art. 25.2; Ley 39/2015 art. 12
package authz

import rego.v1

# METADATA
# title: Decision
# description: >-
#   The answer callers act on, always defined. on_behalf is true when an agent acts for the
#   citizen: the caller must then record the agent's id with the change. reasons say why not
#   when denied, and on what ground when allowed.
# entrypoint: true
# custom:
#   legal_source: RGPD art. 5.1.f (integrity and confidentiality)
decision := {
	"allow": allow,
	"on_behalf": on_behalf,
	"reasons": reasons,
}

default allow := false

allow if {
	count(refusals) == 0
	count(grounds) > 0
}

default on_behalf := false

on_behalf if {
	allow
	input.subject.role == "agent"
}

reasons := sort(grounds) if allow

reasons := sort(refusals) if not allow

# ---------------------------------------------------------------------------
# Reasons that deny
# ---------------------------------------------------------------------------

# METADATA
# title: Only declared actions
# description: An action not listed in data.json is allowed to nobody.
# custom:
#   legal_source: RGPD art. 25.2 (data protection by default)
refusals contains reason if {
	not action
	reason := sprintf(
		"Unknown action %s: only the actions declared for consents, preferences and subscriptions may be done (RGPD art. 25.2, data protection by default).",
		[action_shown],
	)
}

# METADATA
# title: Nobody else
# description: >-
#   Only the roles data.json lists for an action may do it: the citizen and the attention agent.
#   Admin, system and any other role are denied.
# custom:
#   legal_source: RGPD art. 5.1.f and art. 25.2 (confidentiality; access only where needed)
refusals contains reason if {
	action
	not role_listed
	reason := sprintf(
		"Role %s may not do %s: only the citizen, or an attention agent on their behalf, may; nobody else (RGPD art. 5.1.f and art. 25.2).",
		[role_shown, action_shown],
	)
}

# METADATA
# title: Only citizens and agents
# description: >-
#   This policy knows how a citizen and an agent act. Another role listed in data.json for an
#   action is still denied until this policy says how it acts.
# custom:
#   legal_source: RGPD art. 5.1.f and art. 25.2
refusals contains reason if {
	role_listed
	not input.subject.role in {"citizen", "agent", "system"}
	reason := sprintf(
		"Role %s is listed for %s, but only a citizen on their own record, an attention agent on their behalf or (for the actions listing it) an internal system may act; nobody else (RGPD art. 5.1.f and art. 25.2).",
		[role_shown, action_shown],
	)
}

# METADATA
# title: A citizen acts on their own record only
# description: A citizen may read and change only their own consents, preferences and subscriptions.
# custom:
#   legal_source: RGPD art. 5.1.f; RGPD arts. 7.3 and 15 to 21 (the data subject's own rights)
refusals contains reason if {
	input.subject.role == "citizen"
	not own_record
	reason := sprintf(
		"Citizen %s may act only on their own record, not on citizen %s's (RGPD art. 5.1.f, confidentiality).",
		[subject_shown, citizen_shown],
	)
}

# METADATA
# title: An agent has an attention level
# description: >-
#   Only an agent with attention level 1 to 3 (agent_levels in data.json) acts on a citizen's
#   behalf; level 0 is self-service and is no agent.
# custom:
#   legal_source: Ley 39/2015 art. 12 (assistance to citizens by authorised staff)
refusals contains reason if {
	input.subject.role == "agent"
	not agent_level_valid
	reason := sprintf(
		"Agent %s has attention level %s, which is not an agent level (%s); level 0 is self-service (Ley 39/2015 art. 12).",
		[subject_shown, level_shown, agent_levels_text],
	)
}

# METADATA
# title: The citizen acted for is named
# description: A request must name the citizen whose record it reads or changes.
# custom:
#   legal_source: RGPD art. 5.1.f
refusals contains "No citizen named: resource.citizen_id must be the citizen whose record is read or changed (RGPD art. 5.1.f)." if {
	not citizen_named
	not platform_action
}

# ---------------------------------------------------------------------------
# Grounds given when the answer is allow
# ---------------------------------------------------------------------------

# METADATA
# title: The citizen on their own record
# description: A citizen exercising their own rights over their consents, preferences and subscriptions.
# custom:
#   legal_source: RGPD art. 7.3 and arts. 15 to 21
grounds contains reason if {
	role_listed
	input.subject.role == "citizen"
	own_record
	reason := sprintf(
		"Citizen %s acts on their own record (RGPD art. 7.3 and arts. 15 to 21).",
		[subject_shown],
	)
}

# METADATA
# title: An agent on the citizen's behalf
# description: >-
#   An attention agent acts for the citizen being attended; the caller records the agent's id
#   (on_behalf true) so the change can be traced to both.
# custom:
#   legal_source: Ley 39/2015 art. 12 (assistance to citizens by authorised staff)
grounds contains reason if {
	role_listed
	input.subject.role == "agent"
	agent_level_valid
	citizen_named
	reason := sprintf(
		"Agent %s (attention level %s) acts on behalf of citizen %s; the caller records the agent's id (Ley 39/2015 art. 12).",
		[subject_shown, level_shown, citizen_shown],
	)
}

# METADATA
# title: An internal system does what data.json lists for it
# description: >-
#   A council system asks for the contact decision it must honour before it contacts a citizen
#   (notifications, campaigns), or reads which golden citizen record its own records belong to
#   (area systems, C360). Only actions that list the role "system" in data.json allow it.
# custom:
#   legal_source: RGPD art. 5.2 (accountability) and art. 25.1 (data protection by design)
grounds contains reason if {
	role_listed
	input.subject.role == "system"
	citizen_named
	reason := sprintf(
		"Internal system %s may do %s for citizen %s, as data.json lists it (RGPD art. 5.2 and art. 25.1).",
		[subject_shown, action_shown, citizen_shown],
	)
}

# METADATA
# title: Platform actions of council staff and systems (notifications)
# description: >-
#   Actions marked scope platform in data.json (notification templates, sending notifications and
#   reading their status) act on no one citizen's record: an internal system, or an agent with an
#   attention level, may do them when data.json lists the role. Whether each message may reach its
#   citizen is then decided per message by policies/notifications.
# custom:
#   legal_source: RGPD art. 5.2 (accountability) and art. 25.1; Ley 39/2015 art. 41 (notifications by the administration)
grounds contains reason if {
	role_listed
	platform_action
	input.subject.role == "system"
	reason := sprintf(
		"Internal system %s may do platform action %s, as data.json lists it (RGPD art. 5.2 and art. 25.1).",
		[subject_shown, action_shown],
	)
}

grounds contains reason if {
	role_listed
	platform_action
	input.subject.role == "agent"
	agent_level_valid
	reason := sprintf(
		"Agent %s (attention level %s) may do platform action %s, as data.json lists it (RGPD art. 5.2 and art. 25.1).",
		[subject_shown, level_shown, action_shown],
	)
}

platform_action if action.scope == "platform"

# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------

action := data.authz.actions[input.action]

role_listed if input.subject.role in action.roles

citizen_named if {
	is_string(input.resource.citizen_id)
	input.resource.citizen_id != ""
}

own_record if {
	citizen_named
	input.subject.id == input.resource.citizen_id
}

agent_level_valid if {
	is_number(input.subject.level)
	input.subject.level in data.authz.agent_levels
}

agent_levels_text := concat(", ", [format_int(l, 10) | some l in data.authz.agent_levels])

# How input values are quoted in reasons, even when absent.
default action_shown := "(none given)"

action_shown := json.marshal(input.action)

default role_shown := "(none given)"

role_shown := json.marshal(input.subject.role)

default subject_shown := "(none given)"

subject_shown := json.marshal(input.subject.id)

default citizen_shown := "(none given)"

citizen_shown := json.marshal(input.resource.citizen_id)

default level_shown := "(none given)"

level_shown := json.marshal(input.subject.level)
