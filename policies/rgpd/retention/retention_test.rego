package rgpd.retention

import rego.v1

# ---------------------------------------------------------------------------
# Samples
# ---------------------------------------------------------------------------

now := "2026-11-26T15:00:00Z"

ask(domain, category, record) := {"domain": domain, "category": category, "record": record, "now": now}

has_reason(d, text) if {
	some r in d.reasons
	contains(r, text)
}

# ---------------------------------------------------------------------------
# Consent proofs: evidence while infringements can be prosecuted (RGPD 7.1, LOPDGDD 72-74)
# ---------------------------------------------------------------------------

test_recent_consent_proof_kept_for_three_years if {
	# GIVEN a consent proof recorded in January 2026
	# WHEN an erasure asks about it in November 2026
	d := decision with input as ask("consent", "consent-proofs", {"recorded_at": "2026-01-15T10:00:00Z"})

	# THEN it is kept until January 2029, with its legal basis and source
	d.allow == false
	d.keep == true
	d.keep_until == "2029-01-15T10:00:00Z"
	contains(d.legal_basis, "RGPD art. 7.1")
	contains(d.legal_source, "LOPDGDD")
	d.review == false
	has_reason(d, "is kept until 2029-01-15T10:00:00Z")
}

test_old_consent_proof_erased_once_its_period_ended if {
	# GIVEN a consent proof recorded in 2022 (its three years ended in 2025)
	d := decision with input as ask("consent", "consent-proofs", {"recorded_at": "2022-01-15T10:00:00+01:00"})

	# THEN it may be erased, and the reason says when the period ended
	d.allow == true
	d.keep == false
	d.legal_basis == null
	has_reason(d, "retention period ended on 2025-01-15")
}

test_proof_recorded_on_29_february_kept_until_28_february if {
	# GIVEN a proof recorded on a leap day
	d := decision with input as ask("consent", "consent-proofs", {"recorded_at": "2024-02-29T12:00:00Z"})

	# THEN its three years end on the last day of February 2027 (Regulation 1182/71 art. 3.2.c)
	d.keep == true
	d.keep_until == "2027-02-28T12:00:00Z"
}

test_period_from_a_local_time_is_counted_in_utc if {
	# GIVEN a proof recorded at 00:30 in Madrid on 1 March (23:30 UTC on 28 February)
	d := decision with input as ask("consent", "consent-proofs", {"recorded_at": "2025-03-01T00:30:00+01:00"})

	# THEN the period ends three years later at the same instant
	d.keep_until == "2028-02-28T23:30:00Z"
}

# ---------------------------------------------------------------------------
# No obligation to keep: erased (RGPD art. 17.1)
# ---------------------------------------------------------------------------

test_preferences_erased if {
	d := decision with input as ask("consent", "preferences", {})
	d.allow == true
	d.erase == true
	has_reason(d, "no legal obligation to keep it")
}

test_subscriptions_erased if {
	d := decision with input as ask("consent", "subscriptions", {})
	d.allow == true
}

# ---------------------------------------------------------------------------
# Legal registers and prescription periods
# ---------------------------------------------------------------------------

test_padron_record_kept_indefinitely_as_a_legal_register if {
	# GIVEN the Padrón entry of a person asking for erasure
	d := decision with input as ask("citizen", "padron-record", {})

	# THEN it is kept, with no end date, citing Ley 7/1985 and RD 1690/1986
	d.allow == false
	d.keep_until == null
	contains(d.legal_source, "Ley 7/1985")
	contains(d.legal_source, "1690/1986")
	d.review == false
}

test_tax_records_kept_while_the_lgt_prescription_runs if {
	# GIVEN an IBI receipt whose voluntary period ended on 20 November 2024
	d := decision with input as ask("tax", "tax-records", {"prescription_starts": "2024-11-21T00:00:00Z"})

	# THEN it is kept four years, until 21 November 2028 (Ley 58/2003 art. 66)
	d.keep == true
	d.keep_until == "2028-11-21T00:00:00Z"
	contains(d.legal_source, "art. 66")
}

test_tax_records_erased_after_prescription if {
	d := decision with input as ask("tax", "tax-records", {"prescription_starts": "2020-06-01T00:00:00Z"})
	d.allow == true
}

test_traffic_fine_kept_four_years_from_firmeza if {
	d := decision with input as ask("fines", "traffic-fines", {"final_at": "2025-03-01T00:00:00Z"})
	d.keep == true
	d.keep_until == "2029-03-01T00:00:00Z"
	contains(d.legal_source, "art. 112")
}

test_access_log_kept_three_years if {
	# GIVEN a read of the person's data in June 2026
	d := decision with input as ask("audit", "access-log", {"at": "2026-06-01T08:00:00Z"})

	# THEN the access log entry is kept three years, with accountability and the LOPDGDD as the source
	d.keep == true
	d.keep_until == "2029-06-01T08:00:00Z"
	contains(d.legal_basis, "RGPD art. 5.2")
	contains(d.legal_source, "LOPDGDD arts. 72-74")
}

test_access_log_entry_older_than_three_years_erased if {
	d := decision with input as ask("audit", "access-log", {"at": "2023-06-01T08:00:00Z"})
	d.allow == true
	has_reason(d, "retention period ended on 2026-06-01")
}

test_access_log_without_the_read_time_kept_for_review if {
	d := decision with input as ask("audit", "access-log", {})
	d.allow == false
	d.review == true
}

test_interaction_outside_any_file_erased if {
	d := decision with input as ask("interaction", "interactions", {"recorded_at": "2026-06-01T08:00:00Z"})
	d.allow == true
	d.legal_basis == null
}

