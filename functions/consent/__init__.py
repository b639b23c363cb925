"""Consent & preferences (CON): per-purpose consent with proof, preferences, alert subscriptions."""
