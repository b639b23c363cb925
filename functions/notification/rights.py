"""The notification domain's answer to data-subject requests (RGPD arts. 15 to 21), contracts.md §3.

- access (art. 15) and portability (art. 20): ``pipeline.export_citizen`` — the projection, subscriptions
  and in-app messages;
- erasure (art. 17): ``pipeline.erase_citizen``, staged in the same unit of work as the answer — records of
  legal notices are kept under ``policies/rgpd/retention`` (``notification/legal-notices``) and said so;
- rectification: not applicable (NOT holds no identity attribute; contact points are read from C360);
- restriction (art. 18) and objection (art. 21): not applicable here — the flags arrive by their own event,
  ``rgpd.flags.changed`` (``main.on_rgpd_flags_changed``), and ``policies/notifications`` honours them.
The answer's envelope (export size, outcome) is ``functions.core.rights``. Plain functions: the entry point
is ``main.on_rgpd_request_opened``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from events.rgpd import DomainAction, RgpdDomainAnswered, RgpdRequestOpened
from functions.core import rights
from functions.core.store import UnitOfWork
from functions.notification import pipeline

DOMAIN = "notification"


def export_actions(export: dict[str, Any]) -> list[DomainAction]:
    """What an export contains, counted per kind of data."""
    return rights.exported(
        {
            "projection of consents, preferences, RGPD flags and push endpoint": len(export["profile"]),
            "projection of alert subscriptions": len(export["subscriptions"]),
            "in-app messages": len(export["inbox"]),
        }
    )


def answer(data: RgpdRequestOpened, uow: UnitOfWork, at: datetime) -> RgpdDomainAnswered:
    """This domain's answer to one request; an erasure's writes are staged in ``uow`` beside it."""
    answering = rights.Answering(data, DOMAIN, at)
    if data.right in rights.EXPORT_RIGHTS:
        export = pipeline.export_citizen(data.citizen_id)
        return answering.with_export(export, export_actions(export))
    if data.right == "erasure":
        return answering.with_actions(pipeline.erase_citizen(uow, data.citizen_id, at))
    # rectification: no identity attribute is held; restriction/objection: the flags event does the work
    return answering.not_applicable()
