package authz

import rego.v1

# ---------------------------------------------------------------------------
# Samples
# ---------------------------------------------------------------------------

citizen_123 := {"id": "c-123", "role": "citizen", "level": 0}

agent(level) := {"id": "a-9", "role": "agent", "level": level, "area": "hacienda"}

request(subject, action, citizen_id) := {
	"subject": subject,
	"action": action,
	"purpose": "CITA-0042",
	"resource": {"citizen_id": citizen_id},
}

attention_agent(level) := {"id": "a-1", "role": "agent", "level": level, "area": "atencion-ciudadania"}

without_purpose(req) := object.remove(req, ["purpose"])

allowed(req) if {
	d := decision with input as req
	d.allow == true
}

has_reason(d, text) if {
	some r in d.reasons
	contains(r, text)
}

# ---------------------------------------------------------------------------
# A citizen on their own record
# ---------------------------------------------------------------------------

test_citizen_reads_own_consents_allowed if {
	# GIVEN citizen c-123
	# WHEN they read their own consents
	d := decision with input as request(citizen_123, "consent.read", "c-123")

	# THEN they may, on their own behalf
	d.allow == true
	d.on_behalf == false
	has_reason(d, `Citizen "c-123" acts on their own record`)
}

test_citizen_writes_own_preferences_allowed if {
	# GIVEN citizen c-123
	# WHEN they change their own quiet hours
	d := decision with input as request(citizen_123, "preferences.write", "c-123")

	# THEN they may
	d.allow == true
}

test_citizen_reads_another_citizens_consents_denied if {
	# GIVEN citizen c-123
	# WHEN they read citizen c-456's consents
	d := decision with input as request(citizen_123, "consent.read", "c-456")

	# THEN they may not
	d.allow == false
	d.on_behalf == false
	has_reason(d, `may act only on their own record, not on citizen "c-456"'s`)
}

test_citizen_without_id_denied_on_record_without_id if {
	# GIVEN a citizen with an empty id
	# WHEN they act on a record with an empty citizen id
	d := decision with input as request({"id": "", "role": "citizen", "level": 0}, "consent.write", "")

	# THEN they may not: no citizen is named
	d.allow == false
	has_reason(d, "No citizen named")
}

# ---------------------------------------------------------------------------
# An agent on the citizen's behalf
# ---------------------------------------------------------------------------

test_agent_level_2_writes_consent_on_behalf_allowed if {
	# GIVEN an attention agent of level 2
	# WHEN they record consent for citizen c-123
	d := decision with input as request(agent(2), "consent.write", "c-123")

	# THEN they may, on the citizen's behalf, and the caller records the agent
	d.allow == true
	d.on_behalf == true
	has_reason(d, `Agent "a-9" (attention level 2, area "hacienda") acts on behalf of citizen "c-123" for the stated purpose "CITA-0042"`)
}

test_agent_level_0_denied if {
	# GIVEN a subject with role agent but attention level 0 (self-service)
	# WHEN they change citizen c-123's subscriptions
	d := decision with input as request(agent(0), "subscriptions.write", "c-123")

	# THEN they may not
	d.allow == false
	d.on_behalf == false
	has_reason(d, "level 0 is self-service")
}

test_agent_level_4_denied if {
	# GIVEN an agent with a level above 3
	# WHEN they read citizen c-123's subscriptions
	d := decision with input as request(agent(4), "subscriptions.read", "c-123")

	# THEN they may not
	d.allow == false
}

test_agent_denied_once_data_removes_agents_from_an_action if {
	# GIVEN a compliance officer who lets only citizens write their consents
	edited := object.union(data.authz.actions, {"consent.write": {"roles": ["citizen"]}})

	# WHEN an agent of level 3 records consent for citizen c-123
	d := decision with input as request(agent(3), "consent.write", "c-123")
		with data.authz.actions as edited

	# THEN they may not
	d.allow == false
	has_reason(d, `Role "agent" may not do "consent.write"`)
}

