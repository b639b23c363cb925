"""The language a page is written in: Spanish and English, the platform's two (MISSION: every screen in both)."""

from __future__ import annotations

DEFAULT = "es"
LANGUAGES = ("es", "en")


def negotiate(chosen: str | None, accept_language: str | None) -> str:
    """The one chosen (``?lang=``, a cookie, the session) if it is ours, else the browser's first known language in
    ``Accept-Language`` (RFC 9110 §12.5.4, read in order, weights ignored), else Spanish."""
    if chosen in LANGUAGES:
        return str(chosen)
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip().lower()[:2]
        if tag in LANGUAGES:
            return tag
    return DEFAULT
