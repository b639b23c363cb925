"""Flags storage: one DynamoDB table ``flags`` (``pk``, ``sk``), three kinds of item.

- ``pk = "flag"``, ``sk`` = the micro-app: a flag an administrator changed (its rules, version and last
  change); one Query reads them all for the snapshot. An app never changed has no item: the catalogue's
  default (version 0) stands.
- ``pk = "flag-history#<app>"``, ``sk`` = the version (zero-padded): every change, who, when, before, after,
  why; written once, never changed (the audit trail of issue 13).
- ``pk = "apps#<citizen id>"``, ``sk = "home"``: a citizen's pins and hides (personal data; erased on an RGPD
  request).
Writes of a flag or an arrangement are conditioned on the version read (a lost race is a retry).
"""

from __future__ import annotations

import json
from datetime import datetime

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute

from events.flags import FlagChanged, FlagRules
from functions.core.store import StoreModel, UnitOfWork, defines_table, model_meta
from functions.flags.service import Arrangement, Flag

FLAG = "flag"
HOME = "home"


@defines_table
class FlagsItem(StoreModel):
    Meta = model_meta("flags")

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    body = UnicodeAttribute()  # JSON: a flag's rules and last change, a history entry, or pins and hides
    version = NumberAttribute(default=0)
    updated_at = UTCDateTimeAttribute()


def _history_key(name: str) -> str:
    return f"flag-history#{name}"


def _apps_key(citizen_id: str) -> str:
    return f"apps#{citizen_id}"


def _flag(item: FlagsItem) -> Flag:
    body = json.loads(item.body)
    changed = FlagChanged.model_validate(body["changed"]) if body.get("changed") else None
    return Flag(item.sk, FlagRules.model_validate(body["rules"]), int(item.version), changed)


def _versioned(uow: UnitOfWork, item: FlagsItem, replaces: int, tag: str) -> None:
    """Put ``item`` if the stored version is still ``replaces`` (0: no item yet)."""
    condition = FlagsItem.pk.does_not_exist() if replaces == 0 else FlagsItem.version == replaces
    uow.put(item, condition=condition, tag=tag)


class DynamoFlagStore:
    """The flags domain's port (``service.FlagStore``) on DynamoDB."""

    def fetch_flags(self) -> dict[str, Flag]:
        return {item.sk: _flag(item) for item in FlagsItem.query(FLAG, consistent_read=True)}

    def fetch_flag(self, name: str) -> Flag | None:
        try:
            return _flag(FlagsItem.get(FLAG, name, consistent_read=True))
        except FlagsItem.DoesNotExist:
            return None

    def fetch_history(self, name: str) -> list[FlagChanged]:
        items = FlagsItem.query(_history_key(name), consistent_read=True)
        return [FlagChanged.model_validate_json(item.body) for item in items]

    def stage_flag(self, uow: UnitOfWork, flag: Flag, replaces: int) -> None:
        """The new version (conditioned on the one replaced) and its history entry (written once)."""
        assert flag.changed is not None  # a stored version is always an administrator's change
        changed = flag.changed.model_dump(mode="json")
        body = json.dumps({"rules": flag.rules.model_dump(mode="json"), "changed": changed})
        at: datetime = flag.changed.changed_at
        _versioned(uow, FlagsItem(FLAG, flag.name, body=body, version=flag.version, updated_at=at), replaces, "flag")
        entry = FlagsItem(_history_key(flag.name), f"{flag.version:08d}", body=json.dumps(changed), updated_at=at)
        entry.version = flag.version
        uow.put(entry, condition=FlagsItem.pk.does_not_exist(), tag="flag-history")

    def fetch_arrangement(self, citizen_id: str) -> Arrangement:
        try:
            item = FlagsItem.get(_apps_key(citizen_id), HOME, consistent_read=True)
        except FlagsItem.DoesNotExist:
            return Arrangement(citizen_id)
        body = json.loads(item.body)
        at: datetime = item.updated_at
        return Arrangement(citizen_id, tuple(body["pinned"]), tuple(body["hidden"]), int(item.version), at)

    def stage_arrangement(self, uow: UnitOfWork, arrangement: Arrangement, replaces: int) -> None:
        assert arrangement.arranged_at is not None
        body = json.dumps({"pinned": list(arrangement.pinned), "hidden": list(arrangement.hidden)})
        item = FlagsItem(
            _apps_key(arrangement.citizen_id),
            HOME,
            body=body,
            version=arrangement.version,
            updated_at=arrangement.arranged_at,
        )
        _versioned(uow, item, replaces, "home-apps")

    def stage_erase_arrangement(self, uow: UnitOfWork, arrangement: Arrangement) -> None:
        """An RGPD erasure: the pins and hides, at the version read."""
        uow.delete(FlagsItem(_apps_key(arrangement.citizen_id), HOME), tag="home-apps-erasure")
