package wallet

import rego.v1

senior := {"age": 70, "registered_in_madrid": true, "district": "05", "grants": []}

at(card_type, facts) := d if {
	d := decision with input as {"card_type": card_type, "facts": facts}
}

# GIVEN a 70-year-old registered in Madrid WHEN asking for Madrid Mayor THEN eligible, both conditions met
test_madrid_mayor_senior_registered_is_eligible if {
	d := at("madrid-mayor", senior)
	d.allow
	[r.key | some r in d.reasons] == ["age", "padron"]
	contains(d.legal_source, "Tarjeta Madrid Mayor")
}

# GIVEN a 64-year-old THEN not eligible and the age reason says why
test_madrid_mayor_under_65_is_not if {
	d := at("madrid-mayor", object.union(senior, {"age": 64}))
	not d.allow
	some r in d.reasons
	r.key == "age"
	not r.met
	r.es == "Tener 65 años o más"
}

# GIVEN a senior not registered in Madrid THEN not eligible
test_madrid_mayor_not_registered_is_not if {
	not at("madrid-mayor", object.union(senior, {"registered_in_madrid": false})).allow
}

# GIVEN no birth date known THEN not eligible, and the reason says the birth date is unknown
test_unknown_age_is_not_eligible if {
	d := at("madrid-mayor", {"registered_in_madrid": true})
	not d.allow
	some r in d.reasons
	contains(r.en, "birth date is unknown")
}

# GIVEN an entrepreneur grant THEN emprende is eligible; without it, not
test_emprende_needs_a_grant if {
	at("emprende", object.union(senior, {"grants": ["emprende"]})).allow
	not at("emprende", senior).allow
}

# GIVEN a resident of a SER district with a grant THEN eligible; outside the SER districts, not
test_ser_residente_needs_district_and_grant if {
	at("ser-residente", object.union(senior, {"grants": ["ser-residente"], "district": "01"})).allow
	not at("ser-residente", object.union(senior, {"grants": ["ser-residente"], "district": "16"})).allow
}

# GIVEN an unknown card type THEN not eligible, with a reason
test_unknown_type_is_refused if {
	d := at("passport", senior)
	not d.allow
	d.reasons[0].key == "type"
}
