# METADATA
# title: What a debt costs today
# description: >-
#   The amount due today on a fine or a tax receipt, until which day (Europe/Madrid) that amount
#   holds, what is due after it, and the rule and legal source behind each figure. The percentages,
#   windows and texts are in data.payment (policies/payment/data.json), which compliance officers
#   edit. Callers use one entry point, data.payment.decision; allow is false when nothing can be paid
#   today (a receipt before its voluntary period opens, a debt that is not payable).
# custom:
#   legal_source: RDL 6/2015 art. 94; Ley 39/2015 art. 85; Ley 58/2003 arts. 28 and 62
package payment

import rego.v1

# METADATA
# title: Decision
# description: >-
#   allow: it can be paid today. amount_due_cents: what is paid today. until: the last day (local)
#   that amount holds, null when no date ends it. stage and rule name the regime; legal_source cites
#   it; notice is what the channel must tell the person before they pay; then is what is due from the
#   day after until (null when nothing changes). reasons explain the answer in words.
# entrypoint: true
# custom:
#   legal_source: RDL 6/2015 art. 94; Ley 39/2015 art. 85.3; Ley 58/2003 art. 28
decision := {
	"allow": allow,
	"amount_due_cents": today.amount,
	"base_cents": base,
	"until": today.until,
	"stage": today.stage,
	"legal_source": today.source,
	"notice": today.notice,
	"then": then,
	"direct_debit_bonus": direct_debit_bonus,
	"reasons": reasons,
}

default allow := false

allow if {
	today.stage != "not-payable"
	today.stage != "not-yet-open"
}

default base := 0

base := input.debt.amount_cents if is_number(input.debt.amount_cents)

reasons := [today.reason]

default then := null

then := {"amount_due_cents": t.amount, "stage": t.stage, "legal_source": t.source, "from": day_after(today.until)} if {
	today.until != null
	t := after
}

# ---------------------------------------------------------------------------
# Dates: every comparison is between local dates "YYYY-MM-DD" in data.payment.time_zone
# ---------------------------------------------------------------------------

local_date(rfc3339) := sprintf("%04d-%02d-%02d", time.date([time.parse_rfc3339_ns(rfc3339), data.payment.time_zone]))

plus_days(date, days) := sprintf("%04d-%02d-%02d", time.date(time.add_date(time.parse_ns("2006-01-02", date), 0, 0, days)))

day_after(date) := plus_days(date, 1)

today_local := local_date(input.now)

percent_of(amount, percent) := round((amount * percent) / 100)

# ---------------------------------------------------------------------------
# Traffic fines: 50 % within 20 natural days from the day after notification (RDL 6/2015 art. 94)
# ---------------------------------------------------------------------------

traffic_rules := data.payment.traffic

early_last_day := plus_days(local_date(input.debt.notified_at), traffic_rules.early_payment.natural_days)

traffic_full := {
	"amount": base,
	"until": null,
	"stage": "full",
	"source": traffic_rules.full.legal_source,
	"notice": null,
	"reason": sprintf("The early-payment window of %d natural days ended on %s: the fine is due in full (RDL 6/2015 art. 94).", [traffic_rules.early_payment.natural_days, early_last_day]),
}

today := {
	"amount": base - percent_of(base, traffic_rules.early_payment.percent),
	"until": early_last_day,
	"stage": "early-payment",
	"source": traffic_rules.early_payment.legal_source,
	"notice": traffic_rules.early_payment.notice,
	"reason": sprintf("Paid by %s (20 natural days from the day after notification) the fine is reduced by %d %% (RDL 6/2015 art. 94).", [early_last_day, traffic_rules.early_payment.percent]),
} if {
	fine_of("traffic")
	today_local <= early_last_day
}

today := traffic_full if {
	fine_of("traffic")
	today_local > early_last_day
}

after := traffic_full if fine_of("traffic")

# ---------------------------------------------------------------------------
# Administrative sanctions: the reductions the notice states, at least 20 % each, cumulative
# (Ley 39/2015 art. 85.3)
# ---------------------------------------------------------------------------

administrative_rules := data.payment.administrative

stated_reductions := [r | some r in object.get(input.debt, "early_payment", []); r.percent >= administrative_rules.minimum_percent]

reduction_percent := sum([r.percent | some r in stated_reductions])

reductions_until := input.debt.early_payment_until if is_string(input.debt.early_payment_until)

else := null

administrative_full := {
	"amount": base,
	"until": null,
	"stage": "full",
	"source": administrative_rules.legal_source,
	"notice": null,
	"reason": "The sanction is due in full: its notice states no reduction that still applies (Ley 39/2015 art. 85.3).",
}