# ---------------------------------------------------------------------------
# Nobody else
# ---------------------------------------------------------------------------

test_admin_denied if {
	# GIVEN an administrator
	# WHEN they read citizen c-123's consents
	d := decision with input as request({"id": "u-1", "role": "admin", "level": 3}, "consent.read", "c-123")

	# THEN they may not: nobody else
	d.allow == false
	has_reason(d, "nobody else")
}

test_system_denied if {
	# GIVEN a system account
	# WHEN it changes citizen c-123's preferences
	d := decision with input as request({"id": "svc-batch", "role": "system"}, "preferences.write", "c-123")

	# THEN it may not
	d.allow == false
	has_reason(d, `Role "system" may not do "preferences.write"`)
}

test_role_listed_in_data_but_unknown_to_policy_denied if {
	# GIVEN a compliance officer who lists an "auditor" role for consent.read
	edited := object.union(data.authz.actions, {"consent.read": {"roles": ["citizen", "agent", "auditor"]}})

	# WHEN an auditor reads citizen c-123's consents
	d := decision with input as request({"id": "u-1", "role": "auditor"}, "consent.read", "c-123")
		with data.authz.actions as edited

	# THEN they still may not, and the reason says so
	d.allow == false
	has_reason(d, `Role "auditor" is listed for "consent.read"`)
}

test_admin_listed_for_a_citizen_action_still_denied if {
	# GIVEN a compliance officer who (by mistake) lists admin for consent.read
	edited := object.union(data.authz.actions, {"consent.read": {"roles": ["citizen", "agent", "admin"]}})

	# WHEN an administrator reads citizen c-123's consents
	d := decision with input as request({"id": "u-1", "role": "admin"}, "consent.read", "c-123")
		with data.authz.actions as edited

	# THEN they still may not: administrators never reach citizens' data
	d.allow == false
	has_reason(d, "never reaches a citizen's personal data")
}

# ---------------------------------------------------------------------------
# Declared actions
# ---------------------------------------------------------------------------

test_unknown_action_denied if {
	# GIVEN citizen c-123
	# WHEN they try an action that is not declared
	d := decision with input as request(citizen_123, "consent.delete", "c-123")

	# THEN it is denied
	d.allow == false
	has_reason(d, `Unknown action "consent.delete"`)
}

test_decision_defined_and_denied_without_input if {
	# GIVEN no input at all
	# WHEN the decision is asked for
	d := decision

	# THEN it is a denial with reasons, never undefined
	d.allow == false
	d.on_behalf == false
	count(d.reasons) > 0
}

test_every_declared_action_is_open_to_citizen_and_agent if {
	# GIVEN the declared actions on a citizen's record (platform actions, e.g. template.write, are tested
	# apart) that list the citizen: rgpd.extend is the controller's, interaction.record the channels',
	# citizen.review/unmerge/search the staff's (agents and systems only) and payment.refund Hacienda's (its agents
	# and the area systems), case.work the agents'; rgpd.export goes to the data subject only, access-log.read to
	# agents of the DPO's office only, direct-debit.write (beside the citizen) to agents of Hacienda only, and
	# case.rate (the citizen's satisfaction with the attention) to the citizen only; the wallet's suspension and
	# grants are the agents' and the areas' systems', its offer the citizen's alone (the tx_code is shown to them);
	# ZBE's review queue and decisions are the agents', its plate list the cameras' system's; a booking's no-show is
	# recorded by the centre (its agents or its system); an incident's photo and its reopening are its reporter's
	# alone, and suggestions the citizen's own (profiling for their own use; issue 18)
	record_actions := {name | some name, spec in data.authz.actions; not spec.scope in {"platform", "self-service", "published"}}
	citizen_actions := {name | some name in record_actions; "citizen" in data.authz.actions[name].roles}
	record_actions - citizen_actions == {"rgpd.extend", "interaction.record", "citizen.review", "citizen.unmerge", "citizen.search", "payment.refund", "case.work", "wallet.card.suspend", "wallet.grant", "zbe.review", "zbe.decide", "zbe.plates", "booking.no-show"}
	area_bound := {name | some name in citizen_actions; data.authz.actions[name].agent_areas}
	agent_actions := {name | some name in citizen_actions; "agent" in data.authz.actions[name].roles} - area_bound
	citizen_actions - agent_actions == {"rgpd.export", "access-log.read", "direct-debit.write", "case.rate", "wallet.offer", "incident.photo", "incident.reopen", "recommend.suggestions.read", "recommend.suggestions.feedback"}

	# THEN each may be done by the citizen, and by an agent of level 1 stating a purpose where agents may
	every name in citizen_actions {
		allowed(request(citizen_123, name, "c-123"))
	}
	every name in agent_actions {
		allowed(request(agent(1), name, "c-123"))
		not allowed(without_purpose(request(agent(1), name, "c-123")))
	}
}

