package case

import rego.v1



test_add_to_an_open_case if {
	decision.allow with input as {"action": "add", "case": {"state": "waiting-on-citizen", "resolved_days": null}}
}

test_reopen_within_the_window if {
	decision.allow with input as {"action": "reopen", "case": {"state": "resolved", "resolved_days": 29}}
}

test_reopen_after_the_window if {
	not decision.allow with input as {"action": "reopen", "case": {"state": "closed", "resolved_days": 31}}
	d := decision with input as {"action": "reopen", "case": {"state": "closed", "resolved_days": 31}}
	contains(d.reasons[0], "within 30 days")
}

test_open_case_is_not_rated if {
	d := decision with input as {"action": "rate", "case": {"state": "open", "resolved_days": null}}
	not d.allow
	contains(d.reasons[0], "cannot be rated")
}

test_merged_case_takes_nothing if {
	not decision.allow with input as {"action": "add", "case": {"state": "merged", "resolved_days": null}}
}