test_interaction_about_an_administrative_file_follows_the_file if {
	# GIVEN an office visit recorded about a case (expediente)
	d := decision with input as ask("interaction", "case-interactions", {"recorded_at": "2026-06-01T08:00:00Z"})

	# THEN it is kept as long as the file, citing the LPAC and the Patrimonio Histórico law
	d.keep == true
	d.keep_until == null
	d.review == false
	contains(d.legal_source, "Ley 39/2015")
	contains(d.legal_source, "Ley 16/1985")
}

test_position_projections_erased_and_its_restriction_flag_kept if {
	projections := decision with input as ask("position", "projections", {})
	projections.allow == true
	flag := decision with input as ask("position", "flags", {})
	flag.keep == true
	contains(flag.legal_source, "RGPD art. 18")
}

# ---------------------------------------------------------------------------
# Fail closed: kept for review
# ---------------------------------------------------------------------------

test_unknown_category_kept_for_review if {
	# GIVEN a category nobody declared
	d := decision with input as ask("wallet", "cards", {})

	# THEN it is not erased, and a person must decide
	d.allow == false
	d.keep == true
	d.review == true
	has_reason(d, `No retention rule for "cards" in domain "wallet"`)
}

test_record_without_its_start_date_kept_for_review if {
	# GIVEN a tax record that does not say when its prescription started
	d := decision with input as ask("tax", "tax-records", {})

	# THEN the period cannot be computed: kept for review
	d.allow == false
	d.review == true
	d.keep_until == null
	has_reason(d, "needs record.prescription_starts")
}

test_malformed_date_kept_for_review if {
	d := decision with input as ask("tax", "tax-records", {"prescription_starts": "21/11/2024"})
	d.allow == false
	d.review == true
}

test_missing_now_kept_for_review if {
	d := decision with input as {"domain": "tax", "category": "tax-records", "record": {"prescription_starts": "2020-01-01T00:00:00Z"}}
	d.allow == false
	d.review == true
	has_reason(d, "now must be an RFC 3339 time")
}

# ---------------------------------------------------------------------------
# Citizen 360: what an erasure of a golden record deletes (functions/citizen/rights.py)
# ---------------------------------------------------------------------------

test_c360_copies_and_derived_data_are_erased if {
	# GIVEN each category C360 holds besides the Padrón entry
	categories := ["source-record", "golden-record", "data-subject-record", "match-review", "merge-history"]

	# THEN each is erased, citing RGPD art. 17.1, with no legal basis to keep it
	every category in categories {
		d := decision with input as ask("citizen", category, {})
		d.allow == true
		d.legal_basis == null
		contains(d.legal_source, "RGPD art. 17.1")
		d.review == false
	}
}

test_c360_every_category_is_declared if {
	# GIVEN the categories functions/citizen/rights.py asks about
	categories := ["padron-record", "source-record", "golden-record", "data-subject-record", "match-review", "merge-history"]

	# THEN none of them falls to "no rule declared" (kept for review)
	every category in categories {
		d := decision with input as ask("citizen", category, {})
		d.review == false
	}
}

# ---------------------------------------------------------------------------
# Shared categories: what every domain keeps beyond its own tables (functions/core/rights.py)
# ---------------------------------------------------------------------------

test_outbox_rows_and_request_replays_are_kept_until_they_expire_in_every_domain if {
	# GIVEN every domain that answers erasures
	domains := ["consent", "citizen", "interaction", "audit", "notification", "position"]

	# THEN each keeps its outbox rows and request replays until the store's TTL removes them, with a basis
	every domain in domains {
		every category in ["outbox-events", "request-replays"] {
			d := decision with input as ask(domain, category, {})
			d.allow == false
			d.review == false
			d.keep_until == null
			contains(d.legal_basis, "without undue delay")
			has_reason(d, "is kept until the store removes it (TTL)")
		}
	}
}

test_an_erasure_marker_is_kept_indefinitely_where_projections_honour_it if {
	# GIVEN the domains whose projections honour an erasure marker
	every domain in ["position", "notification"] {
		# THEN the marker is kept, with no end, on RGPD arts. 17.1 and 19
		d := decision with input as ask(domain, "erasure-marker", {})
		d.allow == false
		d.review == false
		d.keep_until == null
		contains(d.legal_source, "17.1 and 19")
	}
}

test_a_shared_category_of_an_unknown_domain_is_kept_for_review if {
	# GIVEN a domain no rule declares
	d := decision with input as ask("cadastre", "outbox-events", {})

	# THEN the shared categories do not make it known: kept for review
	d.allow == false
	d.review == true
}

test_a_domains_own_category_wins_over_a_shared_one if {
	# GIVEN the consent domain's own "flags" category and a shared category of the same name
	d := decision with input as ask("consent", "flags", {}) with data.rgpd.retention.shared.categories.flags as {
		"title": {"en": "shared"},
		"keep": null,
		"legal_source": "shared",
	}

	# THEN the domain's own rule decides
	d.allow == false
	contains(d.legal_source, "RGPD arts. 18 and 21")
}

# ---------------------------------------------------------------------------
# Contact routing (CCAAS): the queues' statistics need no person
# ---------------------------------------------------------------------------

test_routing_records_lose_the_person_on_erasure if {
	# GIVEN a routed call of a known citizen
	# WHEN an erasure asks about it
	d := decision with input as ask("routing", "routing-records", {})

	# THEN nothing keeps the person on it: it is erased (the times stay, anonymous)
	d.allow == true
	d.keep == false
}