today := {
	"amount": base - percent_of(base, min([reduction_percent, 100])),
	"until": reductions_until,
	"stage": "early-payment",
	"source": administrative_rules.legal_source,
	"notice": administrative_rules.notice,
	"reason": sprintf("The notice states reductions of %d %% in all (%s), cumulative (Ley 39/2015 art. 85.3).", [reduction_percent, concat(" + ", [sprintf("%d %% %s", [r.percent, r.ground]) | some r in stated_reductions])]),
} if {
	fine_of("administrative")
	reduction_percent > 0
	reductions_open
}

today := administrative_full if {
	fine_of("administrative")
	not reductions_apply
}

reductions_apply if {
	reduction_percent > 0
	reductions_open
}

reductions_open if reductions_until == null

reductions_open if today_local <= reductions_until

after := administrative_full if fine_of("administrative")

# ---------------------------------------------------------------------------
# Tax receipts: the amount in the voluntary period; after it the executive period's surcharge
# (Ley 58/2003 arts. 28 and 62)
# ---------------------------------------------------------------------------

tax_rules := data.payment.tax

surcharges := tax_rules.executive.surcharges

voluntary_end := input.debt.voluntary_period.end

enforcement_notified if is_string(input.debt.enforcement.notified_at)

today := {
	"amount": base,
	"until": null,
	"stage": "not-yet-open",
	"source": tax_rules.voluntary.legal_source,
	"notice": null,
	"reason": sprintf("The voluntary period opens on %s: the receipt cannot be paid before.", [input.debt.voluntary_period.start]),
} if {
	receipt
	today_local < input.debt.voluntary_period.start
}

today := {
	"amount": base,
	"until": voluntary_end,
	"stage": "voluntary",
	"source": tax_rules.voluntary.legal_source,
	"notice": null,
	"reason": sprintf("Within the voluntary period (until %s) the receipt is paid at its amount.", [voluntary_end]),
} if {
	receipt
	input.debt.voluntary_period.start <= today_local
	today_local <= voluntary_end
}

today := executive("ejecutivo", null) if {
	receipt
	today_local > voluntary_end
	not enforcement_notified
}

today := executive("apremio-reducido", input.debt.enforcement.pay_by) if {
	receipt
	enforcement_notified
	today_local <= input.debt.enforcement.pay_by
}

today := executive("apremio-ordinario", null) if {
	receipt
	enforcement_notified
	not today_local <= input.debt.enforcement.pay_by
}

executive(name, until) := {
	"amount": base + percent_of(base, surcharges[name].percent),
	"until": until,
	"stage": sprintf("executive-%s", [name]),
	"source": tax_rules.executive.legal_source,
	"notice": {"es": surcharges[name].es, "en": surcharges[name].en},
	"reason": surcharges[name].en,
}

after := executive("ejecutivo", null) if {
	receipt
	today.stage == "voluntary"
}

after := executive("apremio-ordinario", null) if {
	receipt
	today.stage == "executive-apremio-reducido"
}

# ---------------------------------------------------------------------------
# IBI's direct-debit bonus: the Sistema Especial de Pago takes 3.25 % off the quota, at most 70 €
# (Ordenanza Fiscal del IBI arts. 14 and 20). What it is on this receipt, and whether the receipt's
# direct debit is the modality that earns it: a tax folder shows what the citizen saves, or would.
# ---------------------------------------------------------------------------

bonus_rule := tax_rules.direct_debit_bonus

default direct_debit_bonus := null

direct_debit_bonus := {
	"tax": bonus_rule.tax,
	"modality": bonus_rule.modality,
	"percent": bonus_rule.percent,
	"max_cents": bonus_rule.max_cents,
	"bonus_cents": min([percent_of(base, bonus_rule.percent), bonus_rule.max_cents]),
	"applies": bonus_applies,
	"legal_source": bonus_rule.legal_source,
} if {
	receipt
	input.debt.tax == bonus_rule.tax
}

default bonus_applies := false

bonus_applies if input.debt.direct_debit.modality == bonus_rule.modality

# ---------------------------------------------------------------------------
# What the debt is
# ---------------------------------------------------------------------------

fine_of(regime) if {
	input.debt.kind == "fine"
	input.debt.regime == regime
	is_number(input.debt.amount_cents)
}

receipt if {
	input.debt.kind == "tax-receipt"
	is_number(input.debt.amount_cents)
}

default today := {
	"amount": 0,
	"until": null,
	"stage": "not-payable",
	"source": "",
	"notice": null,
	"reason": "The debt is not one this policy knows how to price (a fine with a regime, or a tax receipt, with an amount).",
}
