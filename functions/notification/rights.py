"""The notification domain's answer to data-subject requests (RGPD arts. 15 to 21), contracts.md §3.

- access (art. 15) and portability (art. 20): ``pipeline.export_citizen`` — the projection, subscriptions
  and in-app messages;
- erasure (art. 17): ``pipeline.erase_citizen``, staged in the same unit of work as the answer — records of
  legal notices are kept under ``policies/rgpd/retention`` (``notification/legal-notices``) and said so;
- rectification: not applicable (NOT holds no identity attribute; contact points are read from C360);
- restriction (art. 18) and objection (art. 21): not applicable here — the flags arrive by their own event,
  ``rgpd.flags.changed`` (``main.on_rgpd_flags_changed``), and ``policies/notifications`` honours them.
Plain functions: the entry point is ``main.on_rgpd_request_opened``.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from events.rgpd import DomainAction, RgpdDomainAnswered, RgpdRequestOpened
from functions.core.store import UnitOfWork
from functions.notification import pipeline

DOMAIN = "notification"
PRODUCER = "pic-notification"
# The answer travels as one CloudEvent through the outbox (a DynamoDB item, at most 400 KB): above this, the
# domain answers "failed" with the reason rather than lose the export (functions/rgpd/README.md, step 5).
MAX_EXPORT_CHARS = 300_000


def export_actions(export: dict[str, Any]) -> list[DomainAction]:
    """What an export contains, counted per kind of data."""
    counts = {
        "projection of consents, preferences, RGPD flags and push endpoint": len(export["profile"]),
        "projection of alert subscriptions": len(export["subscriptions"]),
        "in-app messages": len(export["inbox"]),
    }
    return [DomainAction(what=what, count=n, result="exported", legal_basis=None) for what, n in counts.items()]


def answer(data: RgpdRequestOpened, uow: UnitOfWork, at: datetime) -> RgpdDomainAnswered:
    """This domain's answer to one request; an erasure's writes are staged in ``uow`` beside it."""
    base: dict[str, Any] = {
        "request_id": data.request_id, "citizen_id": data.citizen_id, "domain": DOMAIN, "answered_at": at,
    }  # fmt: skip
    if data.right in ("access", "portability"):
        export = pipeline.export_citizen(data.citizen_id)
        size = len(json.dumps(export))
        if size > MAX_EXPORT_CHARS:
            reason = (
                f"the notification export is {size} characters, more than one event carries ({MAX_EXPORT_CHARS}); "
                "it must be delivered by reference"
            )
            return RgpdDomainAnswered(**base, outcome="failed", reason=reason)
        return RgpdDomainAnswered(**base, outcome="done", actions=export_actions(export), export=export)
    if data.right == "erasure":
        actions = [DomainAction(**a) for a in pipeline.erase_citizen(uow, data.citizen_id, at)]
        return RgpdDomainAnswered(**base, outcome="done" if actions else "not-applicable", actions=actions)
    # rectification: no identity attribute is held; restriction/objection: the flags event does the work
    return RgpdDomainAnswered(**base, outcome="not-applicable")
