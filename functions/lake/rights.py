"""The lake's answer to data-subject requests (RGPD arts. 15 to 21, ADR 0006, 0012, 0036).

The lake holds pseudonymised copies of facts other domains hold (cases, payments, bookings, incidents, office
visits), keyed by the person's pseudonym: HMAC-SHA256 of their id under the lake's key, which only PIC has.

- erasure (art. 17): the person's rows are deleted from every table and snapshot, and the files that held them
  removed physically (each partition rewritten without them, then vacuumed with no retention), at the flusher's
  next pass (seconds: ``PIC_LAKE_FLUSH_SECONDS``); the answer stages an erasure marker (the pseudonym, the
  request and the time: no id) so that a fact about the person dated up to the erasure, delivered late, retried
  or replayed, is never exported again (ADR 0012). A later fact is a new one with its own lawful basis (art.
  6.1.e, art. 89.1) and is exported as any other.
- access and portability (arts. 15, 20): not applicable here: every row is a copy of a fact its source domain
  holds and exports in full in its own answer; the lake's copy is that fact minus fields, pseudonymised.
- rectification: rows are facts as they happened; the next fact (a case's next version) supersedes them in the
  snapshot. Restriction and objection: honoured by the source domains, whose later facts carry them.
"""

from __future__ import annotations

from datetime import datetime

from events.rgpd import DomainAction, RgpdRequestOpened
from functions.core import rights
from functions.core.policy import Policy
from functions.lake.service import Marker, Pseudonyms

DOMAIN = "lake"

ErasurePlan = rights.Erasure[Marker]
Answer = rights.Answer[ErasurePlan]


def answer(data: RgpdRequestOpened, pseudo: Pseudonyms, policy: Policy, now: datetime) -> Answer:
    """Erasure: the marker (always: a fact may be on its way) and the actions; anything else: not applicable.

    The rows are not counted here: the event function does not read the tables (one write per event is its
    budget); the flusher's report and the tables' history count them."""
    answering = rights.Answering(data, DOMAIN, now)
    if data.right != "erasure":
        return Answer(answering.not_applicable())
    plan = ErasurePlan()
    plan.erased.append(Marker(pseudo.of(data.citizen_id), now, data.request_id))
    plan.actions.append(DomainAction(
        what="the person's pseudonymised rows in the data platform's tables and daily snapshots, and the files "
             "that held them, deleted at the lake's next pass",
        count=None, result="erased", legal_basis=None, category="analytics-rows",
    ))  # fmt: skip
    plan.actions.append(rights.kept(
        "the erasure marker (the person's pseudonym, the request and its time): late facts about the person are "
        "not exported again", 1, rights.retention(policy, DOMAIN, "erasure-marker", now),
    ))  # fmt: skip
    return Answer(answering.with_actions(rights.erasure_actions(plan.actions, policy, DOMAIN, now)), plan)
