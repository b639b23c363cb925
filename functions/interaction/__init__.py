"""Interaction log (INTX): every contact a person has with the council, on any channel."""
