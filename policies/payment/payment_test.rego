package payment

import rego.v1

traffic_fine(notified_at) := {"kind": "fine", "regime": "traffic", "amount_cents": 20000, "notified_at": notified_at}

sample_receipt := {"kind": "tax-receipt", "amount_cents": 45678, "voluntary_period": {"start": "2026-04-01", "end": "2026-06-30"}}

enforced := object.union(sample_receipt, {"enforcement": {"notified_at": "2026-08-01T09:00:00Z", "pay_by": "2026-08-20"}})

at(now, debt) := d if {
	d := decision with input as {"now": now, "debt": debt}
}

# GIVEN a traffic fine notified at 00:30 Madrid time on 2 March (23:30 UTC on 1 March)
# WHEN paid on the 20th natural day counted from the day after (22 March, 23:59 Madrid)
# THEN half, until 22 March, with the notice that paying ends the procedure; then the full amount from 23 March
test_traffic_fine_is_halved_until_the_twentieth_natural_day_in_madrid if {
	d := at("2026-03-22T22:59:00Z", traffic_fine("2026-03-01T23:30:00Z"))
	d.allow
	d.stage == "early-payment"
	d.amount_due_cents == 10000
	d.until == "2026-03-22"
	contains(d.legal_source, "art. 94")
	contains(d.notice.es, "renuncia a formular alegaciones")
	d.then == {"amount_due_cents": 20000, "stage": "full", "legal_source": d.then.legal_source, "from": "2026-03-23"}
}

# GIVEN the same fine WHEN paid one minute after midnight of the 21st day (Madrid) THEN the full amount, no notice
test_traffic_fine_is_due_in_full_the_day_after_the_window if {
	d := at("2026-03-22T23:01:00Z", traffic_fine("2026-03-01T23:30:00Z"))
	d.stage == "full"
	d.amount_due_cents == 20000
	d.until == null
	d.notice == null
	d.then == null
}

# GIVEN a fine notified in winter and paid after the change to summer time THEN the window still counts local days
test_the_window_counts_local_days_across_the_summer_time_change if {
	d := at("2026-04-08T21:59:00Z", traffic_fine("2026-03-19T23:30:00Z")) # 20 March 00:30 CET -> 9 April, 23:59 CEST
	d.until == "2026-04-09"
	d.amount_due_cents == 10000
	at("2026-04-09T22:01:00Z", traffic_fine("2026-03-19T23:30:00Z")).amount_due_cents == 20000
}

# GIVEN an odd amount THEN the reduction rounds to the cent
test_an_odd_amount_rounds_to_the_cent if {
	d := at("2026-03-05T10:00:00Z", object.union(traffic_fine("2026-03-01T10:00:00Z"), {"amount_cents": 9999}))
	d.amount_due_cents == 4999
}

# GIVEN an administrative sanction whose notice states 20 % for recognising responsibility and 20 % for paying
# THEN 40 % off, cumulative, with the renunciation notice (Ley 39/2015 art. 85.3)
test_administrative_reductions_are_cumulative if {
	sanction := {
		"kind": "fine", "regime": "administrative", "amount_cents": 30000, "notified_at": "2026-03-01T10:00:00Z",
		"early_payment": [{"ground": "recognition", "percent": 20}, {"ground": "voluntary-payment", "percent": 20}],
		"early_payment_until": "2026-03-31",
	}
	d := at("2026-03-10T10:00:00Z", sanction)
	d.amount_due_cents == 18000
	d.until == "2026-03-31"
	contains(d.legal_source, "art. 85")
	contains(d.notice.en, "renouncing any action or appeal")
	d.then.amount_due_cents == 30000
	d.then.from == "2026-04-01"
	at("2026-04-01T10:00:00Z", sanction).amount_due_cents == 30000
}

# GIVEN a notice stating a reduction below the legal minimum of 20 % THEN it is not applied (art. 85.3: at least 20 %)
test_a_reduction_below_the_legal_minimum_is_not_applied if {
	sanction := {
		"kind": "fine", "regime": "administrative", "amount_cents": 30000, "notified_at": "2026-03-01T10:00:00Z",
		"early_payment": [{"ground": "voluntary-payment", "percent": 5}],
	}
	d := at("2026-03-10T10:00:00Z", sanction)
	d.stage == "full"
	d.amount_due_cents == 30000
}

