# METADATA
# title: Who may book a slot of a municipal sports centre, class or cultural activity
# description: >-
#   Whether a person may book (or join the waiting list of) a slot now, and why (or why not): residents first
#   (Padrón residents book earlier than non-residents), a limit per person, kind and week, the resource's age
#   band, and no-shows. Each rule's figures and source are in data.booking (policies/booking/data.json), which
#   compliance officers edit. reasons lists every condition with met true or false, in Spanish and English.
# custom:
#   legal_source: Ley 7/1985 arts. 15 and 18.1.c; the council's rules of use (figures marked as its choice)
package booking

import rego.v1

# METADATA
# title: Decision
# description: >-
#   allow: every condition is met. reasons: each condition (key window, weekly, age, no_shows), its text
#   es/en and whether it is met. hold_minutes: how long a paid place waits for its payment.
# entrypoint: true
# custom:
#   legal_source: data.booking.*.legal_source (per rule; the figures marked as the council's choice)
decision := {
	"allow": allow,
	"reasons": reasons,
	"hold_minutes": data.booking.hold_minutes,
}

default allow := false

allow if {
	every r in reasons {
		r.met
	}
}

reasons := [c | some c in conditions]

who := "resident" if input.person.resident

else := "general"

window_hours := data.booking.windows.resident_hours if who == "resident"

else := data.booking.windows.general_hours

conditions contains c if {
	met := input.hours_ahead <= window_hours
	t := data.booking.texts[{true: "window", false: "window_closed"}[met]]
	label := data.booking.texts[who]
	c := {
		"key": "window", "met": met, "source": data.booking.windows.legal_source,
		"es": sprintf(t.es, [label.es, window_hours]), "en": sprintf(t.en, [label.en, window_hours]),
	}
}

kind_limit := data.booking.weekly_limit.per_kind[input.resource.kind]

conditions contains c if {
	t := data.booking.texts.weekly
	c := {
		"key": "weekly", "met": input.week_count < kind_limit, "source": data.booking.weekly_limit.legal_source,
		"es": sprintf(t.es, [kind_limit, input.week_count]), "en": sprintf(t.en, [kind_limit, input.week_count]),
	}
}

has_age_band if is_number(input.resource.min_age)

has_age_band if is_number(input.resource.max_age)

band_low := sprintf("%d", [input.resource.min_age]) if is_number(input.resource.min_age)

else := "0"

band_high := sprintf("%d", [input.resource.max_age]) if is_number(input.resource.max_age)

else := "∞"

default age_ok := false

age_ok if {
	object.get(input.resource, "min_age", null) == null
	input.person.age <= input.resource.max_age
}

age_ok if {
	object.get(input.resource, "max_age", null) == null
	input.person.age >= input.resource.min_age
}

age_ok if {
	input.person.age >= input.resource.min_age
	input.person.age <= input.resource.max_age
}

conditions contains c if {
	has_age_band
	is_number(input.person.age)
	t := data.booking.texts.age
	c := {
		"key": "age", "met": age_ok, "source": data.booking.age.legal_source,
		"es": sprintf(t.es, [band_low, band_high, input.person.age]),
		"en": sprintf(t.en, [band_low, band_high, input.person.age]),
	}
}

conditions contains c if {
	has_age_band
	not is_number(input.person.age)
	c := object.union(data.booking.texts.age_unknown, {"key": "age", "met": false, "source": data.booking.age.legal_source})
}

window_ns := ((data.booking.no_show.window_days * 24) * 3600) * 1000000000

recent_no_shows := count([at |
	some at in input.person.no_shows
	time.parse_rfc3339_ns(input.now) - time.parse_rfc3339_ns(at) < window_ns
])

conditions contains c if {
	t := data.booking.texts.no_shows
	n := recent_no_shows
	limit := data.booking.no_show.limit
	days := data.booking.no_show.window_days
	c := {
		"key": "no_shows", "met": n < limit, "source": data.booking.no_show.legal_source,
		"es": sprintf(t.es, [limit, days, n]), "en": sprintf(t.en, [limit, days, n]),
	}
}
