package access_log

import rego.v1

req(subject, citizen_id, purpose) := {"subject": subject, "purpose": purpose, "resource": {"citizen_id": citizen_id}}

citizen := {"id": "c-1", "role": "citizen", "level": 0}

dpo := {"id": "dpo-1", "role": "agent", "level": 2, "area": "proteccion-datos"}

# GIVEN citizen c-1 WHEN they read their own access log THEN allowed
test_citizen_reads_own_log if {
	d := decision with input as req(citizen, "c-1", null)
	d.allow == true
	contains(d.reasons[0], "RGPD art. 15.1.c")
}

# GIVEN citizen c-1 WHEN they read c-2's access log THEN refused
test_citizen_reads_another_log_denied if {
	d := decision with input as req(citizen, "c-2", null)
	d.allow == false
}

# GIVEN a compliance officer WHEN they state a purpose THEN allowed; WHEN they do not THEN refused with the reason
test_compliance_officer_needs_purpose if {
	d := decision with input as req(dpo, "c-1", "RGPD-2026-001")
	d.allow == true
	n := decision with input as req(dpo, "c-1", " ")
	n.allow == false
	some r in n.reasons
	contains(r, "Access-Purpose")
}

# GIVEN an agent of another area WHEN they read an access log, even with a purpose THEN refused
test_other_agent_denied if {
	d := decision with input as req({"id": "a-1", "role": "agent", "level": 3, "area": "hacienda"}, "c-1", "x")
	d.allow == false
}