# GIVEN an internal system WHEN it asks for a contact decision THEN it is allowed, not on behalf
test_system_allowed_to_ask_a_contact_decision if {
	d := decision with input as request({"id": "svc-notifications", "role": "system"}, "contact.decide", "c-123")
	d.allow == true
	d.on_behalf == false
}

# GIVEN an internal system WHEN it tries to change consent THEN it is refused: only contact decisions list it
test_system_denied_consent_write if {
	d := decision with input as request({"id": "svc-notifications", "role": "system"}, "consent.write", "c-123")
	d.allow == false
}

# ---------------------------------------------------------------------------
# The golden citizen record (C360)
# ---------------------------------------------------------------------------

# GIVEN an attention agent or an area system WHEN it reads a golden citizen record THEN it is allowed
test_agent_and_system_read_the_golden_record if {
	allowed(request(agent(1), "citizen.read", "cit-1"))
	allowed(request({"id": "svc-padron", "role": "system"}, "citizen.read", "cit-1"))
}

# GIVEN a citizen WHEN they read their own golden record THEN allowed; another's THEN refused
test_citizen_reads_only_their_own_golden_record if {
	allowed(request({"id": "cit-1", "role": "citizen", "level": 0}, "citizen.read", "cit-1"))
	not allowed(request({"id": "cit-1", "role": "citizen", "level": 0}, "citizen.read", "cit-2"))
}

# ---------------------------------------------------------------------------
# Finding a citizen (C360 search): the kernel names the placeholder "(citizen search)"
# ---------------------------------------------------------------------------

search := "(citizen search)"

# GIVEN an attention agent of level 1 to 3 stating a purpose WHEN they search THEN allowed, on the ground given
test_agent_with_a_purpose_searches_citizens if {
	every level in [1, 2, 3] {
		allowed(request(attention_agent(level), "citizen.search", search))
	}
	d := decision with input as request(agent(2), "citizen.search", search)
	d.allow == true
	has_reason(d, "for the stated purpose")
}

# GIVEN an agent without a purpose WHEN they search THEN refused: a search reaches whoever it finds
test_agent_without_a_purpose_may_not_search if {
	d := decision with input as without_purpose(request(attention_agent(3), "citizen.search", search))
	d.allow == false
	has_reason(d, "Access-Purpose")
}

# GIVEN a search naming nobody at all and no purpose WHEN an agent asks THEN the purpose is still required
test_a_search_requires_a_purpose_even_naming_no_citizen if {
	d := decision with input as without_purpose(request(attention_agent(1), "citizen.search", ""))
	d.allow == false
	has_reason(d, "Access-Purpose")
	has_reason(d, "No citizen named")
}