# GIVEN a tax receipt WHEN its voluntary period has not opened THEN it cannot be paid yet
test_a_receipt_before_its_voluntary_period_is_not_payable if {
	d := at("2026-03-31T12:00:00Z", sample_receipt)
	not d.allow
	d.stage == "not-yet-open"
}

# GIVEN a tax receipt WHEN within the voluntary period THEN its amount until the end; then the 5 % executive surcharge
test_a_receipt_in_its_voluntary_period_is_its_amount if {
	d := at("2026-06-30T21:59:00Z", sample_receipt) # 23:59 on 30 June in Madrid
	d.allow
	d.stage == "voluntary"
	d.amount_due_cents == 45678
	d.until == "2026-06-30"
	d.then.amount_due_cents == 47962
	d.then.stage == "executive-ejecutivo"
	d.then.from == "2026-07-01"
}

# GIVEN the voluntary period ended and no enforcement order was notified THEN the executive surcharge of 5 % (LGT art. 28.2)
test_after_the_voluntary_period_the_executive_surcharge_is_five_percent if {
	d := at("2026-06-30T22:01:00Z", sample_receipt)
	d.stage == "executive-ejecutivo"
	d.amount_due_cents == 47962
	contains(d.legal_source, "art. 28")
	contains(d.notice.es, "28.2")
}

# GIVEN the enforcement order was notified WHEN paid within its deadline THEN 10 %; after it 20 % (LGT art. 28.3 and 28.4)
test_after_the_enforcement_order_ten_percent_then_twenty if {
	reduced := at("2026-08-20T12:00:00Z", enforced)
	reduced.stage == "executive-apremio-reducido"
	reduced.amount_due_cents == 50246
	reduced.until == "2026-08-20"
	reduced.then.amount_due_cents == 54814
	ordinary := at("2026-08-21T12:00:00Z", enforced)
	ordinary.stage == "executive-apremio-ordinario"
	ordinary.amount_due_cents == 54814
	contains(ordinary.notice.en, "late-payment interest")
}

# GIVEN something that is not a debt this policy knows THEN not payable, saying why, never undefined
test_an_unknown_debt_is_not_payable_and_says_why if {
	d := at("2026-08-21T12:00:00Z", {"kind": "parking-ticket", "amount_cents": 100})
	not d.allow
	d.stage == "not-payable"
	count(d.reasons) == 1
	e := decision with input as {}
	not e.allow
}

# GIVEN an IBI receipt of 456.78 € debited as pago fraccionado con bonificación (the Sistema Especial de Pago)
# THEN the bonus is 3.25 % of it, 14.85 €, and it applies; the same receipt debited as pago único would earn it, not yet
test_the_ibi_sep_bonus_is_three_and_a_quarter_percent if {
	ibi := object.union(sample_receipt, {"tax": "IBI", "direct_debit": {"status": "active", "modality": "fraccionado-bonificado"}})
	d := at("2026-04-10T10:00:00Z", ibi)
	d.direct_debit_bonus.bonus_cents == 1485
	d.direct_debit_bonus.applies
	contains(d.direct_debit_bonus.legal_source, "arts. 14 and 20")
	single := at("2026-04-10T10:00:00Z", object.union(ibi, {"direct_debit": {"status": "active", "modality": "pago-unico"}}))
	single.direct_debit_bonus.bonus_cents == 1485
	not single.direct_debit_bonus.applies
}

# GIVEN an IBI receipt of 3,000 € THEN the bonus stops at 70 €; an IVTM receipt has none
test_the_ibi_sep_bonus_is_at_most_seventy_euros_and_only_for_ibi if {
	big := object.union(sample_receipt, {"tax": "IBI", "amount_cents": 300000})
	at("2026-04-10T10:00:00Z", big).direct_debit_bonus.bonus_cents == 7000
	at("2026-04-10T10:00:00Z", object.union(sample_receipt, {"tax": "IVTM"})).direct_debit_bonus == null
}
