"""Which micro-apps of the citizen app are on for the signed-in person. Each group of pages is a micro-app
switched by a flag the ``flags`` domain owns, evaluated in process by the kernel's OpenFeature provider
(``functions.core.flags``, polling the flag snapshot). A page of an app that is off answers 404 and its entry
leaves the navigation; the API's own gate refuses the app's routes too (``micro-app-off``). The channel knows
the citizen's district (their golden record's, read once at sign-in) and applies district rules; the API's
gate, which does not know where a caller lives, applies the on/off and the share (``functions.core.flags``)."""

from __future__ import annotations

from dataclasses import dataclass

from functions.core import flags


@dataclass(frozen=True)
class MicroApp:
    name: str
    path: str  # where its navigation entry points
    label: str  # the i18n key of its name


APPS = (
    MicroApp("position", "/app/", "nav.position"),
    MicroApp("consents", "/app/consents", "nav.consents"),
    MicroApp("alerts", "/app/alerts", "nav.alerts"),
    MicroApp("inbox", "/app/inbox", "nav.inbox"),
    MicroApp("pay", "/app/pay", "nav.pay"),
    MicroApp("cases", "/app/cases", "nav.cases"),
    MicroApp("assistant", "/app/assistant", "nav.assistant"),
    MicroApp("wallet", "/app/wallet", "wallet.nav"),
    MicroApp("bookings", "/app/bookings", "bookings.nav"),
    MicroApp("agenda", "/app/agenda", "agenda.nav"),
    MicroApp("avisos", "/app/avisos", "avisos.nav"),
    MicroApp("suggestions", "/app/suggestions", "suggestions.nav"),
    MicroApp("my-data", "/app/my-data", "nav.my_data"),
    MicroApp("zbe", "/app/zbe", "zbe.nav"),
)


def enabled(app: str, citizen_id: str | None, district: str | None = None) -> bool:
    """Whether ``app`` is on for this person: a partial rollout picks citizens by id (none named: off), a
    district rule the citizens of its districts (the district of their golden record, read at sign-in)."""
    return flags.enabled(app, flags.CitizenContext(citizen_id=citizen_id or None, district=district or None))


def navigation(citizen_id: str | None, district: str | None = None) -> list[MicroApp]:
    return [app for app in APPS if enabled(app.name, citizen_id, district)]