# GIVEN a blank purpose WHEN an agent searches THEN refused
test_agent_with_a_blank_purpose_may_not_search if {
	req := object.union(request(attention_agent(1), "citizen.search", search), {"purpose": "  "})
	not allowed(req)
}

# GIVEN a citizen, an internal system, an administrator or a level-0 agent WHEN they search THEN refused
test_only_attention_agents_search_citizens if {
	d := decision with input as request(citizen_123, "citizen.search", search)
	d.allow == false
	has_reason(d, "only agent may")
	not allowed(request({"id": "svc-padron", "role": "system"}, "citizen.search", search))
	d_admin := decision with input as request({"id": "adm-1", "role": "admin"}, "citizen.search", search)
	d_admin.allow == false
	has_reason(d_admin, "never reaches a citizen's personal data")
	not allowed(request(attention_agent(0), "citizen.search", search))
}

# GIVEN the search action WHEN it is declared THEN it finds citizens, for agents only, with its legal note
test_the_search_action_is_declared_for_agents_with_its_legal_note if {
	spec := data.authz.actions["citizen.search"]
	spec.roles == ["agent"]
	spec.finds_citizens == true
	contains(spec.note.en, "5.1.b")
	contains(spec.note.es, "5.1.c")
}

# GIVEN an area system WHEN it tries to change consent THEN it is still refused
test_system_reading_citizens_changes_no_consent if {
	not allowed(request({"id": "svc-padron", "role": "system"}, "consent.write", "cit-1"))
}

# ---------------------------------------------------------------------------
# Data-subject rights (RGPD arts. 12 to 21): functions/rgpd
# ---------------------------------------------------------------------------

test_citizen_opens_a_rights_request_for_themselves_allowed if {
	# GIVEN citizen c-123
	# WHEN they ask for erasure of their own data
	d := decision with input as request(citizen_123, "rgpd.request", "c-123")

	# THEN they may, on their own behalf
	d.allow == true
	d.on_behalf == false
}

test_citizen_opens_a_rights_request_for_another_citizen_denied if {
	# GIVEN citizen c-123
	# WHEN they ask for access to citizen c-456's data
	d := decision with input as request(citizen_123, "rgpd.request", "c-456")

	# THEN they may not
	d.allow == false
	has_reason(d, `not on citizen "c-456"'s`)
}

test_agent_opens_a_rights_request_on_behalf_allowed if {
	# GIVEN an attention agent of level 1 attending citizen c-123 at an office
	d := decision with input as request(agent(1), "rgpd.request", "c-123")

	# THEN they may, on the citizen's behalf
	d.allow == true
	d.on_behalf == true
}

test_system_opens_a_rights_request_denied if {
	# GIVEN an internal system: rights are the person's own, exercised by them or an agent for them
	d := decision with input as request({"id": "notifications", "role": "system", "level": 0}, "rgpd.request", "c-123")
	d.allow == false
}

test_citizen_reads_own_rights_requests_allowed if {
	d := decision with input as request(citizen_123, "rgpd.read", "c-123")
	d.allow == true
}

test_citizen_reads_another_citizens_rights_requests_denied if {
	d := decision with input as request(citizen_123, "rgpd.read", "c-456")
	d.allow == false
}

test_agent_extends_a_deadline_allowed if {
	# GIVEN an agent handling a complex request
	d := decision with input as request(agent(2), "rgpd.extend", "c-123")

	# THEN they may extend its deadline (the reason is recorded by the caller)
	d.allow == true
	d.on_behalf == true
}

test_citizen_extends_their_own_deadline_denied if {
	# GIVEN a citizen: the controller, not the person, extends the deadline (art. 12.3)
	d := decision with input as request(citizen_123, "rgpd.extend", "c-123")
	d.allow == false
	has_reason(d, `Role "citizen" may not do "rgpd.extend"`)
}

# ---------------------------------------------------------------------------
# Interactions (INTX)
# ---------------------------------------------------------------------------

