# METADATA
# title: What a citizen may still do on their own case
# description: >-
#   A citizen adds information to, reopens or rates their own case; once it is resolved, only within
#   the windows of data.case.windows (policies/case/data.json, which the area edits). Agents are not
#   bound by the window (they reopen with a reason). Callers use one entry point, data.case.decision.
# custom:
#   legal_source: Ley 39/2015 art. 53.1.a (the interested party's rights in the procedure)
package case

import rego.v1

# METADATA
# title: Decision
# description: >-
#   allow: the citizen may do input.action (add, reopen, rate) on a case in input.case.state, resolved
#   input.case.resolved_days days ago (null when not resolved). window_days: the window that applies.
# entrypoint: true
# custom:
#   legal_source: Ley 39/2015 art. 53.1.a
decision := {"allow": allow, "window_days": window_days, "reasons": reasons}

default allow := false

allow if {
	input.action == "add"
	not input.case.state in {"resolved", "closed", "merged"}
}

allow if {
	input.action in {"add", "reopen", "rate"}
	input.case.state in {"resolved", "closed"}
	input.case.resolved_days <= window_days
}

default window_days := 0

window_days := data.case.windows.rating_days if input.action == "rate"

window_days := data.case.windows.reopen_days if input.action in {"add", "reopen"}

default reasons := ["No action (add, reopen, rate) or case state given: nothing is allowed."]

reasons := [sprintf("%s is allowed (%s)", [input.action, data.case.windows.source])] if allow

reasons := [sprintf("The case was merged into another: %s goes to that one.", [input.action])] if {
	not allow
	input.case.state == "merged"
}

reasons := [sprintf(
	"The case was resolved %v days ago; %s is possible within %v days (%s).",
	[input.case.resolved_days, input.action, window_days, data.case.windows.source],
)] if {
	not allow
	input.case.state in {"resolved", "closed"}
}

reasons := [sprintf("A %s case cannot be %s.", [input.case.state, verb])] if {
	not allow
	not input.case.state in {"resolved", "closed", "merged"}
	verb := {"reopen": "reopened", "rate": "rated", "add": "added to"}[input.action]
}
