"""Citizen 360 (C360): one view of a citizen across the council's systems, built by explainable matching."""
