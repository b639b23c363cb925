"""Global position (POS): everything the council holds about a person, projected from events."""
