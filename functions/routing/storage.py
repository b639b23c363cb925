"""Routing storage: one DynamoDB table ``routing``, keyed by ``id``, with these item kinds.

- ``id=ctc-<hash>`` (``RoutingItem``): one contact with its history as JSON, written whole under the version read
  (``version``), so two agents accepting at once, or an accept and the sweep's time-out, cannot both win. Sparse
  index attributes, set or left out on every write: ``waiting_queue`` + ``queue_rank`` (index ``by-queue``: a
  queue's waiting contacts by priority then age), ``next_shard`` + ``next_at`` (index ``by-next``: when the sweep
  looks at it: an offer's or a step's expiry, over ``NEXT_SHARDS`` partitions), ``agent_id`` (index ``by-agent``:
  what an agent is offered or attends now), ``citizen_id`` (index ``by-citizen``: RGPD), ``stats_day`` (index
  ``by-day``: ``<queue>#<YYYY-MM-DD>``, the statistics).
- ``id=tkt-<office>-<day>-<ticket>``: an office ticket (its times, for the statistics), in ``by-day`` and
  ``by-citizen``.
- ``id=agent#<id>``: an agent's routing profile, presence and load; ``id=roster#<queue>`` (``RosterItem``): the
  agents serving a queue.
- ``id=queue#<name>`` / ``queue#<name>#v<N>``: a queue's configuration in force and each version;
  ``id=ivr#<name>`` / ``ivr#<name>#v<N>``: an IVR flow; ``id=ivr-<hash>``: a call in a flow.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, replace
from datetime import UTC, datetime
from typing import Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from functions.core import roster
from functions.core.store import StoreModel, UnitOfWork, defines_table, from_iso, model_meta
from functions.routing.ivr import Flow
from functions.routing.service import AgentProfile, Contact, Entry, IvrCall, QueueConfig, Ticket

NEXT_SHARDS = 8
BATCH_GET_LIMIT = 100


class ByQueue(GlobalSecondaryIndex["RoutingItem"]):  # type: ignore[no-untyped-call]
    class Meta:
        index_name = "by-queue"
        projection = AllProjection()

    waiting_queue = UnicodeAttribute(hash_key=True)
    queue_rank = UnicodeAttribute(range_key=True)


class ByNext(GlobalSecondaryIndex["RoutingItem"]):  # type: ignore[no-untyped-call]
    class Meta:
        index_name = "by-next"
        projection = AllProjection()

    next_shard = UnicodeAttribute(hash_key=True)
    next_at = UTCDateTimeAttribute(range_key=True)


class ByAgent(GlobalSecondaryIndex["RoutingItem"]):  # type: ignore[no-untyped-call]
    class Meta:
        index_name = "by-agent"
        projection = AllProjection()

    agent_id = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class ByCitizen(GlobalSecondaryIndex["RoutingItem"]):  # type: ignore[no-untyped-call]
    class Meta:
        index_name = "by-citizen"
        projection = AllProjection()

    citizen_id = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class ByDay(GlobalSecondaryIndex["RoutingItem"]):  # type: ignore[no-untyped-call]
    class Meta:
        index_name = "by-day"
        projection = AllProjection()

    stats_day = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


@defines_table
class RoutingItem(StoreModel):
    Meta = model_meta("routing")

    id = UnicodeAttribute(hash_key=True)
    body = UnicodeAttribute(null=True)
    version = NumberAttribute(null=True)
    created_at = UTCDateTimeAttribute(null=True)
    waiting_queue = UnicodeAttribute(null=True)
    queue_rank = UnicodeAttribute(null=True)
    next_shard = UnicodeAttribute(null=True)
    next_at = UTCDateTimeAttribute(null=True)
    agent_id = UnicodeAttribute(null=True)
    citizen_id = UnicodeAttribute(null=True)
    stats_day = UnicodeAttribute(null=True)

    by_queue = ByQueue()
    by_next = ByNext()
    by_agent = ByAgent()
    by_citizen = ByCitizen()
    by_day = ByDay()


RosterItem = roster.roster_model("routing")  # ``roster#<queue>``: the agents serving a queue (functions/core/roster.py)


# ---- (de)serialising ------------------------------------------------------------------------------------------


def _json(value: Any) -> str:
    return json.dumps(value, default=lambda v: v.isoformat() if isinstance(v, datetime) else str(v))


def contact_json(contact: Contact) -> str:
    raw = asdict(contact)
    raw.pop("version")
    return _json(raw)


def contact_of(text: str, version: int) -> Contact:
    raw: dict[str, Any] = json.loads(text)
    for key in ("created_at", "queued_at", "offer_expires_at", "accepted_at", "ended_at"):
        raw[key] = from_iso(raw[key])
    raw["history"] = tuple(Entry(datetime.fromisoformat(e["at"]), e["what"], e["agent"], e["queue"])
                           for e in raw["history"])  # fmt: skip
    raw["declined"] = tuple(raw["declined"])
    return Contact(**raw, version=version)


def ticket_json(ticket: Ticket) -> str:
    raw = asdict(ticket)
    raw.pop("version")
    return _json(raw)


def ticket_of(text: str, version: int) -> Ticket:
    raw: dict[str, Any] = json.loads(text)
    for key in ("issued_at", "called_at", "ended_at"):
        raw[key] = from_iso(raw[key])
    return Ticket(**raw, version=version)


def call_of(text: str, version: int) -> IvrCall:
    raw: dict[str, Any] = json.loads(text)
    raw["started_at"] = datetime.fromisoformat(raw["started_at"])
    raw["answers"] = tuple(raw["answers"])
    return IvrCall(**raw, version=version)


def queue_rank(contact: Contact) -> str:
    """A queue's order: the highest priority first, then the longest waiting, then the id."""
    return f"{9 - contact.priority}#{contact.queued_at.astimezone(UTC).isoformat()}#{contact.id}"


