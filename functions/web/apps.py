"""Which micro-apps of the citizen app are on. Each group of pages is a micro-app switched by a flag; until
the flags domain's OpenFeature provider (``functions.core.flags``) lands, the switch is the setting
``PIC_WEB_APPS``. A page of an app that is off answers 404 and its entry leaves the navigation."""

from __future__ import annotations

from dataclasses import dataclass

from functions.core.settings import get_settings


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
    MicroApp("my-data", "/app/my-data", "nav.my_data"),
)
KNOWN = frozenset(app.name for app in APPS)


def enabled_apps() -> frozenset[str]:
    """The micro-apps on now (unknown names in the setting are ignored)."""
    return frozenset(n.strip() for n in get_settings().web_apps.split(",")) & KNOWN


def navigation() -> list[MicroApp]:
    on = enabled_apps()
    return [app for app in APPS if app.name in on]
