"""Micro-apps switched by flags (FLAG): the rules an administrator sets, and a citizen's home arrangement.

A micro-app is a group of the citizen app's pages and the API routes behind them (``position``,
``consents``, ``alerts``, ``inbox``, ``my-data``; later ``pay``, ``cases``, ``wallet``, ``services``,
``events``). Its flag says for whom it is on: globally on or off, only in some districts (official codes,
``functions/core/madrid.py``), for a share of citizens (a stable hash of the citizen id). Every change is
announced with who made it, when, and the rules before and after (the audit trail).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints, model_validator

from events.base import EventData

APP_PATTERN = r"^[a-z][a-z0-9-]{1,30}$"
AppName = Annotated[str, StringConstraints(pattern=APP_PATTERN)]
MAX_APPS = 40


def check_district(code: str) -> str:
    """An official district code of Madrid (``"01"`` Centro ... ``"21"`` Barajas), not a barrio's."""
    from functions.core.madrid import find_zone  # the kernel's data, read on first use only

    zone = find_zone(code)
    if zone is None or zone.kind != "district":
        raise ValueError(f"{code!r} is not one of Madrid's district codes (01-21)")
    return code


DistrictCode = Annotated[str, AfterValidator(check_district)]


class FlagRules(EventData):
    """For whom a micro-app is on: off for everybody unless ``enabled``; then, if ``districts`` names any,
    only for citizens of those districts; then for ``percentage`` % of citizens (a stable bucket of each)."""

    enabled: bool
    districts: list[DistrictCode] = Field(default_factory=list, max_length=21, examples=[["01", "05"]])
    percentage: int = Field(100, ge=0, le=100, description="share of citizens (0-100) the app is on for")

    @model_validator(mode="after")
    def _districts_once(self) -> FlagRules:
        if len(set(self.districts)) != len(self.districts):
            raise ValueError("each district once")
        return self


class FlagChange(FlagRules):
    """``PUT /v1/flags/{flag}``: the new rules, why, and the version they replace (optimistic concurrency)."""

    reason: str = Field(min_length=3, max_length=500, description="why: kept in the audit trail")
    version: int = Field(ge=0, description="the version being replaced (0: the catalogue's default)")


class FlagChanged(EventData):
    """An administrator changed a micro-app's flag: who, when, the rules before and after, and why."""

    flag: AppName
    version: int = Field(ge=1)
    before: FlagRules
    after: FlagRules
    reason: str
    changed_by: str = Field(description="role:id of the administrator")
    changed_at: datetime


class AppsArrangement(EventData):
    """``PUT /v1/citizens/{id}/apps``: the micro-apps a citizen pins first on their home, and hides."""

    pinned: list[AppName] = Field(default_factory=list, max_length=MAX_APPS)
    hidden: list[AppName] = Field(default_factory=list, max_length=MAX_APPS)


class AppsArranged(EventData):
    """A citizen (or an agent on their behalf) arranged the micro-apps on their home."""

    citizen_id: str
    pinned: list[AppName]
    hidden: list[AppName]
    arranged_by: str = Field(description="role:id of who arranged them")
    arranged_at: datetime
