"""An in-memory ``CaseStore`` (``functions.case.service``): the case handlers' unit tests run on it. Every case,
agent and configuration is versioned as its DynamoDB item is: a unit that read an older version loses the race
at commit. The queue and SLA indexes are computed from the cases held, as DynamoDB's sparse indexes are."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from functions.case.config import AreaConfig
from functions.case.service import AgentState, Case, backlog_rank
from functions.core.store import UnitOfWork
from tests.unit.fakes import Ledger


@dataclass
class FakeCaseStore:
    ledger: Ledger = field(default_factory=Ledger)
    cases: dict[str, Case] = field(default_factory=dict)
    ranks: dict[str, str] = field(default_factory=dict)
    configs: dict[str, AreaConfig] = field(default_factory=dict)
    versions: dict[tuple[str, int], AreaConfig] = field(default_factory=dict)
    agents: dict[str, AgentState] = field(default_factory=dict)

    def commit(self, uow: UnitOfWork) -> None:
        self.ledger.commit(uow)

    def fetch(self, case_id: str) -> tuple[Case, int] | None:
        case = self.cases.get(case_id)
        return (case, self.ledger.version(f"case#{case_id}") or 0) if case else None

    def fetch_by_citizen(self, citizen_id: str) -> list[Case]:
        return sorted((c for c in self.cases.values() if c.citizen_id == citizen_id), key=lambda c: c.opened_at,
                      reverse=True)  # fmt: skip

    def fetch_queue_head(self, queue: str, limit: int) -> list[Case]:
        waiting = [c for c in self.cases.values() if c.waiting and c.queue == queue]
        return sorted(waiting, key=lambda c: self.ranks[c.id])[:limit]

    def fetch_due(self, now: datetime, limit: int) -> list[Case]:
        due = [c for c in self.cases.values() if c.sla_next_at is not None and c.sla_next_at <= now]
        return sorted(due, key=lambda c: c.sla_next_at or now)[:limit]

    def fetch_assigned(self, agent_id: str) -> list[Case]:
        return [c for c in self.cases.values() if c.assignee == agent_id and c.active]

    def fetch_resolved(self, month: str) -> list[Case]:
        from functions.case.storage import resolved_month

        return [c for c in self.cases.values() if c.resolved_at and resolved_month(c.resolved_at) == month]

    def fetch_config(self, area: str) -> AreaConfig | None:
        return self.configs.get(area)

    def fetch_config_version(self, area: str, version: int) -> AreaConfig | None:
        return self.versions.get((area, version))

    def fetch_agent(self, agent_id: str) -> AgentState | None:
        agent = self.agents.get(agent_id)
        return replace(agent, version=self.ledger.version(f"agent#{agent_id}")) if agent else None

    def fetch_agents(self, queue: str) -> list[AgentState]:
        return [a for a in (self.fetch_agent(i) for i in sorted(self.agents)) if a and queue in a.queues]

    def stage_case(self, uow: UnitOfWork, case: Case, read_version: int | None, due_at: datetime | None) -> None:
        def apply() -> None:
            self.cases[case.id] = case
            self.ranks[case.id] = backlog_rank(case, due_at)

        self.ledger.stage(uow, f"case#{case.id}", read_version, apply)

    def stage_erase(self, uow: UnitOfWork, case: Case) -> None:
        self.ledger.stage(uow, f"case#{case.id}", None, lambda: self.cases.pop(case.id, None), any_version=True)

    def stage_config(self, uow: UnitOfWork, config: AreaConfig, current: int | None) -> None:
        def apply() -> None:
            self.configs[config.area] = config
            self.versions[(config.area, config.version)] = config

        self.ledger.stage(uow, f"config#{config.area}", self.ledger.version(f"config#{config.area}") if current
                          else None, apply)  # fmt: skip

    def stage_agent(self, uow: UnitOfWork, agent: AgentState, before: AgentState | None) -> None:
        expected = before.version if before else None
        self.ledger.stage(uow, f"agent#{agent.id}", expected, lambda: self.agents.__setitem__(agent.id, agent))
