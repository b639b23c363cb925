package position

import rego.v1

sample_parts := [
	{"section": "taxes", "area": "hacienda", "special_category": false},
	{"section": "fines", "area": "movilidad", "special_category": false},
	{"section": "cases", "area": "servicios-sociales", "special_category": true},
]

citizen := {"id": "c-1", "role": "citizen", "level": 0}

agent(level, area) := {"id": "a-9", "role": "agent", "level": level, "area": area}

req(subject, citizen_id, purpose) := {
	"subject": subject,
	"purpose": purpose,
	"resource": {"citizen_id": citizen_id, "parts": sample_parts},
}

view_of(d, section) := v if {
	some p in d.parts
	p.section == section
	v := p.view
}

has_reason(reasons, text) if {
	some r in reasons
	contains(r, text)
}

# GIVEN citizen c-1 WHEN they read their own position THEN every part, special categories included, in full
test_citizen_sees_all_own_data if {
	d := decision with input as req(citizen, "c-1", null)
	d.allow == true
	every p in d.parts {
		p.view == "full"
	}
	count(d.parts) == 3
}

# GIVEN citizen c-1 WHEN they read citizen c-2's position THEN refused with the reason
test_citizen_other_position_denied if {
	d := decision with input as req(citizen, "c-2", null)
	d.allow == false
	d.parts == []
	has_reason(d.reasons, `not citizen "c-2"'s`)
}

# GIVEN an agent WHEN they state no purpose (absent or blank) THEN refused, the reason names Access-Purpose
test_agent_without_purpose_denied if {
	d := decision with input as req(agent(3, "hacienda"), "c-1", null)
	d.allow == false
	has_reason(d.reasons, "Access-Purpose")
	b := decision with input as req(agent(3, "hacienda"), "c-1", "   ")
	b.allow == false
}

# GIVEN a level-1 agent of hacienda WHEN they read with a purpose THEN summaries, special categories hidden
test_level_1_sees_a_summary if {
	d := decision with input as req(agent(1, "hacienda"), "c-1", "EXP-1")
	d.allow == true
	view_of(d, "taxes") == "summary"
	view_of(d, "fines") == "summary"
	view_of(d, "cases") == "hidden"
}

# GIVEN a level-2 agent of hacienda THEN the detail of hacienda's data, a summary of the rest
test_level_2_sees_own_area_detail if {
	d := decision with input as req(agent(2, "hacienda"), "c-1", "EXP-1")
	view_of(d, "taxes") == "detail"
	view_of(d, "fines") == "summary"
	view_of(d, "cases") == "hidden"
}

# GIVEN a level-3 expert of hacienda THEN hacienda's data in full, a summary of the rest
test_level_3_sees_own_area_in_full if {
	d := decision with input as req(agent(3, "hacienda"), "c-1", "EXP-1")
	view_of(d, "taxes") == "full"
	view_of(d, "fines") == "summary"
}

# GIVEN an agent of Servicios Sociales THEN the special category of their own area, as their level allows
test_special_category_shown_to_its_area if {
	d2 := decision with input as req(agent(2, "servicios-sociales"), "c-1", "SS-44")
	view_of(d2, "cases") == "detail"
	d1 := decision with input as req(agent(1, "servicios-sociales"), "c-1", "SS-44")
	view_of(d1, "cases") == "summary"
}

# GIVEN an agent of another area WHEN the position holds special categories THEN the reason never says so
test_special_reason_is_general if {
	d := decision with input as req(agent(3, "movilidad"), "c-1", "EXP-2")
	has_reason(d.reasons, "Special categories of data")
	some p in d.parts
	p.section == "cases"
	contains(p.reason, "withheld")
}

# GIVEN an agent of level 0, an admin, a system WHEN they read a position THEN refused
test_nobody_else if {
	d0 := decision with input as req(agent(0, "hacienda"), "c-1", "x")
	d0.allow == false
	da := decision with input as req({"id": "u", "role": "admin", "level": 3}, "c-1", "x")
	da.allow == false
	ds := decision with input as req({"id": "s", "role": "system"}, "c-1", "x")
	ds.allow == false
}

# GIVEN no input at all THEN a denial with reasons, never undefined
test_defined_without_input if {
	d := decision
	d.allow == false
	count(d.reasons) > 0
}

# GIVEN a compliance officer who lets level 2 see everything of their area THEN data decides the view
test_views_come_from_data if {
	d := decision with input as req(agent(2, "hacienda"), "c-1", "EXP-1")
		with data.position.own_area_views as {"1": "summary", "2": "full", "3": "full"}
	view_of(d, "taxes") == "full"
}

# GIVEN a citizen who restricted processing (RGPD art. 18) WHEN an expert of the area reads THEN nothing, and why
test_restriction_hides_everything_from_agents_but_not_from_the_citizen if {
	restricted_req := object.union(req(agent(3, "hacienda"), "c-1", "EXP-1"), {"resource": {"citizen_id": "c-1", "parts": sample_parts, "restricted": true}})
	d := decision with input as restricted_req
	d.allow == true
	every p in d.parts {
		p.view == "hidden"
	}
	has_reason(d.reasons, "RGPD art. 18")
	own := decision with input as {"subject": citizen, "purpose": null, "resource": {"citizen_id": "c-1", "parts": sample_parts, "restricted": true}}
	view_of(own, "cases") == "full"
}
