package recommend

import rego.v1

sample_facts := {
	"mode": "b", "restricted": false, "objections": [], "age": 70, "resident": true,
	"ibi_years": 3, "ibi_card_years": 3, "ibi_direct_debit": false, "vehicle_districts": ["02"],
	"cards": [], "zone_matches": 2,
}

fired_rules(d) := [s.rule | some s in d.suggest]

test_mode_b_gets_every_rule if {
	d := decision with input as {"facts": sample_facts}
	d.allow
	fired_rules(d) == ["ibi-direct-debit", "ser-resident-card", "madrid-mayor", "agenda-events"]
}

test_mode_a_gets_nothing if {
	d := decision with input as {"facts": object.union(sample_facts, {"mode": "a"})}
	not d.allow
	d.suggest == []
	some r in d.reasons
	r.key == "mode"
	not r.met
}

test_unknown_mode_is_mode_a if {
	d := decision with input as {"facts": object.remove(sample_facts, ["mode"])}
	not d.allow
	d.suggest == []
}

test_objection_to_personalisation_or_profiling_gets_nothing if {
	every purpose in ["personalisation", "profiling"] {
		d := decision with input as {"facts": object.union(sample_facts, {"objections": [purpose]})}
		not d.allow
		d.suggest == []
	}
}

test_objection_to_surveys_only_does_not_block if {
	d := decision with input as {"facts": object.union(sample_facts, {"objections": ["surveys"]})}
	d.allow
}

test_restriction_gets_nothing if {
	d := decision with input as {"facts": object.union(sample_facts, {"restricted": true})}
	not d.allow
	d.suggest == []
}

test_ibi_needs_every_year_by_card_and_no_direct_debit if {
	one_cash := object.union(sample_facts, {"ibi_card_years": 2})
	not "ibi-direct-debit" in fired_rules(decision) with input as {"facts": one_cash}
	debit := object.union(sample_facts, {"ibi_direct_debit": true})
	not "ibi-direct-debit" in fired_rules(decision) with input as {"facts": debit}
	one_year := object.union(sample_facts, {"ibi_years": 1, "ibi_card_years": 1})
	not "ibi-direct-debit" in fired_rules(decision) with input as {"facts": one_year}
}

test_ser_needs_a_ser_district_and_no_card if {
	outside := object.union(sample_facts, {"vehicle_districts": ["08"]})
	not "ser-resident-card" in fired_rules(decision) with input as {"facts": outside}
	held := object.union(sample_facts, {"cards": ["ser-residente"]})
	not "ser-resident-card" in fired_rules(decision) with input as {"facts": held}
}

test_madrid_mayor_at_65_resident_and_not_held if {
	young := object.union(sample_facts, {"age": 64})
	not "madrid-mayor" in fired_rules(decision) with input as {"facts": young}
	at65 := object.union(sample_facts, {"age": 65})
	"madrid-mayor" in fired_rules(decision) with input as {"facts": at65}
	held := object.union(sample_facts, {"cards": ["madrid-mayor"]})
	not "madrid-mayor" in fired_rules(decision) with input as {"facts": held}
	away := object.union(sample_facts, {"resident": false})
	not "madrid-mayor" in fired_rules(decision) with input as {"facts": away}
}

test_hidden_rule_does_not_fire if {
	d := decision with input as {"facts": sample_facts, "hidden_rules": ["madrid-mayor"]}
	not "madrid-mayor" in fired_rules(d)
	"ibi-direct-debit" in fired_rules(d)
}

test_a_disabled_rule_does_not_fire if {
	d := decision with input as {"facts": sample_facts}
		with data.recommend.rules["agenda-events"].enabled as false
	not "agenda-events" in fired_rules(d)
}