# GIVEN an agent or a channel system WHEN it records an interaction THEN allowed; a citizen THEN refused
test_interaction_record_by_agents_and_systems_only if {
	allowed(request(agent(1), "interaction.record", "cit-1"))
	allowed(request({"id": "svc-gestor-colas", "role": "system"}, "interaction.record", "cit-1"))
	not allowed(request({"id": "cit-1", "role": "citizen", "level": 0}, "interaction.record", "cit-1"))
}

# GIVEN a citizen WHEN they read their own interaction THEN allowed; another's THEN refused; a system THEN refused
test_interaction_read if {
	allowed(request({"id": "cit-1", "role": "citizen", "level": 0}, "interaction.read", "cit-1"))
	not allowed(request({"id": "cit-1", "role": "citizen", "level": 0}, "interaction.read", "cit-2"))
	not allowed(request({"id": "svc-x", "role": "system"}, "interaction.read", "cit-1"))
}

# ---------------------------------------------------------------------------
# C360 clerical review and un-merge (issue 5): attention agents only
# ---------------------------------------------------------------------------

test_agent_reviews_and_unmerges_golden_records if {
	# GIVEN attention agents of levels 1 to 3
	# WHEN they decide a possible duplicate or split a source record out of a golden record
	# THEN they may
	allowed(request(agent(1), "citizen.review", "cit-1"))
	allowed(request(agent(3), "citizen.unmerge", "cit-1"))
}

test_citizen_cannot_review_or_unmerge_even_their_own_record if {
	# GIVEN citizen cit-1
	# WHEN they try to decide a review or un-merge their own golden record
	d := decision with input as request({"id": "cit-1", "role": "citizen", "level": 0}, "citizen.unmerge", "cit-1")

	# THEN they may not: identity decisions are made by staff (they ask for rectification instead)
	d.allow == false
	has_reason(d, `Role "citizen" may not do "citizen.unmerge"`)
	not allowed(request({"id": "cit-1", "role": "citizen", "level": 0}, "citizen.review", "cit-1"))
}

test_system_cannot_review_or_unmerge if {
	# GIVEN an area system that may read golden records
	# WHEN it tries to decide a review or un-merge
	# THEN it may not: only agents decide identity
	not allowed(request({"id": "svc-padron", "role": "system"}, "citizen.review", "cit-1"))
	not allowed(request({"id": "svc-padron", "role": "system"}, "citizen.unmerge", "cit-1"))
}

test_agent_level_0_cannot_review if {
	not allowed(request(agent(0), "citizen.review", "cit-1"))
}

# ---------------------------------------------------------------------------
# Notifications (NOT): platform actions and the citizen's inbox
# ---------------------------------------------------------------------------

test_a_system_may_send_notifications_without_naming_a_citizen if {
	decision.allow with input as {"subject": {"id": "tributos", "role": "system"}, "action": "notification.send", "resource": {}}
}

test_an_agent_may_write_templates if {
	decision.allow with input as {"subject": {"id": "a-1", "role": "agent", "level": 2}, "action": "template.write", "resource": {}}
}

test_a_level_0_agent_may_not_write_templates if {
	not decision.allow with input as {"subject": {"id": "a-1", "role": "agent", "level": 0}, "action": "template.write", "resource": {}}
}

test_a_citizen_may_not_send_notifications if {
	not decision.allow with input as {"subject": {"id": "c-1", "role": "citizen"}, "action": "notification.send", "resource": {"citizen_id": "c-1"}}
}

test_a_citizen_reads_their_own_inbox_only if {
	decision.allow with input as {"subject": {"id": "c-1", "role": "citizen"}, "action": "inbox.read", "resource": {"citizen_id": "c-1"}}
	not decision.allow with input as {"subject": {"id": "c-1", "role": "citizen"}, "action": "inbox.read", "resource": {"citizen_id": "c-2"}}
}

