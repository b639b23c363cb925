# METADATA
# title: Whether PIC may suggest anything to a citizen, and which rules fire
# description: >-
#   Recommendations (REC, issue 18) are proactive, so only for a citizen in mode b (consented to
#   personalisation), with no objection to personalisation or profiling (RGPD art. 21) and no restriction
#   of processing (RGPD art. 18). When allowed, each rule of data.recommend.rules fires from the facts PIC
#   projected (IBI paid by card every year and no direct debit, a vehicle registered in a SER district and no
#   resident card, age 65 and no Madrid Mayor card, agenda events in the person's zones matching past
#   bookings' categories), unless the person asked not to see it again. reasons explain the gate in es/en.
# custom:
#   legal_source: RGPD arts. 6.1.a, 7, 18, 21; data.recommend.rules[rule].legal_source per rule
package recommend

import rego.v1

# METADATA
# title: Decision
# description: >-
#   allow: PIC may make suggestions to this citizen. reasons: the gate's conditions, each met or not,
#   es/en. suggest: the rules that fire, each with its title, reason templates, link and legal source.
# entrypoint: true
# custom:
#   legal_source: RGPD arts. 6.1.a, 7, 18, 21 (the gate); data.recommend.rules[rule].legal_source (each rule)
decision := {
	"allow": allow,
	"reasons": reasons,
	"suggest": suggest,
}

facts := object.get(input, "facts", {})

gate_texts := data.recommend.texts

mode_b if object.get(facts, "mode", "a") == "b"

restricted if object.get(facts, "restricted", false) == true

objected if {
	some purpose in object.get(facts, "objections", [])
	purpose in data.recommend.blocking_objections
}

default allow := false

allow if {
	mode_b
	not restricted
	not objected
}

default mode_met := false

mode_met if mode_b

default restriction_met := true

restriction_met := false if restricted

default objection_met := true

objection_met := false if objected

reasons := [
	object.union(gate_texts[mode_key], {"key": "mode", "met": mode_met}),
	object.union(gate_texts[restriction_key], {"key": "restriction", "met": restriction_met}),
	object.union(gate_texts[objection_key], {"key": "objection", "met": objection_met}),
]

mode_key := "mode_b" if mode_b else := "not_mode_b"

restriction_key := "restricted" if restricted else := "not_restricted"

objection_key := "objection" if objected else := "no_objection"

hidden := object.get(input, "hidden_rules", [])

cards := object.get(facts, "cards", [])

live(id) := r if {
	r := data.recommend.rules[id]
	r.enabled
	not id in hidden
}

# IBI: every IBI year PIC saw was paid by card, at least min_card_years of them, and no direct debit.
fires contains "ibi-direct-debit" if {
	r := live("ibi-direct-debit")
	card_years := object.get(facts, "ibi_card_years", 0)
	card_years >= r.min_card_years
	card_years == object.get(facts, "ibi_years", 0)
	not object.get(facts, "ibi_direct_debit", false)
}

# SER: a vehicle registered at an address in a SER district, and no resident card held.
fires contains "ser-resident-card" if {
	r := live("ser-resident-card")
	some district in object.get(facts, "vehicle_districts", [])
	district in r.ser_districts
	not data.recommend.ser_card_type in cards
}

# Madrid Mayor: aged min_age or more, registered in Madrid (a district from the Padrón), no card held.
fires contains "madrid-mayor" if {
	r := live("madrid-mayor")
	is_number(object.get(facts, "age", null))
	facts.age >= r.min_age
	object.get(facts, "resident", false)
	not r.card_type in cards
}

# Agenda: at least one coming event in the person's zones whose category they booked before.
fires contains "agenda-events" if {
	live("agenda-events")
	object.get(facts, "zone_matches", 0) > 0
}

suggest := [object.union(data.recommend.rules[id], {"rule": id}) | some id in sort_rules; id in fires] if {
	allow
} else := []

sort_rules := ["ibi-direct-debit", "ser-resident-card", "madrid-mayor", "agenda-events"]
