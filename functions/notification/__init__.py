"""Notifications and alerts (NOT): templates, decisions, delivery exactly once, projections of CON events."""
