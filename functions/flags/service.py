"""Micro-apps switched by flags (FLAG), pure rules: changing a flag, and a citizen's home arrangement.

A flag is a micro-app's ``FlagRules`` (``events/flags.py``); the catalogue (``catalogue.json``) lists the
micro-apps with the rules each starts with (version 0). An administrator's change names the version it
replaces (optimistic concurrency: two administrators never overwrite each other unseen), gives a reason,
and becomes version n+1 with who, when and the rules before and after (``flag.changed``: the audit trail).
How a flag is evaluated for a citizen is the kernel's (``functions/core/flags.py``): every function does
it in process, this domain included.

A citizen pins micro-apps first on their home and hides others: personal data (their preferences, RGPD),
each app named once, only catalogued apps.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from events.flags import AppsArranged, AppsArrangement, FlagChange, FlagChanged, FlagRules
from functions.core.errors import NotFoundError, PicError, ValidationError

if TYPE_CHECKING:  # the port names the kernel's unit of work; this module stays free of its adapters
    from functions.core.store import UnitOfWork


class UnknownAppError(NotFoundError):
    slug, title = "not-found", "No such micro-app"


class StaleFlagVersionError(PicError):
    status, slug, title = 409, "flag-version-stale", "The flag changed since you read it"


@dataclass(frozen=True)
class Flag:
    """A micro-app's flag as it stands: its rules, version (0: the catalogue's default) and last change."""

    name: str
    rules: FlagRules
    version: int
    changed: FlagChanged | None = None


@dataclass(frozen=True)
class Arrangement:
    """A citizen's home: the apps pinned first (in order) and the apps hidden; ``version`` 0 when never set."""

    citizen_id: str
    pinned: tuple[str, ...] = ()
    hidden: tuple[str, ...] = ()
    version: int = 0
    arranged_at: datetime | None = None


# ---- flags ----------------------------------------------------------------------------------------------


def catalogued(catalogue: dict[str, Any], name: str, stored: Flag | None) -> Flag:
    """The flag as it stands: the stored change, or the catalogue's default; ``UnknownAppError`` if neither."""
    if stored is not None:
        return stored
    entry = catalogue["apps"].get(name)
    if entry is None:
        raise UnknownAppError(f"no micro-app {name!r}; the catalogue lists {', '.join(sorted(catalogue['apps']))}")
    return Flag(name, FlagRules.model_validate(entry["rules"]), 0)


def change(current: Flag, body: FlagChange, who: str, now: datetime) -> tuple[Flag, FlagChanged | None]:
    """The flag after an administrator's change, and its ``flag.changed`` event (``None``: the same rules,
    nothing to change). A change that names another version than the current one is refused (409)."""
    if body.version != current.version:
        raise StaleFlagVersionError(
            f"flag {current.name!r} is at version {current.version}, not {body.version}: read it again and decide",
            current_version=current.version,
        )
    after = FlagRules(enabled=body.enabled, districts=body.districts, percentage=body.percentage)
    if after == current.rules:
        return current, None
    event = FlagChanged(
        flag=current.name,
        version=current.version + 1,
        before=current.rules,
        after=after,
        reason=body.reason,
        changed_by=who,
        changed_at=now,
    )
    return Flag(current.name, after, event.version, event), event


def view_flag(flag: Flag, catalogue: dict[str, Any]) -> dict[str, Any]:
    """The API's representation of one flag."""
    last = flag.changed
    return {
        "flag": flag.name,
        "title": catalogue["apps"][flag.name]["title"],
        **flag.rules.model_dump(mode="json"),
        "version": flag.version,
        "changed_by": last.changed_by if last else None,
        "changed_at": last.changed_at.isoformat() if last else None,
        "reason": last.reason if last else None,
    }


# ---- a citizen's home -----------------------------------------------------------------------------------


def arrange(
    current: Arrangement, body: AppsArrangement, catalogue: dict[str, Any], who: str, now: datetime
) -> tuple[Arrangement, AppsArranged | None]:
    """The citizen's new home arrangement and its event (``None``: unchanged); each app catalogued, named
    once, never both pinned and hidden (422 naming the field)."""
    errors: list[dict[str, str]] = []
    for field in ("pinned", "hidden"):
        names: list[str] = getattr(body, field)
        unknown = sorted(set(names) - set(catalogue["apps"]))
        if unknown:
            errors.append({"field": field, "message": f"not micro-apps: {', '.join(unknown)}"})
        if len(set(names)) != len(names):
            errors.append({"field": field, "message": "each micro-app once"})
    if both := sorted(set(body.pinned) & set(body.hidden)):
        errors.append({"field": "hidden", "message": f"pinned and hidden at once: {', '.join(both)}"})
    if errors:
        raise ValidationError("the arrangement names unknown or repeated micro-apps", errors=errors)
    if (tuple(body.pinned), tuple(body.hidden)) == (current.pinned, current.hidden):
        return current, None
    arranged = Arrangement(current.citizen_id, tuple(body.pinned), tuple(body.hidden), current.version + 1, now)
    event = AppsArranged(
        citizen_id=current.citizen_id, pinned=body.pinned, hidden=body.hidden, arranged_by=who, arranged_at=now
    )
    return arranged, event


def home(arrangement: Arrangement, catalogue: dict[str, Any], on: dict[str, bool]) -> dict[str, Any]:
    """The citizen's home as the app draws it: every micro-app on for them, pinned first (in their order),
    then the others in the catalogue's order; hidden ones last and marked; apps switched off left out."""
    order = [*arrangement.pinned, *(a for a in catalogue["apps"] if a not in arrangement.pinned)]
    visible = [a for a in order if on.get(a) and a not in arrangement.hidden]
    hidden = [a for a in order if on.get(a) and a in arrangement.hidden]
    apps = [
        {
            "app": app,
            "title": catalogue["apps"][app]["title"],
            "pinned": app in arrangement.pinned,
            "hidden": app in arrangement.hidden,
        }
        for app in [*visible, *hidden]
    ]
    return {
        "citizen_id": arrangement.citizen_id,
        "apps": apps,
        "pinned": list(arrangement.pinned),
        "hidden": list(arrangement.hidden),
        "version": arrangement.version,
    }


# ---- the domain's port ----------------------------------------------------------------------------------


class FlagStore(Protocol):
    """What the flags domain reads and stages (``storage.DynamoFlagStore``; an in-memory fake in the unit
    tests). A staged flag or arrangement fails the commit if its version moved meanwhile (a lost race)."""

    def fetch_flags(self) -> dict[str, Flag]: ...
    def fetch_flag(self, name: str) -> Flag | None: ...
    def fetch_history(self, name: str) -> list[FlagChanged]: ...
    def stage_flag(self, uow: UnitOfWork, flag: Flag, replaces: int) -> None: ...
    def fetch_arrangement(self, citizen_id: str) -> Arrangement: ...
    def stage_arrangement(self, uow: UnitOfWork, arrangement: Arrangement, replaces: int) -> None: ...
    def stage_erase_arrangement(self, uow: UnitOfWork, arrangement: Arrangement) -> None: ...
