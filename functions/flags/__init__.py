"""Micro-apps switched by flags (FLAG): the flags, their snapshot, a citizen's home arrangement."""
