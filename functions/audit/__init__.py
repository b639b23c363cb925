"""The access log: who read a citizen's personal data, when, why, what they saw, and the decision."""