test_the_notifications_sent_to_a_citizen_are_theirs_and_their_agents_only if {
	# GIVEN the list of the notifications sent to citizen c-1 (notification.list)
	# THEN the citizen reads their own, not another's; an agent reads it on their behalf with a purpose only;
	# an internal system and a platform administrator never
	decision.allow with input as {"subject": {"id": "c-1", "role": "citizen"}, "action": "notification.list", "resource": {"citizen_id": "c-1"}}
	not decision.allow with input as {"subject": {"id": "c-1", "role": "citizen"}, "action": "notification.list", "resource": {"citizen_id": "c-2"}}
	allowed(request(agent(2), "notification.list", "c-1"))
	not allowed(without_purpose(request(agent(2), "notification.list", "c-1")))
	not decision.allow with input as {"subject": {"id": "tributos", "role": "system"}, "action": "notification.list", "resource": {"citizen_id": "c-1"}}
	not decision.allow with input as {"subject": {"id": "adm-1", "role": "admin"}, "action": "notification.list", "resource": {"citizen_id": "c-1"}}
}

test_a_system_may_not_read_a_citizens_inbox if {
	not decision.allow with input as {"subject": {"id": "tributos", "role": "system"}, "action": "inbox.read", "resource": {"citizen_id": "c-1"}}
}

# ---------------------------------------------------------------------------
# Purpose, view, area-bound actions and the platform administrator (issue 11)
# ---------------------------------------------------------------------------

test_agent_without_purpose_denied_on_every_citizen_action if {
	# GIVEN an attention agent of level 3 who states no purpose
	# WHEN they read citizen c-123's consents, golden record, inbox or rights requests
	# THEN every one is refused, saying why
	every name in {"consent.read", "citizen.read", "inbox.read", "rgpd.read", "rgpd.request", "consent.write"} {
		d := decision with input as without_purpose(request(agent(3), name, "c-123"))
		d.allow == false
		has_reason(d, "no purpose, no access")
	}
}

test_agent_with_blank_purpose_denied if {
	d := decision with input as object.union(request(agent(2), "consent.read", "c-123"), {"purpose": "   "})
	d.allow == false
}

test_agent_view_follows_level_and_area if {
	# GIVEN agents of the citizen-attention area at levels 1, 2, 3, and one of another area

	# WHEN they read citizen c-123's consents for a purpose
	# THEN they see what the global position's table gives their level inside their area, a summary outside
	decision.view == "summary" with input as request(attention_agent(1), "consent.read", "c-123")
	decision.view == "detail" with input as request(attention_agent(2), "consent.read", "c-123")
	decision.view == "full" with input as request(attention_agent(3), "consent.read", "c-123")
	decision.view == "summary" with input as request(agent(3), "consent.read", "c-123")
}

test_citizen_and_system_see_full_view if {
	decision.view == "full" with input as request(citizen_123, "consent.read", "c-123")
	decision.view == "full" with input as request({"id": "svc-padron", "role": "system"}, "citizen.read", "c-123")
}

test_export_goes_to_the_data_subject_only if {
	# GIVEN an access request of citizen c-123
	# WHEN the citizen downloads the export THEN allowed
	allowed(request(citizen_123, "rgpd.export", "c-123"))

	# WHEN an agent of level 3 who opened it on their behalf tries, with a purpose THEN refused
	d := decision with input as request(agent(3), "rgpd.export", "c-123")
	d.allow == false
	has_reason(d, `Role "agent" may not do "rgpd.export"`)
}

test_access_log_read_by_the_dpo_office_only if {
	dpo := {"id": "a-7", "role": "agent", "level": 2, "area": "proteccion-datos"}
	allowed(request(dpo, "access-log.read", "c-123"))
	not allowed(without_purpose(request(dpo, "access-log.read", "c-123")))
	d := decision with input as request(agent(3), "access-log.read", "c-123")
	d.allow == false
	has_reason(d, "only agents of proteccion-datos may")
	allowed(request(citizen_123, "access-log.read", "c-123"))
	not allowed(request(citizen_123, "access-log.read", "c-456"))
}

