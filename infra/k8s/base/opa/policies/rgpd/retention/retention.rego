# METADATA
# title: What an erasure must keep, and for how long
# description: >-
#   Asked by every domain answering an erasure request (RGPD art. 17), once per record or data
#   category: may it be erased now, or must it be kept by legal obligation, until when, and on
#   what legal basis? The periods and their legal sources are in data.rgpd.retention
#   (policies/rgpd/retention/data.json), which compliance officers edit; data.rgpd.retention.shared
#   holds the categories every domain has (outbox rows, idempotency records, erasure markers).
#   Input: {"domain", "category", "record": {<date fields named by the rule>}, "now": RFC 3339}.
#   Callers use one entry point, data.rgpd.retention.decision.
# custom:
#   legal_source: RGPD art. 17.1 and 17.3 (erasure and its exceptions); art. 5.1.e (storage limitation)
package rgpd.retention

import rego.v1

# METADATA
# title: Decision
# description: >-
#   allow (also erase) is true when the data may be erased now. keep is its opposite;
#   keep_until is the end of the retention period when it has one (null when kept indefinitely
#   or when no period could be computed). legal_basis says why it is kept (null when erased).
#   review is true when no rule applies or the record lacks the date the rule needs: the data
#   is kept (erasure cannot be undone) and a person must decide.
# entrypoint: true
# custom:
#   legal_source: RGPD art. 17.3.b (legal obligation) and 17.3.e (legal claims)
decision := {
	"allow": allow,
	"erase": allow,
	"keep": keep,
	"keep_until": keep_until,
	"legal_basis": legal_basis,
	"legal_source": legal_source,
	"review": review,
	"reasons": reasons,
}

default allow := false

allow if {
	count(keeps) == 0
	count(erasures) > 0
}

default keep := true

keep := false if allow

default review := false

review if count(reviews) > 0

default keep_until := null

keep_until := time.format(until_ns) if {
	not allow
	count(reviews) == 0
	until_ns
}

default legal_basis := null

legal_basis := rule.legal_basis if not allow

default legal_source := null

legal_source := rule.legal_source

reasons := sort(erasures) if allow

reasons := array.concat(sort(keeps), sort(reviews)) if not allow

# ---------------------------------------------------------------------------
# Kept, pending a person's review (fail closed: erasure cannot be undone)
# ---------------------------------------------------------------------------

# METADATA
# title: No rule declared
# description: >-
#   Data of a domain or category without a retention rule is kept and flagged for review, not
#   erased: the controller must decide, and erasure cannot be undone.
# custom:
#   legal_source: RGPD art. 5.2 (accountability) and art. 17.3
reviews contains reason if {
	not rule
	reason := sprintf(
		"No retention rule for %s in domain %s: kept and flagged for review by the data protection officer, because erasure cannot be undone (RGPD art. 5.2 and art. 17.3).",
		[category_shown, domain_shown],
	)
}

# METADATA
# title: The record lacks the date its period runs from
# description: >-
#   A rule with a period needs the record's start date (e.g. recorded_at) and now, both as
#   RFC 3339; without them the period cannot be computed and the data is kept for review.
# custom:
#   legal_source: RGPD art. 5.2 (accountability)
reviews contains reason if {
	period
	not until_ns
	reason := sprintf(
		"%s needs record.%s and now as RFC 3339 times to compute its retention period (%s): kept and flagged for review (RGPD art. 5.2).",
		[title, rule.keep.from, rule.legal_source],
	)
}

reviews contains reason if {
	period
	until_ns
	not now_ns
	reason := sprintf(
		"now must be an RFC 3339 time to decide whether the retention period of %s has ended: kept and flagged for review (RGPD art. 5.2).",
		[title],
	)
}

# ---------------------------------------------------------------------------
# Kept by legal obligation
# ---------------------------------------------------------------------------

# METADATA
# title: Kept indefinitely
# description: Data the council must keep as a legal register (the Padrón) or to keep honouring a right.
# custom:
#   legal_source: RGPD art. 17.3.b; Ley 7/1985 arts. 16-17; Real Decreto 1690/1986
keeps contains reason if {
	rule.keep.indefinitely == true
	reason := sprintf("%s is kept: %s (%s).", [title, rule.legal_basis, rule.legal_source])
}

