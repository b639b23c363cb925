"""Cases on four attention levels (CASE, issue 15). So far: SLA clocks computed from a case's history on Madrid's
business calendar (``sla.py``); the domain's store, routes and events come next."""
