"""A queue's roster: which agents serve it, kept beside the agents in a domain's own table. The cases' push
assignment (CASE) and contact routing (CCAAS) both read it the same way: one strongly consistent GetItem of
``roster#<queue>``, then the agents by BatchGetItem, 100 at a time — not a Scan, not an eventually consistent
index that could miss an agent who just joined.

Each domain keeps its own roster in its own table (``roster_model(table)``); an agent's items and the rosters of
the queues they joined or left change in one unit of work (``stage_moves``), so the two never disagree.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from pynamodb.attributes import UnicodeAttribute, UnicodeSetAttribute

from functions.core.store import StoreModel, UnitOfWork, model_meta

BATCH_GET_LIMIT = 100
T = TypeVar("T")


class Roster(StoreModel):
    """``roster#<queue>``: the ids of the agents serving a queue (a string set)."""

    id = UnicodeAttribute(hash_key=True)
    members = UnicodeSetAttribute(null=True)


def roster_model(table: str) -> type[Roster]:
    """The roster items of a domain's table (the table itself is defined by the domain's own model)."""
    return type("RosterItem", (Roster,), {"Meta": model_meta(table), "__module__": __name__})


def fetch_members(
    roster: type[Roster], agents: type[StoreModel], queue: str, decode: Callable[[Any], T], key: Callable[[T], str]
) -> list[T]:  # fmt: skip
    """The agents serving ``queue``, decoded from the domain's ``agent#<id>`` items, in ``key`` order."""
    try:
        members = sorted(roster.get(f"roster#{queue}", consistent_read=True).members or ())
    except roster.DoesNotExist:
        return []
    found: list[T] = []
    for start in range(0, len(members), BATCH_GET_LIMIT):
        keys = [f"agent#{m}" for m in members[start : start + BATCH_GET_LIMIT]]
        found.extend(decode(item) for item in agents.batch_get(keys, consistent_read=True))
    return sorted(found, key=key)


def stage_moves(
    uow: UnitOfWork, roster: type[Roster], agent_id: str, before: Iterable[str], after: Iterable[str], tag: str
) -> None:  # fmt: skip
    """The rosters of the queues an agent joined (added) or left (removed), in the agent's unit of work."""
    old, new = set(before), set(after)
    for queue in sorted(new - old):
        uow.update(roster(f"roster#{queue}"), actions=[roster.members.add({agent_id})], tag=tag)
    for queue in sorted(old - new):
        uow.update(roster(f"roster#{queue}"), actions=[roster.members.delete({agent_id})], tag=tag)
