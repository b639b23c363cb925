package zbe

import rego.v1


today := "2026-12-07"

inp(zone, category, label, own, district) := {
	"zone": zone, "category": category, "label": label,
	"holder_is_applicant": own, "vehicle_district": district, "today": today,
}

codes(d) := [r.code | some r in d.reasons]

test_a_resident_of_centro_with_their_own_vehicle_is_granted_at_once if {
	d := decision with input as inp("distrito-centro", "residente", "C", true, "01")
	d.outcome == "grant"
	codes(d) == ["automatic"]
	d.valid_days == 365
}

test_a_resident_whose_vehicle_is_elsewhere_goes_to_review if {
	d := decision with input as inp("distrito-centro", "residente", "none", true, "05")
	d.outcome == "review"
	codes(d) == ["review"]
}

test_a_resident_of_someone_elses_vehicle_goes_to_review if {
	d := decision with input as inp("distrito-centro", "residente", "B", false, "01")
	d.outcome == "review"
}

test_an_eco_vehicle_needs_no_authorisation_in_centro if {
	d := decision with input as inp("distrito-centro", "invitado", "ECO", false, null)
	d.outcome == "refuse"
	codes(d) == ["not-needed"]
}

test_a_guest_without_label_is_refused if {
	d := decision with input as inp("distrito-centro", "invitado", "none", false, null)
	d.outcome == "refuse"
	codes(d) == ["label-not-in-category"]
}

test_a_guest_with_label_b_goes_to_review_for_a_day if {
	d := decision with input as inp("distrito-centro", "invitado", "B", false, null)
	d.outcome == "review"
	d.valid_days == 1
}

test_plaza_eliptica_exceptions_ended_in_2024 if {
	d := decision with input as inp("plaza-eliptica", "residente", "none", true, "11")
	d.outcome == "refuse"
	codes(d) == ["ended"]
}

test_plaza_eliptica_exceptions_applied_before_they_ended if {
	d := decision with input as {
		"zone": "plaza-eliptica", "category": "pmr", "label": "none",
		"holder_is_applicant": true, "vehicle_district": "11", "today": "2024-06-01",
	}
	d.outcome == "review"
}

test_a_label_c_vehicle_needs_nothing_in_plaza_eliptica if {
	d := decision with input as inp("plaza-eliptica", "comercio", "C", true, "11")
	codes(d) == ["not-needed"]
}

test_an_unconfirmed_rule_is_only_ever_reviewed if {
	d := decision with input as inp("madrid", "pmr", "none", true, "01")
	d.outcome == "review"
	codes(d) == ["unconfirmed"]
}

test_a_category_the_zone_does_not_have_is_refused if {
	d := decision with input as inp("madrid", "garaje", "none", true, "01")
	d.outcome == "refuse"
	codes(d) == ["category-not-in-zone"]
}

test_an_unknown_zone_is_refused if {
	d := decision with input as inp("gran-via", "residente", "none", true, "01")
	d.outcome == "refuse"
	codes(d) == ["zone-unknown"]
}

test_every_reason_has_both_languages if {
	a := decision with input as inp("distrito-centro", "invitado", "none", false, null)
	b := decision with input as inp("distrito-centro", "residente", "C", true, "01")
	c := decision with input as inp("madrid", "pmr", "none", true, "01")
	every r in array.concat(array.concat(a.reasons, b.reasons), c.reasons) {
		r.es != ""
		r.en != ""
	}
}

test_every_rule_cites_a_source_and_says_whether_it_was_checked if {
	every _, rules in data.zbe.rules {
		every _, rule in rules {
			rule.source != ""
			is_boolean(rule.confirmed)
		}
	}
}
