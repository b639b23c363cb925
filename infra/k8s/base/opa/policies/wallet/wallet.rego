# METADATA
# title: Who may hold a card of the wallet
# description: >-
#   Whether a citizen may be issued a card of a type, and why (or why not), from the facts PIC holds of
#   them: age and Padrón registration (projected from C360's citizen.updated), district, and the grants
#   area systems send (card.granted). Each card type's rule and its legal or municipal source are in
#   data.wallet.card_types (policies/wallet/data.json), which compliance officers edit. reasons lists
#   every condition with met true or false, in Spanish and English.
# custom:
#   legal_source: Programa Tarjeta Madrid Mayor; Ordenanza de Movilidad Sostenible 2018 (mod. 2021)
package wallet

import rego.v1

# METADATA
# title: Decision
# description: >-
#   allow: the citizen may be issued a card of input.card_type now. reasons: each condition of the
#   type's rule, its text es/en and whether it is met. legal_source cites the rule.
# entrypoint: true
# custom:
#   legal_source: data.wallet.card_types[type].legal_source (per card type)
decision := {
	"allow": allow,
	"reasons": reasons,
	"legal_source": object.get(rule, "legal_source", ""),
}

default rule := {}

rule := data.wallet.card_types[input.card_type]

known if data.wallet.card_types[input.card_type]

default allow := false

allow if {
	count(reasons) > 0
	every r in reasons {
		r.met
	}
}

facts := input.facts

conditions contains c if {
	is_number(object.get(rule, "min_age", null))
	is_number(object.get(facts, "age", null))
	t := data.wallet.texts.age
	c := {"key": "age", "met": facts.age >= rule.min_age, "es": sprintf(t.es, [rule.min_age]), "en": sprintf(t.en, [rule.min_age])}
}

conditions contains c if {
	is_number(object.get(rule, "min_age", null))
	not is_number(object.get(facts, "age", null))
	c := object.union(data.wallet.texts.age_unknown, {"key": "age", "met": false})
}

conditions contains c if {
	object.get(rule, "requires_padron", false)
	c := object.union(data.wallet.texts.padron, {"key": "padron", "met": object.get(facts, "registered_in_madrid", false) == true})
}

conditions contains c if {
	object.get(rule, "requires_grant", false)
	c := object.union(data.wallet.texts.grant, {"key": "grant", "met": input.card_type in object.get(facts, "grants", [])})
}

conditions contains c if {
	districts := object.get(rule, "ser_districts", [])
	count(districts) > 0
	c := object.union(data.wallet.texts.ser_district, {"key": "district", "met": object.get(facts, "district", "") in districts})
}

reasons := [c | some key in ["age", "padron", "district", "grant"]; some c in conditions; c.key == key] if {
	known
} else := [object.union(data.wallet.texts.unknown_type, {"key": "type", "met": false})]