test_admin_administers_templates if {
	admin := {"id": "u-1", "role": "admin", "level": 0}
	decision.allow with input as {"subject": admin, "action": "template.write", "resource": {}}
	decision.allow with input as {"subject": admin, "action": "template.read", "resource": {}}
}

test_admin_never_reaches_citizen_data if {
	admin := {"id": "u-1", "role": "admin", "level": 3}
	record_actions := {name | some name, spec in data.authz.actions; not spec.scope in {"platform", "self-service", "published"}}
	every name in record_actions {
		not allowed(request(admin, name, "c-123"))
	}
}

test_agent_reading_a_citizens_notification_needs_a_purpose if {
	# GIVEN a notification sent to citizen c-123 (a platform action that names the citizen)
	# WHEN an agent reads its status without a purpose THEN refused; with one THEN allowed, on behalf
	not allowed(without_purpose(request(agent(2), "notification.read", "c-123")))
	d := decision with input as request(agent(2), "notification.read", "c-123")
	d.allow == true
	d.on_behalf == true
}

test_agent_platform_action_without_citizen_needs_no_purpose if {
	decision.allow with input as {"subject": agent(1), "action": "notification.read", "resource": {}}
}

# ---------------------------------------------------------------------------
# Self-service without signing in (the virtual assistant)
# ---------------------------------------------------------------------------

anonymous := {"id": "anonymous", "role": "anonymous", "level": 0}

test_anyone_talks_to_the_assistant_without_signing_in_allowed if {
	# GIVEN nobody signed in WHEN they open an anonymous conversation THEN allowed
	allowed(request(anonymous, "assistant.converse", ""))
}

test_anonymous_on_a_citizens_conversation_denied if {
	# GIVEN nobody signed in WHEN they reach a signed-in citizen's conversation THEN denied, saying why
	d := decision with input as request(anonymous, "assistant.converse", "c-123")
	d.allow == false
	has_reason(d, "Without signing in nobody acts on a citizen's record")
}

test_citizen_talks_to_the_assistant_in_their_own_name_allowed if {
	allowed(request(citizen_123, "assistant.converse", "c-123"))
	allowed(request(citizen_123, "assistant.converse", ""))
}

test_citizen_on_another_citizens_conversation_denied if {
	not allowed(request(citizen_123, "assistant.converse", "c-456"))
}

test_anonymous_does_nothing_else_denied if {
	# GIVEN nobody signed in WHEN they try an action that does not list them THEN denied
	not allowed(request(anonymous, "consent.read", "c-123"))
	not allowed(request(anonymous, "notification.send", ""))
}

test_agent_does_not_talk_as_the_assistant_denied if {
	not allowed(request(agent(1), "assistant.converse", ""))
}

# ---------------------------------------------------------------------------
# The wallet's verifier (issue 17)
# ---------------------------------------------------------------------------

# GIVEN an agent asking a person to present a card WHEN a purpose is stated THEN allowed; without one, refused:
# the presentation reaches the holder's data (finds_citizens)
test_verifier_request_needs_an_agents_purpose if {
	allowed(request(attention_agent(1), "verifier.request", ""))
	allowed(request(attention_agent(1), "verifier.result", ""))
	d := decision with input as without_purpose(request(attention_agent(1), "verifier.request", ""))
	d.allow == false
	has_reason(d, "Access-Purpose")
	not allowed(request(citizen_123, "verifier.request", ""))
}

