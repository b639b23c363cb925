# METADATA
# title: Who may do what on a citizen's data, through every route of the channel API
# description: >-
#   Every route of PIC's channel API names one action of data.authz.actions (policies/authz/data.json,
#   which compliance officers edit) and the HTTP kernel asks this policy before the route runs.
#   A citizen acts on their own record; a citizen-attention agent (attention level 1 to 3) acts on
#   the citizen's behalf, only with a stated purpose, and sees what their level and area allow; an
#   internal system does only the actions that list it; a platform administrator administers the
#   platform and never reaches a citizen's personal data; nobody else does anything.
#   Callers use one entry point, data.authz.decision.
# custom:
#   legal_source: RGPD art. 5.1.b, art. 5.1.c, art. 5.1.f and art. 25.2; Ley 39/2015 art. 12
package authz

import rego.v1

# METADATA
# title: Decision
# description: >-
#   The answer callers act on, always defined. on_behalf is true when an agent acts for the
#   citizen: the caller must then record the agent's id with the change. view says how much of the
#   citizen's data the caller may see (full, detail, summary, hidden), from the same table as the
#   global position (data.position). reasons say why not when denied, and on what ground when allowed.
# entrypoint: true
# custom:
#   legal_source: RGPD art. 5.1.f (integrity and confidentiality) and art. 5.1.c (data minimisation)
decision := {
	"allow": allow,
	"on_behalf": on_behalf,
	"view": view,
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
	citizen_named
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
		"Unknown action %s: only the actions declared in policies/authz/data.json may be done (RGPD art. 25.2, data protection by default).",
		[action_shown],
	)
}

# METADATA
# title: Nobody else
# description: >-
#   Only the roles data.json lists for an action may do it. Any other role is denied.
# custom:
#   legal_source: RGPD art. 5.1.f and art. 25.2 (confidentiality; access only where needed)
refusals contains reason if {
	action
	not role_listed
	reason := sprintf(
		"Role %s may not do %s: only %s may; nobody else (RGPD art. 5.1.f and art. 25.2).",
		[role_shown, action_shown, concat(", ", action.roles)],
	)
}

# METADATA
# title: Only the roles this policy knows
# description: >-
#   This policy knows how a citizen, an agent, an internal system and a platform administrator act.
#   Another role listed in data.json for an action is still denied until this policy says how it acts.
# custom:
#   legal_source: RGPD art. 5.1.f and art. 25.2
refusals contains reason if {
	role_listed
	not input.subject.role in {"citizen", "agent", "system", "admin", "anonymous"}
	reason := sprintf(
		"Role %s is listed for %s, but only a citizen on their own record, an attention agent on their behalf, an internal system or a platform administrator may act (RGPD art. 5.1.f and art. 25.2).",
		[role_shown, action_shown],
	)
}

# METADATA
# title: A platform administrator never reaches a citizen's data
# description: >-
#   Administrators run the platform (templates, configuration, micro-app flags, knowledge-base
#   publication). Even if data.json listed the role for an action on a citizen's record, it is denied.
# custom:
#   legal_source: RGPD art. 5.1.f, art. 25.2 and art. 32.4 (staff process personal data only on instructions and where needed)
refusals contains reason if {
	input.subject.role == "admin"
	action
	not platform_action
	not published_naming_nobody
	reason := sprintf(
		"A platform administrator administers the platform and never reaches a citizen's personal data: %s acts on a citizen's record (RGPD art. 5.1.f, art. 25.2 and art. 32.4).",
		[action_shown],
	)
}

# METADATA
# title: A citizen acts on their own record only
# description: A citizen may read and change only their own data.
# custom:
#   legal_source: RGPD art. 5.1.f; RGPD arts. 7.3 and 15 to 21 (the data subject's own rights)
refusals contains reason if {
	input.subject.role == "citizen"
	not own_record
	not self_service_naming_nobody
	not published_naming_nobody
	reason := sprintf(
		"Citizen %s may act only on their own record, not on citizen %s's (RGPD art. 5.1.f, confidentiality).",
		[subject_shown, citizen_shown],
	)
}

# METADATA
# title: An agent has an attention level
# description: >-
#   Only an agent with attention level 1 to 3 (agent_levels in data.json) acts; level 0 is
#   self-service and is no agent.
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
# title: An agent acts on a citizen's data only with a purpose
# description: >-
#   An attention agent must say why they act on this citizen's data (a case, the appointment being
#   attended, the call) in the Access-Purpose header; the purpose is recorded with the change and in
#   the access log the citizen reads. A search of citizens (finds_citizens in data.json) reaches the
#   data of whoever it finds, named or not beforehand: it needs a purpose too.
# custom:
#   legal_source: RGPD art. 5.1.b (purpose limitation) and art. 5.2 (accountability)
refusals contains reason if {
	input.subject.role == "agent"
	reaches_citizens
	not purpose_stated
	reason := "An agent must state the purpose of the access in the Access-Purpose header (for example a case id or the appointment being attended): no purpose, no access (RGPD art. 5.1.b purpose limitation, art. 5.2 accountability)."
}

