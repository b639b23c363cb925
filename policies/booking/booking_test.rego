package booking

import rego.v1

pool := {"kind": "sports-facility", "min_age": 14, "max_age": null}

resident := {"resident": true, "age": 40, "no_shows": []}

visitor := {"resident": false, "age": 40, "no_shows": []}

base := {"resource": pool, "person": resident, "hours_ahead": 100, "week_count": 0, "now": "2026-12-07T10:00:00Z"}

unmet(d) := {r.key | some r in d.reasons; not r.met}

test_a_resident_books_a_week_ahead if {
	d := decision with input as base
	d.allow
	d.hold_minutes == 30
}

test_a_non_resident_waits_until_48_hours_before if {
	d := decision with input as object.union(base, {"person": visitor})
	not d.allow
	unmet(d) == {"window"}
	d2 := decision with input as object.union(base, {"person": visitor, "hours_ahead": 47})
	d2.allow
}

test_nobody_books_beyond_the_residents_window if {
	d := decision with input as object.union(base, {"hours_ahead": 169})
	unmet(d) == {"window"}
}

test_the_weekly_limit_per_kind if {
	d := decision with input as object.union(base, {"week_count": 3})
	unmet(d) == {"weekly"}
	c := decision with input as object.union(base, {"week_count": 3, "resource": {"kind": "cultural-activity", "min_age": null, "max_age": null}})
	c.allow
}

test_the_age_band if {
	young := decision with input as object.union(base, {"person": object.union(resident, {"age": 13})})
	unmet(young) == {"age"}
	kids := {"kind": "class", "min_age": 6, "max_age": 12}
	adult := decision with input as object.union(base, {"resource": kids})
	unmet(adult) == {"age"}
	child := decision with input as object.union(base, {"resource": kids, "person": object.union(resident, {"age": 8})})
	child.allow
	senior := decision with input as object.union(base, {"resource": {"kind": "class", "min_age": 65, "max_age": null}, "person": object.union(resident, {"age": 65})})
	senior.allow
}

test_an_unknown_age_cannot_book_an_age_limited_activity if {
	d := decision with input as object.union(base, {"person": object.union(resident, {"age": null})})
	unmet(d) == {"age"}
	free := decision with input as object.union(base, {"resource": {"kind": "cultural-activity", "min_age": null, "max_age": null}, "person": object.union(resident, {"age": null})})
	free.allow
}

test_three_recent_no_shows_suspend if {
	shows := ["2026-11-01T10:00:00Z", "2026-11-15T10:00:00Z", "2026-12-01T10:00:00Z"]
	d := decision with input as object.union(base, {"person": object.union(resident, {"no_shows": shows})})
	unmet(d) == {"no_shows"}
	old := ["2026-08-01T10:00:00Z", "2026-11-15T10:00:00Z", "2026-12-01T10:00:00Z"]
	o := decision with input as object.union(base, {"person": object.union(resident, {"no_shows": old})})
	o.allow
}

test_every_reason_cites_its_source if {
	d := decision with input as base
	count(d.reasons) == 4
	every r in d.reasons {
		count(r.source) > 20
		r.es != r.en
	}
}