# GIVEN the holder's wallet WHEN it answers a request without signing in (or signed in) THEN allowed, naming no one;
# staff do not answer for a holder
test_verifier_respond_is_the_wallets_self_service if {
	allowed(request({"id": "anonymous", "role": "anonymous", "level": 0}, "verifier.respond", ""))
	allowed(request(citizen_123, "verifier.respond", ""))
	not allowed(request(attention_agent(2), "verifier.respond", ""))
	not allowed(request({"id": "anonymous", "role": "anonymous", "level": 0}, "verifier.respond", "c-123"))
}

# GIVEN the catalogue of card types WHEN an agent reads it without a purpose THEN allowed: it is no one's data
test_verifier_types_is_a_catalogue if {
	allowed(without_purpose(request(attention_agent(1), "verifier.types", "")))
	not allowed(request({"id": "anonymous", "role": "anonymous", "level": 0}, "verifier.types", ""))
}

test_published_documentation_is_read_by_anyone_naming_no_record if {
	# GIVEN the documentation's action (scope published)
	# WHEN anyone reads it, signed in or not THEN allowed, on the published ground
	every subject in [
		{"id": "anonymous", "role": "anonymous"},
		{"id": "c-123", "role": "citizen"},
		{"id": "a-1", "role": "agent", "level": 1, "area": "atencion-ciudadania"},
		{"id": "u-1", "role": "admin"},
		{"id": "svc-1", "role": "system"},
	] {
		d := decision with input as {"subject": subject, "action": "docs.read", "resource": {"citizen_id": ""}}
		d.allow == true
		has_reason(d, "published documentation")
	}

	# WHEN a request of it names a citizen's record THEN refused (documentation is about no one)
	not allowed({"subject": {"id": "c-123", "role": "citizen"}, "action": "docs.read", "resource": {"citizen_id": "c-999"}})

	# WHEN a role data.json does not list asks THEN refused
	not allowed({"subject": {"id": "x", "role": "robot"}, "action": "docs.read", "resource": {"citizen_id": ""}})
}

# ---------------------------------------------------------------------------
# Internal systems as OAuth clients (client credentials, docs/decisions/0035)
# ---------------------------------------------------------------------------

client(scopes) := {"id": "quiosco-pruebas", "role": "system", "level": 0, "client_id": "quiosco-pruebas", "scopes": scopes}

# GIVEN a system's client whose scopes list api:verifier.types WHEN it reads the card types THEN allowed
test_client_does_what_its_scopes_name if {
	allowed(request(client(["api:verifier.types"]), "verifier.types", ""))
}

# GIVEN the same client WHEN it does another action its role may do (notification.send) THEN refused, naming the scope
test_client_refused_outside_its_scopes if {
	d := decision with input as request(client(["api:verifier.types"]), "notification.send", "")
	d.allow == false
	has_reason(d, `its scopes do not list api:notification.send (granted: api:verifier.types)`)
}

# GIVEN a client whose token grants no scope, or only an event type's WHEN it calls a route THEN refused
test_client_without_an_api_scope_does_nothing if {
	d := decision with input as request(client([]), "verifier.types", "")
	has_reason(d, "(granted: none)")
	not allowed(request(client(["events:es.madrid.pic.fine.issued.v1"]), "verifier.types", ""))
	not allowed(request(client(["api:verifier.types.extra", "verifier.types"]), "verifier.types", ""))
}

# GIVEN a client whose scopes list an action its role may not do WHEN it tries THEN still refused: scopes narrow
# what the roles allow, never widen it
test_scopes_never_widen_the_roles if {
	d := decision with input as request(client(["api:consent.write"]), "consent.write", "c-123")
	d.allow == false
	has_reason(d, `Role "system" may not do "consent.write"`)
}

# GIVEN a system token that names no client (the platform's own workloads) WHEN it acts THEN the roles alone decide
test_system_without_client_decided_by_roles if {
	allowed(request({"id": "svc-kiosk", "role": "system", "level": 0, "client_id": null, "scopes": null}, "verifier.types", ""))
	allowed(request({"id": "svc-kiosk", "role": "system", "level": 0}, "verifier.types", ""))
}