# METADATA
# title: Some actions are for agents of named areas only
# description: >-
#   An action with agent_areas in data.json (e.g. reading the access log: the Data Protection
#   Officer's office) is open to agents of those areas only.
# custom:
#   legal_source: RGPD art. 39.1.b (the DPO monitors compliance) and art. 5.1.f
refusals contains reason if {
	input.subject.role == "agent"
	action.agent_areas
	not input.subject.area in action.agent_areas
	reason := sprintf(
		"Agent %s of area %s may not do %s: only agents of %s may (RGPD art. 5.1.f; art. 39.1.b).",
		[subject_shown, area_shown, action_shown, concat(", ", action.agent_areas)],
	)
}

# METADATA
# title: The citizen acted for is named
# description: A request on a citizen's record must name the citizen whose record it reads or changes.
# custom:
#   legal_source: RGPD art. 5.1.f
refusals contains "No citizen named: resource.citizen_id must be the citizen whose record is read or changed (RGPD art. 5.1.f)." if {
	not citizen_named
	not platform_action
	not self_service_action
	not published_action
}

# METADATA
# title: Without signing in, nobody acts on a citizen's record
# description: >-
#   Anyone may use the self-service that touches no one's data (data.json lists the role anonymous
#   for it); a request without a verified identity that names a citizen's record is denied.
# custom:
#   legal_source: RGPD art. 5.1.f and art. 32.1.b (confidentiality); ENS (RD 311/2022) op.acc.5 (authentication)
refusals contains reason if {
	input.subject.role == "anonymous"
	citizen_named
	reason := sprintf(
		"Without signing in nobody acts on a citizen's record: %s names citizen %s (RGPD art. 5.1.f and art. 32.1.b).",
		[action_shown, citizen_shown],
	)
}

# METADATA
# title: An internal system calling as an OAuth client does only what its scopes name
# description: >-
#   An internal system calling with a client-credentials token (its client_id and the scopes granted,
#   docs/decisions/0035) may do an action only when its scopes list api:<action>, on top of the roles
#   data.json lists for the action. A system token that names no client (the platform's own workloads)
#   is decided by the roles alone.
# custom:
#   legal_source: RGPD art. 25.2 (data protection by default) and art. 5.1.f; ENS (RD 311/2022) op.acc.4 (least privilege)
refusals contains reason if {
	input.subject.role == "system"
	is_string(input.subject.client_id)
	not scope_granted
	reason := sprintf(
		"Client %s may not do %s: its scopes do not list api:%s (granted: %s); a system's client does only what its scopes name (RGPD art. 25.2; ENS op.acc.4).",
		[json.marshal(input.subject.client_id), action_shown, input.action, scopes_shown],
	)
}

# ---------------------------------------------------------------------------
# Grounds given when the answer is allow
# ---------------------------------------------------------------------------

# METADATA
# title: The citizen on their own record
# description: A citizen exercising their own rights over their own data.
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
# title: An agent on the citizen's behalf, for a purpose
# description: >-
#   An attention agent acts for the citizen being attended, for the purpose they stated; the caller
#   records the agent's id (on_behalf true) so the change can be traced to both, and shows the data
#   as view says.
# custom:
#   legal_source: Ley 39/2015 art. 12 (assistance to citizens by authorised staff); RGPD art. 5.1.b and 5.1.c
grounds contains reason if {
	role_listed
	input.subject.role == "agent"
	agent_level_valid
	citizen_named
	purpose_stated
	reason := sprintf(
		"Agent %s (attention level %s, area %s) acts on behalf of citizen %s for the stated purpose %s, and sees the %s view of it; the caller records the agent's id (Ley 39/2015 art. 12; RGPD art. 5.1.b and 5.1.c).",
		[subject_shown, level_shown, area_shown, citizen_shown, purpose_shown, view],
	)
}

# METADATA
# title: An internal system does what data.json lists for it
# description: >-
#   A council system asks for the contact decision it must honour before it contacts a citizen
#   (notifications, campaigns), reads which golden citizen record its own records belong to
#   (area systems, C360), or records an interaction. Only actions that list the role "system" allow it.
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
# title: Platform actions of council staff and systems
# description: >-
#   Actions marked scope platform in data.json (notification templates, sending notifications and
#   reading their status, platform configuration) act on no one citizen's record: an internal system,
#   an agent with an attention level or a platform administrator may do them when data.json lists the
#   role. Whether each message may reach its citizen is then decided per message by policies/notifications.
# custom:
#   legal_source: RGPD art. 5.2 (accountability) and art. 25.1; Ley 39/2015 art. 41 (notifications by the administration)
grounds contains reason if {
	role_listed
	platform_action
	input.subject.role in {"system", "admin"}
	reason := sprintf(
		"%s %s may do platform action %s, as data.json lists it (RGPD art. 5.2 and art. 25.1).",
		[role_title, subject_shown, action_shown],
	)
}

