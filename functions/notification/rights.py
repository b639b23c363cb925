"""The notification domain's answer to data-subject requests (RGPD arts. 15 to 21), contracts.md §3.

- access (art. 15) and portability (art. 20): ``pipeline.export_citizen`` — the projection (contact points
  included), subscriptions, in-app messages and the notifications sent to the person, by citizen id or to one
  of their addresses (found through the ``by-recipient`` index and the addresses' blind indexes);
- erasure (art. 17): ``pipeline.erase_citizen``, staged in the same unit of work as the answer — records of
  legal notices (in-app, and the notifications sent) are kept under ``policies/rgpd/retention``
  (``notification/legal-notices``) and said so, with an erasure marker the projections honour (ADR 0012), and
  what this domain keeps outside its table until the store removes it (``rights.in_transit``);
- rectification: not applicable (NOT holds copies: contact points are rectified in C360, which announces them);
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
            "projection of consents, preferences, contact points, RGPD flags and push endpoint": len(export["profile"]),
            "projection of alert subscriptions": len(export["subscriptions"]),
            "in-app messages": len(export["inbox"]),
            "notifications sent to the person (by citizen id or to their addresses)": len(export["notifications"]),
        }
    )


def answer(data: RgpdRequestOpened, uow: UnitOfWork, at: datetime) -> RgpdDomainAnswered:
    """This domain's answer to one request; an erasure's writes are staged in ``uow`` beside it."""
    answering = rights.Answering(data, DOMAIN, at)
    if data.right in rights.EXPORT_RIGHTS:
        export = pipeline.export_citizen(data.citizen_id)
        return answering.with_export(export, export_actions(export))
    if data.right == "erasure":
        actions = pipeline.erase_citizen(uow, data.request_id, data.citizen_id, at)
        return answering.with_actions(rights.erasure_actions(actions, pipeline.policy(), DOMAIN, at))
    # rectification: no identity attribute is held; restriction/objection: the flags event does the work
    return answering.not_applicable()