# METADATA
# title: Kept while its period runs
# description: >-
#   Data with a retention period (years and months from a date of the record) is kept until the
#   period ends, e.g. tax records for the 4-year prescription of Ley 58/2003 art. 66.
# custom:
#   legal_source: RGPD art. 17.3.b and 17.3.e; Ley 58/2003 art. 66; LOPDGDD arts. 72-74; RDL 6/2015 art. 112
keeps contains reason if {
	period
	now_ns < until_ns
	reason := sprintf(
		"%s is kept until %s: %s (%s).",
		[title, time.format(until_ns), rule.legal_basis, rule.legal_source],
	)
}

# METADATA
# title: Kept until it expires
# description: >-
#   Technical copies the store removes by itself (TTL) a fixed time after each was written, in
#   tables not indexed by person (the outbox, idempotency records): they cannot be found to be
#   erased on request, and they are gone within days.
# custom:
#   legal_source: RGPD art. 17.1 (without undue delay) and art. 5.1.f
keeps contains reason if {
	rule.keep.until_expiry == true
	reason := sprintf("%s is kept until the store removes it (TTL): %s (%s).", [title, rule.legal_basis, rule.legal_source])
}

# METADATA
# title: Period unknown is no period
# description: A rule whose keep is neither null, indefinitely nor a period is malformed data; the record is kept.
# custom:
#   legal_source: RGPD art. 5.2 (accountability)
keeps contains reason if {
	rule
	rule.keep != null
	not rule.keep.indefinitely == true
	not rule.keep.until_expiry == true
	not period
	reason := sprintf("%s has a malformed retention rule in data.json: kept until compliance fixes it (RGPD art. 5.2).", [title])
}

# ---------------------------------------------------------------------------
# Erased
# ---------------------------------------------------------------------------

# METADATA
# title: No obligation to keep
# description: Data no law obliges the council to keep is erased on request.
# custom:
#   legal_source: RGPD art. 17.1
erasures contains reason if {
	rule
	rule.keep == null
	reason := sprintf("%s is erased: no legal obligation to keep it (%s).", [title, rule.legal_source])
}

# METADATA
# title: Period ended
# description: Data whose retention period has ended is erased.
# custom:
#   legal_source: RGPD art. 17.1.a and art. 5.1.e (storage limitation)
erasures contains reason if {
	period
	now_ns >= until_ns
	reason := sprintf(
		"%s is erased: its retention period ended on %s (%s; RGPD art. 5.1.e).",
		[title, time.format(until_ns), rule.legal_source],
	)
}

# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------

rule := data.rgpd.retention.domains[input.domain].categories[input.category]

# A category every domain has (its outbox rows, its erasure marker...), unless the domain declares its own.
rule := data.rgpd.retention.shared.categories[input.category] if {
	data.rgpd.retention.domains[input.domain]
	not data.rgpd.retention.domains[input.domain].categories[input.category]
}

default title := "(unknown category)"

title := sprintf("%s (%s/%s)", [rule.title.en, input.domain, input.category])

period if {
	rule.keep.from
	count({k | some k in ["years", "months"]; is_number(rule.keep[k])}) > 0
}

years := object.get(rule.keep, "years", 0)

months := object.get(rule.keep, "months", 0)

# The same day `years` and `months` later, or the last day of that month when it has no such day
# (Regulation 1182/71 art. 3.2.c): 29 February 2024 + 3 years = 28 February 2027. Computed by hand:
# time.add_date normalises to 1 March in OPA and is undefined in regorus for such dates.
until_ns := time.parse_rfc3339_ns(sprintf("%04d-%02d-%02dT%02d:%02d:%02dZ", [y, m, d, hh, mi, ss])) if {
	period
	start := input.record[rule.keep.from]
	rfc3339(start)
	start_ns := time.parse_rfc3339_ns(start)
	[y0, m0, d0] := time.date(start_ns)
	[hh, mi, ss] := time.clock(start_ns)
	total := ((y0 * 12) + (m0 - 1)) + ((years * 12) + months)
	y := floor(total / 12)
	m := (total - (y * 12)) + 1
	d := min([d0, days_in_month(y, m)])
}

days_in_month(y, m) := 29 if {
	m == 2
	leap(y)
}

days_in_month(y, m) := 28 if {
	m == 2
	not leap(y)
}

days_in_month(_, m) := [31, 0, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1] if m != 2

leap(y) if {
	y % 4 == 0
	y % 100 != 0
}

leap(y) if y % 400 == 0

now_ns := time.parse_rfc3339_ns(input.now) if rfc3339(input.now)

# RFC 3339 date-times only: the builtin raises an error on anything else.
rfc3339(t) if {
	is_string(t)
	regex.match(`^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]+)?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$`, t)
}

default domain_shown := "(none given)"

domain_shown := json.marshal(input.domain)

default category_shown := "(none given)"

category_shown := json.marshal(input.category)
