# METADATA
# title: Access authorisations for Madrid's low-emission zones (ZBE)
# description: >-
#   Whether an application for an access authorisation to a low-emission zone of Madrid 360 is granted
#   at once, goes to an agent's review, or is refused, and why. The zones, the labels that enter freely,
#   and each category's allowed DGT labels, validity, end date and source are data
#   (policies/zbe/data.json), which compliance officers edit; a rule not checked against the ordinance's
#   text (confirmed false) never grants on its own. reasons: each as a code and its text es/en.
# custom:
#   legal_source: >-
#     Ordenanza de Movilidad Sostenible de Madrid de 5 de octubre de 2018, mod. Ordenanza 10/2021, de 13 de
#     septiembre: art. 21 (ZBE Madrid), ZBEDEP Distrito Centro, art. 24 y anexo IV (ZBEDEP Plaza Elíptica)
package zbe

import rego.v1

# METADATA
# title: Decision
# description: >-
#   outcome: grant (the rules alone suffice), review (the rules are met; an agent checks the documents)
#   or refuse; allow: not refused. reasons: why, as {code, es, en}. valid_days: how long a grant lasts.
#   source: the rule's.
# entrypoint: true
# custom:
#   legal_source: data.zbe.rules[zone][category].source (per zone and category)
decision := {
	"allow": outcome != "refuse",
	"outcome": outcome,
	"reasons": reasons,
	"valid_days": object.get(rule, "valid_days", 0),
	"source": object.get(rule, "source", object.get(zone, "source", "")),
}

default zone := {}

zone := data.zbe.zones[input.zone]

default rule := {}

rule := data.zbe.rules[input.zone][input.category]

zone_title := zone.title.es

# ---- refusals, in the order a person would want to hear them ------------------------------------

# METADATA
# title: An unknown zone
# description: Only the zones data.zbe.zones lists have authorisations.
# custom:
#   legal_source: Ordenanza de Movilidad Sostenible (mod. Ordenanza 10/2021), arts. 21 a 24
refusal contains r if {
	not data.zbe.zones[input.zone]
	r := object.union(data.zbe.texts.zone_unknown, {"code": "zone-unknown"})
}

# METADATA
# title: A label that enters freely needs no authorisation
# description: The zone's free_labels (e.g. CERO and ECO in Distrito Centro; every label but A elsewhere).
# custom:
#   legal_source: data.zbe.zones[zone].source (ZBEDEP Distrito Centro; art. 24 y anexo IV; art. 21)
refusal contains r if {
	input.label in zone.free_labels
	t := data.zbe.texts.not_needed
	r := {"code": "not-needed", "es": sprintf(t.es, [input.label, zone.title.es]), "en": sprintf(t.en, [input.label, zone.title.en])}
}

# METADATA
# title: The category gives no access to the zone
# description: Each zone has the categories data.zbe.rules lists for it, and only those.
# custom:
#   legal_source: data.zbe.rules[zone] (each category's source)
refusal contains r if {
	data.zbe.zones[input.zone]
	not input.label in zone.free_labels
	not data.zbe.rules[input.zone][input.category]
	t := data.zbe.texts.category_not_in_zone
	r := {"code": "category-not-in-zone", "es": sprintf(t.es, [input.category, zone.title.es]), "en": sprintf(t.en, [input.category, zone.title.en])}
}

# METADATA
# title: The category does not cover the vehicle's label
# description: A category authorises the DGT labels its rule lists (e.g. a guest in Distrito Centro, B or C).
# custom:
#   legal_source: data.zbe.rules[zone][category].source
refusal contains r if {
	not input.label in zone.free_labels
	rule.labels
	not input.label in rule.labels
	t := data.zbe.texts.label_not_in_category
	r := {"code": "label-not-in-category", "es": sprintf(t.es, [input.category, input.label, zone.title.es]), "en": sprintf(t.en, [input.category, input.label, zone.title.en])}
}

# METADATA
# title: The exception has ended
# description: A category with an end date (Plaza Elíptica's exceptions, until 31/12/2024) grants nothing after it.
# custom:
#   legal_source: Ordenanza de Movilidad Sostenible, art. 24 y anexo IV (supuestos excepcionales hasta el 31/12/2024)
refusal contains r if {
	not input.label in zone.free_labels
	rule.until
	input.today > rule.until
	t := data.zbe.texts.ended
	r := {"code": "ended", "es": sprintf(t.es, [zone.title.es, rule.until]), "en": sprintf(t.en, [zone.title.en, rule.until])}
}

# ---- granted at once: the rules alone tell ------------------------------------------------------

# METADATA
# title: A resident's own vehicle registered in the zone's district
# description: >-
#   Movilidad registers the vehicle to the applicant, at an address in the rule's district: nothing for an
#   agent to check. Only rules checked against the ordinance's text (confirmed) grant on their own.
# custom:
#   legal_source: ZBEDEP Distrito Centro, empadronados en el ámbito (data.zbe.rules["distrito-centro"].residente)
automatic if {
	rule.automatic == "holder_resident_in_district"
	rule.confirmed == true
	input.holder_is_applicant == true
	input.vehicle_district == rule.district
}

default outcome := "refuse"

outcome := "grant" if {
	count(refusal) == 0
	automatic
}

outcome := "review" if {
	count(refusal) == 0
	not automatic
}

reasons := sort_by_code(refusal) if {
	count(refusal) > 0
} else := [{"code": "automatic", "es": sprintf(data.zbe.texts.automatic.es, [rule.district]), "en": sprintf(data.zbe.texts.automatic.en, [rule.district])}] if {
	automatic
} else := [object.union(data.zbe.texts.unconfirmed, {"code": "unconfirmed"})] if {
	rule.confirmed == false
} else := [object.union(data.zbe.texts.review, {"code": "review"})]

order := ["zone-unknown", "not-needed", "category-not-in-zone", "label-not-in-category", "ended"]

sort_by_code(rs) := [r | some code in order; some r in rs; r.code == code]
