"""An in-memory ``RoutingStore`` (``functions.routing.service``): the routing handlers' unit tests run on it. Every
contact, agent, call, ticket and configuration is versioned as its DynamoDB item is: a unit that read an older
version loses the race at commit. The queue, agent, due and day indexes are computed from what is held, as
DynamoDB's sparse indexes are."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from functions.core.store import UnitOfWork
from functions.routing.ivr import Flow
from functions.routing.service import AgentProfile, Contact, IvrCall, QueueConfig, Ticket
from tests.unit.fakes import Ledger


@dataclass
class FakeRoutingStore:
    ledger: Ledger = field(default_factory=Ledger)
    contacts: dict[str, Contact] = field(default_factory=dict)
    next_at: dict[str, datetime] = field(default_factory=dict)
    agents: dict[str, AgentProfile] = field(default_factory=dict)
    queues: dict[str, QueueConfig] = field(default_factory=dict)
    flows: dict[tuple[str, int | None], Flow] = field(default_factory=dict)
    calls: dict[str, IvrCall] = field(default_factory=dict)
    tickets: dict[str, Ticket] = field(default_factory=dict)

    def commit(self, uow: UnitOfWork) -> None:
        self.ledger.commit(uow)

    def _v(self, key: str) -> int:
        return self.ledger.version(key) or 0

    def fetch_contact(self, contact_id: str) -> Contact | None:
        found = self.contacts.get(contact_id)
        return replace(found, version=self._v(contact_id)) if found else None

    def fetch_waiting(self, queue: str, limit: int) -> list[Contact]:
        waiting = [c for c in self.contacts.values() if c.state == "waiting" and c.queue == queue]
        ordered = sorted(waiting, key=lambda c: (-c.priority, c.queued_at, c.id))[:limit]
        return [c for c in (self.fetch_contact(c.id) for c in ordered) if c]

    def fetch_due(self, now: datetime, limit: int) -> list[Contact]:
        due = sorted((at, cid) for cid, at in self.next_at.items() if at <= now)[:limit]
        return [c for c in (self.fetch_contact(cid) for _, cid in due) if c]

    def fetch_of_agent(self, agent_id: str) -> list[Contact]:
        return [c for c in self.contacts.values() if c.agent_id == agent_id and c.state in ("offered", "active")]

    def fetch_by_citizen(self, citizen_id: str) -> list[Contact]:
        return [c for c in (self.fetch_contact(i) for i in self.contacts) if c and c.citizen_id == citizen_id]

    def fetch_tickets_by_citizen(self, citizen_id: str) -> list[Ticket]:
        return [t for t in (self.fetch_ticket(i) for i in self.tickets) if t and t.citizen_id == citizen_id]

    def fetch_day(self, queue: str, day: str) -> tuple[list[Contact], list[Ticket]]:
        return ([c for c in self.contacts.values() if c.queue == queue and c.day == day],
                [t for t in self.tickets.values() if t.queue == queue and t.day == day])  # fmt: skip

    def fetch_agent(self, agent_id: str) -> AgentProfile | None:
        found = self.agents.get(agent_id)
        return replace(found, version=self._v(f"agent#{agent_id}")) if found else None

    def fetch_agents(self, queue: str) -> list[AgentProfile]:
        return [a for a in (self.fetch_agent(i) for i in sorted(self.agents)) if a and queue in a.queues]

    def fetch_queue(self, queue: str) -> QueueConfig | None:
        return self.queues.get(queue)

    def fetch_flow(self, name: str, version: int | None = None) -> Flow | None:
        return self.flows.get((name, version))

    def fetch_call(self, call_id: str) -> IvrCall | None:
        found = self.calls.get(call_id)
        return replace(found, version=self._v(call_id)) if found else None

    def fetch_ticket(self, ticket_id: str) -> Ticket | None:
        found = self.tickets.get(ticket_id)
        return replace(found, version=self._v(ticket_id)) if found else None

    def stage_contact(self, uow: UnitOfWork, contact: Contact, read_version: int | None,
                      next_at: datetime | None) -> None:  # fmt: skip
        def apply() -> None:
            self.contacts[contact.id] = contact
            if next_at is None:
                self.next_at.pop(contact.id, None)
            else:
                self.next_at[contact.id] = next_at

        self.ledger.stage(uow, contact.id, read_version, apply)

    def stage_erase_contact(self, uow: UnitOfWork, contact: Contact) -> None:
        self.stage_contact(
            uow, replace(contact, citizen_id=None, topic=""), contact.version, self.next_at.get(contact.id)
        )

    def stage_agent(self, uow: UnitOfWork, agent: AgentProfile, before: AgentProfile | None) -> None:
        self.ledger.stage(uow, f"agent#{agent.id}", before.version if before else None,
                          lambda: self.agents.__setitem__(agent.id, agent))  # fmt: skip

    def stage_queue(self, uow: UnitOfWork, config: QueueConfig, current: int | None) -> None:
        self.ledger.stage(uow, f"queue#{config.queue}", current, lambda: self.queues.__setitem__(config.queue, config))

    def stage_flow(self, uow: UnitOfWork, flow: Flow, current: int | None) -> None:
        def apply() -> None:
            self.flows[(flow.flow, None)] = flow
            self.flows[(flow.flow, flow.version)] = flow

        self.ledger.stage(uow, f"ivr#{flow.flow}", current, apply)

    def stage_call(self, uow: UnitOfWork, call: IvrCall, read_version: int | None) -> None:
        self.ledger.stage(uow, call.id, read_version, lambda: self.calls.__setitem__(call.id, call))

    def stage_ticket(self, uow: UnitOfWork, ticket: Ticket, read_version: int | None) -> None:
        self.ledger.stage(uow, ticket.id, read_version, lambda: self.tickets.__setitem__(ticket.id, ticket))

    def stage_erase_ticket(self, uow: UnitOfWork, ticket: Ticket) -> None:
        self.stage_ticket(uow, replace(ticket, citizen_id=None, record=None), ticket.version)