grounds contains reason if {
	role_listed
	platform_action
	not citizen_named
	input.subject.role == "agent"
	agent_level_valid
	reason := sprintf(
		"Agent %s (attention level %s) may do platform action %s, as data.json lists it (RGPD art. 5.2 and art. 25.1).",
		[subject_shown, level_shown, action_shown],
	)
}

# METADATA
# title: Self-service that names nobody
# description: >-
#   Actions marked scope self-service in data.json (a conversation with the virtual assistant) may be
#   used without naming a citizen's record: by anyone without signing in, or by a signed-in citizen,
#   when data.json lists the role. Naming a record, a citizen acts only on their own (above).
# custom:
#   legal_source: RGPD art. 25.1 (data protection by design); Ley 39/2015 art. 12 (assistance in the use of electronic means)
grounds contains reason if {
	role_listed
	self_service_naming_nobody
	input.subject.role in {"anonymous", "citizen"}
	reason := sprintf(
		"%s may use self-service %s, which names no citizen's record (RGPD art. 25.1; Ley 39/2015 art. 12).",
		[role_shown, action_shown],
	)
}

# METADATA
# title: Published documentation, to anyone
# description: >-
#   Actions marked scope published in data.json (the documentation of the API and the events, and their
#   specifications: issue 19) show no one's data: anyone data.json lists may read them, signed in or not, as
#   long as the request names no citizen's record.
# custom:
#   legal_source: RGPD art. 25.1 (no personal data involved); Real Decreto 4/2010 (Esquema Nacional de Interoperabilidad) art. 11 (open standards, published)
grounds contains reason if {
	role_listed
	published_naming_nobody
	reason := sprintf(
		"%s may read the published documentation %s, which shows no one's data (RGPD art. 25.1; ENI art. 11).",
		[role_shown, action_shown],
	)
}

# ---------------------------------------------------------------------------
# What the caller may see
# ---------------------------------------------------------------------------

# METADATA
# title: The view of the citizen's data
# description: >-
#   full for the citizen, for an internal system and for actions that show no section of a citizen's
#   data; for an agent, the data's section (action.data in data.json) seen through the global position's
#   table: inside their area what their level allows (data.position.own_area_views: level 1 a summary,
#   level 2 the detail, level 3 everything), outside it data.position.other_area_view (a summary).
#   The route shows its summary, or nothing, when the view is summary.
# custom:
#   legal_source: RGPD art. 5.1.c (data minimisation) and art. 25.2 (data protection by default)
default view := "full"

view := data.position.own_area_views[format_int(input.subject.level, 10)] if {
	input.subject.role == "agent"
	action.data
	citizen_named
	input.subject.area == action.data.area
} else := data.position.other_area_view if {
	input.subject.role == "agent"
	action.data
	citizen_named
}

# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------

action := data.authz.actions[input.action]

role_listed if input.subject.role in action.roles

scope_granted if sprintf("api:%s", [input.action]) in input.subject.scopes

default scopes_shown := "none"

scopes_shown := concat(" ", input.subject.scopes) if count(input.subject.scopes) > 0

platform_action if action.scope == "platform"

self_service_action if action.scope == "self-service"

published_action if action.scope == "published"

published_naming_nobody if {
	published_action
	not citizen_named
}

self_service_naming_nobody if {
	self_service_action
	not citizen_named
}

citizen_named if {
	is_string(input.resource.citizen_id)
	input.resource.citizen_id != ""
}

# A request reaches citizens' data when it names one, or when its action finds them (a search).
reaches_citizens if citizen_named

reaches_citizens if action.finds_citizens == true

own_record if {
	citizen_named
	input.subject.id == input.resource.citizen_id
}

agent_level_valid if {
	is_number(input.subject.level)
	input.subject.level in data.authz.agent_levels
}

purpose_stated if {
	is_string(input.purpose)
	trim_space(input.purpose) != ""
}

agent_levels_text := concat(", ", [format_int(l, 10) | some l in data.authz.agent_levels])

role_title := "Platform administrator" if input.subject.role == "admin"

role_title := "Internal system" if input.subject.role == "system"

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

default area_shown := "(none)"

area_shown := json.marshal(input.subject.area)

default purpose_shown := "(none given)"

purpose_shown := json.marshal(input.purpose)