def next_shard(item_id: str) -> str:
    return f"next#{int(hashlib.sha256(item_id.encode()).hexdigest()[:4], 16) % NEXT_SHARDS}"


def _body(item: RoutingItem) -> tuple[str, int]:
    return item.body or "{}", int(item.version or 0)


def _condition(read: int | None) -> Any:
    return RoutingItem.id.does_not_exist() if read is None else RoutingItem.version == read


class DynamoRoutingStore:
    """The routing domain's port (``service.RoutingStore``) on DynamoDB."""

    def _get(self, key: str) -> RoutingItem | None:
        try:
            return RoutingItem.get(key, consistent_read=True)
        except RoutingItem.DoesNotExist:
            return None

    def fetch_contact(self, contact_id: str) -> Contact | None:
        item = self._get(contact_id) if contact_id.startswith("ctc-") else None
        return contact_of(*_body(item)) if item else None

    def fetch_waiting(self, queue: str, limit: int) -> list[Contact]:
        return [contact_of(*_body(i)) for i in RoutingItem.by_queue.query(queue, limit=limit)]

    def fetch_due(self, now: datetime, limit: int) -> list[Contact]:
        found: list[Contact] = []
        for shard in range(NEXT_SHARDS):
            left = limit - len(found)
            if left <= 0:
                break
            query = RoutingItem.by_next.query(f"next#{shard}", RoutingItem.next_at <= now, limit=left)
            found.extend(contact_of(*_body(i)) for i in query)
        return found

    def fetch_of_agent(self, agent_id: str) -> list[Contact]:
        return [contact_of(*_body(i)) for i in RoutingItem.by_agent.query(agent_id)]

    def fetch_by_citizen(self, citizen_id: str) -> list[Contact]:
        return [contact_of(*_body(i)) for i in RoutingItem.by_citizen.query(citizen_id) if str(i.id).startswith("ctc-")]

    def fetch_tickets_by_citizen(self, citizen_id: str) -> list[Ticket]:
        return [ticket_of(*_body(i)) for i in RoutingItem.by_citizen.query(citizen_id) if str(i.id).startswith("tkt-")]

    def fetch_day(self, queue: str, day: str) -> tuple[list[Contact], list[Ticket]]:
        contacts: list[Contact] = []
        tickets: list[Ticket] = []
        for item in RoutingItem.by_day.query(f"{queue}#{day}"):
            if str(item.id).startswith("ctc-"):
                contacts.append(contact_of(*_body(item)))
            else:
                tickets.append(ticket_of(*_body(item)))
        return contacts, tickets

    def fetch_agent(self, agent_id: str) -> AgentProfile | None:
        item = self._get(f"agent#{agent_id}")
        return _agent_of(item) if item else None

    def fetch_agents(self, queue: str) -> list[AgentProfile]:
        """The agents of a queue's roster (one GetItem, then BatchGetItem of 100 at a time)."""
        return roster.fetch_members(RosterItem, RoutingItem, queue, _agent_of, lambda a: a.id)

    def fetch_queue(self, queue: str) -> QueueConfig | None:
        item = self._get(f"queue#{queue}")
        return QueueConfig.model_validate_json(item.body or "{}") if item else None

    def fetch_flow(self, name: str, version: int | None = None) -> Flow | None:
        item = self._get(f"ivr#{name}" + (f"#v{version}" if version else ""))
        return Flow.model_validate_json(item.body or "{}") if item else None

    def fetch_call(self, call_id: str) -> IvrCall | None:
        item = self._get(call_id) if call_id.startswith("ivr-") else None
        return call_of(*_body(item)) if item else None

    def fetch_ticket(self, ticket_id: str) -> Ticket | None:
        item = self._get(ticket_id)
        return ticket_of(*_body(item)) if item else None

    # ---- writes -------------------------------------------------------------------------------------------

    def stage_contact(self, uow: UnitOfWork, contact: Contact, read_version: int | None,
                      next_at: datetime | None) -> None:  # fmt: skip
        """The whole contact, one version up, if it is still at the version read (tag ``contact``)."""
        waiting = contact.state == "waiting"
        item = RoutingItem(
            contact.id, body=contact_json(contact), version=(read_version or 0) + 1, created_at=contact.created_at,
            waiting_queue=contact.queue if waiting else None, queue_rank=queue_rank(contact) if waiting else None,
            next_shard=next_shard(contact.id) if next_at else None, next_at=next_at,
            agent_id=contact.agent_id if contact.state in ("offered", "active") else None,
            citizen_id=contact.citizen_id, stats_day=f"{contact.queue}#{contact.day}",
        )  # fmt: skip
        uow.put(item, condition=_condition(read_version), tag="contact")

    def stage_erase_contact(self, uow: UnitOfWork, contact: Contact) -> None:
        """The contact without who it was: the times stay for the statistics."""
        anonymous = replace(contact, citizen_id=None, topic="", ivr={k: v for k, v in contact.ivr.items()
                                                                     if k != "answers"})  # fmt: skip
        self.stage_contact(uow, anonymous, contact.version, contact.offer_expires_at)

    def stage_agent(self, uow: UnitOfWork, agent: AgentProfile, before: AgentProfile | None) -> None:
        """The agent's profile one version up (condition: still at the version read), and the rosters of the
        queues they joined or left."""
        body = _json(agent.view())
        version = before.version if before else None
        uow.put(RoutingItem(f"agent#{agent.id}", body=body, version=(version or 0) + 1),
                condition=_condition(version), tag="routing-agent")  # fmt: skip
        roster.stage_moves(uow, RosterItem, agent.id, before.queues if before else (), agent.queues, "routing-roster")

    def stage_queue(self, uow: UnitOfWork, config: QueueConfig, current: int | None) -> None:
        body = config.model_dump_json()
        uow.put(RoutingItem(f"queue#{config.queue}", body=body, version=config.version),
                condition=_condition(current), tag="routing-queue")  # fmt: skip
        uow.put(RoutingItem(f"queue#{config.queue}#v{config.version}", body=body, version=config.version),
                condition=RoutingItem.id.does_not_exist(), tag="routing-queue-version")  # fmt: skip

    def stage_flow(self, uow: UnitOfWork, flow: Flow, current: int | None) -> None:
        body = flow.model_dump_json()
        uow.put(RoutingItem(f"ivr#{flow.flow}", body=body, version=flow.version), condition=_condition(current),
                tag="routing-flow")  # fmt: skip
        uow.put(RoutingItem(f"ivr#{flow.flow}#v{flow.version}", body=body, version=flow.version),
                condition=RoutingItem.id.does_not_exist(), tag="routing-flow-version")  # fmt: skip

    def stage_call(self, uow: UnitOfWork, call: IvrCall, read_version: int | None) -> None:
        raw = asdict(call)
        raw.pop("version")
        uow.put(RoutingItem(call.id, body=_json(raw), version=(read_version or 0) + 1, created_at=call.started_at,
                            citizen_id=call.citizen_id),
                condition=_condition(read_version), tag="routing-call")  # fmt: skip

    def stage_ticket(self, uow: UnitOfWork, ticket: Ticket, read_version: int | None) -> None:
        item = RoutingItem(ticket.id, body=ticket_json(ticket), version=(read_version or 0) + 1,
                           created_at=ticket.issued_at, citizen_id=ticket.citizen_id,
                           stats_day=f"{ticket.queue}#{ticket.day}")  # fmt: skip
        uow.put(item, condition=_condition(read_version), tag="routing-ticket")

    def stage_erase_ticket(self, uow: UnitOfWork, ticket: Ticket) -> None:
        self.stage_ticket(uow, replace(ticket, citizen_id=None, record=None), ticket.version)


def _agent_of(item: RoutingItem) -> AgentProfile:
    raw = json.loads(item.body or "{}")
    return AgentProfile(id=raw["id"], level=raw["level"], area=raw["area"], presence=raw["presence"],
                        skills=raw["skills"], capacity=raw["capacity"], queues=tuple(raw["queues"]),
                        load=raw["load"], version=int(item.version or 0))  # fmt: skip
