"""Flags use cases: one function per command, question or event, over the domain's ports.

Changing a flag reads it through the ``FlagStore`` port, decides with ``service`` and stages the new version,
its history entry and its ``flag.changed`` event in one unit of work (``Staged``); the entry point commits
it and runs the handler again if the commit lost a race. A citizen's home arrangement goes the same way
(``apps.arranged``). Nothing here knows HTTP, CloudEvents or DynamoDB; the unit tests run these handlers on
in-memory fakes (``tests/unit/flags/test_handlers.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from events.flags import AppsArrangement, FlagChange
from events.rgpd import RgpdRequestOpened
from functions.core import flags as kernel_flags
from functions.core.clock import Clock
from functions.core.flags import CitizenContext
from functions.core.outbox import stage_event
from functions.core.policy import Policy
from functions.core.store import Staged, UnitOfWork
from functions.flags import rights, service
from functions.flags.service import Arrangement, Flag, FlagStore

Enabled = Callable[[str, CitizenContext], bool]


@dataclass(frozen=True)
class FlagPorts:
    """Everything the use cases need from outside: built once per process by ``bootstrap``. ``enabled`` is
    the kernel's in-process evaluation (``functions.core.flags.enabled``)."""

    store: FlagStore
    policy: Policy
    clock: Clock
    catalogue: dict[str, Any]
    enabled: Enabled = kernel_flags.enabled


# ---- commands -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChangeFlag:
    flag: str
    change: FlagChange
    who: str  # role:id of the administrator


@dataclass(frozen=True)
class Changed:
    flag: Flag
    changed: bool  # False: the same rules again (nothing staged)


def change_flag(cmd: ChangeFlag, ports: FlagPorts, traceparent: str | None) -> Staged[Changed]:
    """Switch a micro-app: the next version, its history and ``flag.changed`` (who, when, before, after)."""
    current = service.catalogued(ports.catalogue, cmd.flag, ports.store.fetch_flag(cmd.flag))
    flag, event = service.change(current, cmd.change, cmd.who, ports.clock.now())
    uow = UnitOfWork()
    if event is None:
        return Staged(uow, Changed(flag, changed=False))
    ports.store.stage_flag(uow, flag, replaces=current.version)
    stage_event(uow, event, subject=f"flag/{flag.name}", traceparent=traceparent, now=event.changed_at)
    return Staged(uow, Changed(flag, changed=True))


@dataclass(frozen=True)
class ArrangeApps:
    citizen_id: str
    arrangement: AppsArrangement
    who: str  # role:id of the citizen, or of the agent acting on their behalf


def arrange_apps(cmd: ArrangeApps, ports: FlagPorts, traceparent: str | None) -> Staged[dict[str, Any]]:
    """Pin and hide micro-apps on a citizen's home; answers the home as ``citizen_home`` does."""
    current = ports.store.fetch_arrangement(cmd.citizen_id)
    arranged, event = service.arrange(current, cmd.arrangement, ports.catalogue, cmd.who, ports.clock.now())
    uow = UnitOfWork()
    if event is not None:
        ports.store.stage_arrangement(uow, arranged, replaces=current.version)
        stage_event(uow, event, subject=cmd.citizen_id, traceparent=traceparent, now=event.arranged_at)
    return Staged(uow, home_of(arranged, ports))


# ---- questions ----------------------------------------------------------------------------------------


def snapshot(ports: FlagPorts) -> dict[str, Any]:
    """What every function evaluates (``GET /v1/flags``): each catalogued app's current rules, a revision."""
    stored = ports.store.fetch_flags()
    apps = ports.catalogue["apps"]
    changed = {
        name: (flag.rules.model_dump(mode="json"), flag.version) for name, flag in stored.items() if name in apps
    }
    return kernel_flags.snapshot_body(ports.catalogue, changed)


def find_flag(name: str, ports: FlagPorts) -> Flag:
    return service.catalogued(ports.catalogue, name, ports.store.fetch_flag(name))


def flag_history(name: str, ports: FlagPorts) -> list[dict[str, Any]]:
    """Every change of a flag, oldest first: version, who, when, before, after, why."""
    find_flag(name, ports)  # UnknownAppError for an app the catalogue does not list
    return [change.model_dump(mode="json") for change in ports.store.fetch_history(name)]


def home_of(arrangement: Arrangement, ports: FlagPorts) -> dict[str, Any]:
    context = CitizenContext(arrangement.citizen_id)
    on = {app: ports.enabled(app, context) for app in ports.catalogue["apps"]}
    return service.home(arrangement, ports.catalogue, on)


def citizen_home(citizen_id: str, ports: FlagPorts) -> dict[str, Any]:
    """The micro-apps on for this citizen, in their order; their pins and hides."""
    return home_of(ports.store.fetch_arrangement(citizen_id), ports)


# ---- data-subject rights (RGPD) ---------------------------------------------------------------------


def answer_rights(data: RgpdRequestOpened, ports: FlagPorts, traceparent: str | None) -> UnitOfWork:
    """This domain's answer to a data-subject request (``rights.answer``), its erasure in the same unit."""
    result = rights.answer(data, ports.store, ports.policy, ports.clock.now())
    return result.unit(traceparent, lambda uow, plan: plan.stage(uow, ports.store.stage_erase_arrangement))
