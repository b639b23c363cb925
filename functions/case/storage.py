"""Case storage: one DynamoDB table ``case``, keyed by ``id``, with four item kinds.

- ``id=case-<hash>`` (``CaseItem``): one case with its whole history as JSON, written whole under the version
  read (``version``), so two agents acting at once cannot both win. Sparse index attributes, set or left out
  on every write: ``citizen_id`` (index ``by-citizen``: the person's cases, their RGPD export), ``waiting_queue``
  + ``queue_rank`` (index ``by-queue``: the backlog of a queue in order — priority, SLA due, age — only while
  the case waits unassigned), ``assignee`` (index ``by-assignee``: an agent's open cases), ``sla_shard`` +
  ``sla_next_at`` (index ``by-sla``: what the sweep looks at next; the shard spreads the open cases over
  ``SLA_SHARDS`` partitions).
- ``id=config#<area>`` (``ConfigItem``): the area's configuration in force and its version; each version is also
  kept as ``config#<area>#v<N>`` (the history an administrator reads back).
- ``id=agent#<id>`` (``AgentItem``): an agent's presence, case capacity and load and the queues they serve.
- ``id=roster#<queue>`` (``RosterItem``): the agents serving a queue, what a push assignment reads.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from events.case import TranscriptLine
from functions.case.config import AreaConfig
from functions.case.service import AgentState, Case, Entry, backlog_rank
from functions.core import roster
from functions.core.clock import MADRID
from functions.core.store import StoreModel, UnitOfWork, defines_table, from_iso, model_meta, to_iso

SLA_SHARDS = 8
BATCH_GET_LIMIT = 100


class ByCitizen(GlobalSecondaryIndex["CaseItem"]):  # type: ignore[no-untyped-call]
    class Meta:
        index_name = "by-citizen"
        projection = AllProjection()

    citizen_id = UnicodeAttribute(hash_key=True)
    opened_at = UTCDateTimeAttribute(range_key=True)


class ByQueue(GlobalSecondaryIndex["CaseItem"]):  # type: ignore[no-untyped-call]
    class Meta:
        index_name = "by-queue"
        projection = AllProjection()

    waiting_queue = UnicodeAttribute(hash_key=True)
    queue_rank = UnicodeAttribute(range_key=True)


class ByAssignee(GlobalSecondaryIndex["CaseItem"]):  # type: ignore[no-untyped-call]
    class Meta:
        index_name = "by-assignee"
        projection = AllProjection()

    assignee = UnicodeAttribute(hash_key=True)
    opened_at = UTCDateTimeAttribute(range_key=True)


class ByResolvedMonth(GlobalSecondaryIndex["CaseItem"]):  # type: ignore[no-untyped-call]
    """The cases resolved in a month (Europe/Madrid): what the SLA report reads."""

    class Meta:
        index_name = "by-resolved-month"
        projection = AllProjection()

    resolved_month = UnicodeAttribute(hash_key=True)
    resolved_at = UTCDateTimeAttribute(range_key=True)


class BySla(GlobalSecondaryIndex["CaseItem"]):  # type: ignore[no-untyped-call]
    class Meta:
        index_name = "by-sla"
        projection = AllProjection()

    sla_shard = UnicodeAttribute(hash_key=True)
    sla_next_at = UTCDateTimeAttribute(range_key=True)


@defines_table
class CaseItem(StoreModel):
    Meta = model_meta("case")

    id = UnicodeAttribute(hash_key=True)
    body = UnicodeAttribute(null=True)  # JSON of the case (cases), of the configuration (configs)
    version = NumberAttribute(null=True)
    citizen_id = UnicodeAttribute(null=True)
    opened_at = UTCDateTimeAttribute(null=True)
    waiting_queue = UnicodeAttribute(null=True)
    queue_rank = UnicodeAttribute(null=True)
    assignee = UnicodeAttribute(null=True)
    sla_shard = UnicodeAttribute(null=True)
    sla_next_at = UTCDateTimeAttribute(null=True)
    resolved_month = UnicodeAttribute(null=True)
    resolved_at = UTCDateTimeAttribute(null=True)

    by_citizen = ByCitizen()
    by_resolved_month = ByResolvedMonth()
    by_queue = ByQueue()
    by_assignee = ByAssignee()
    by_sla = BySla()


RosterItem = roster.roster_model("case")  # ``roster#<queue>``: the agents serving a queue (functions/core/roster.py)


# ---- (de)serialising a case --------------------------------------------------------------------------------


def case_json(case: Case) -> str:
    return json.dumps(
        {
            **{k: getattr(case, k) for k in ("id", "reference", "citizen_id", "area", "category", "level", "channel")},
            **{k: getattr(case, k) for k in ("subject", "description", "priority", "state", "requested_by")},
            "opened_at": case.opened_at.isoformat(),
            "updated_at": case.updated_at.isoformat(),
            "resolved_at": to_iso(case.resolved_at),
            "assignee": case.assignee,
            "history": [
                {
                    "at": e.at.isoformat(),
                    "kind": e.kind,
                    "actor": e.actor,
                    "state": e.state,
                    "text": e.text,
                    "public": e.public,
                    "detail": e.detail,
                }
                for e in case.history
            ],
            "transcript": [line.model_dump(mode="json") for line in case.transcript],
            "interaction_ids": list(case.interaction_ids),
            "kb_articles": list(case.kb_articles),
            "parent_id": case.parent_id,
            "children": list(case.children),
            "related": list(case.related),
            "merged_into": case.merged_into,
            "rating": case.rating,
            "sla_next_at": to_iso(case.sla_next_at),
            "sla_raised": sorted(case.sla_raised),
        }
    )


def case_of(text: str, version: int) -> Case:
    raw: dict[str, Any] = json.loads(text)
    history = tuple(
        Entry(datetime.fromisoformat(e["at"]), e["kind"], e["actor"], e["state"], e["text"], e["public"], e["detail"])
        for e in raw["history"]
    )
    return Case(
        **{k: raw[k] for k in ("id", "reference", "citizen_id", "area", "category", "level", "channel", "subject")},
        **{k: raw[k] for k in ("description", "priority", "state", "requested_by", "assignee", "parent_id")},
        opened_at=datetime.fromisoformat(raw["opened_at"]),
        updated_at=datetime.fromisoformat(raw["updated_at"]),
        resolved_at=from_iso(raw["resolved_at"]),
        history=history,
        version=version,
        transcript=tuple(TranscriptLine.model_validate(line) for line in raw["transcript"]),
        interaction_ids=tuple(raw["interaction_ids"]),
        kb_articles=tuple(raw["kb_articles"]),
        children=tuple(raw["children"]),
        related=tuple(raw["related"]),
        merged_into=raw["merged_into"],
        rating=raw["rating"],
        sla_next_at=from_iso(raw["sla_next_at"]),
        sla_raised=frozenset(raw["sla_raised"]),
    )


def resolved_month(at: datetime) -> str:
    return at.astimezone(MADRID).strftime("%Y-%m")


def _case(item: CaseItem) -> Case:
    return case_of(item.body or "{}", int(item.version or 0))


def sla_shard(case_id: str) -> str:
    return f"sla#{int(hashlib.sha256(case_id.encode()).hexdigest()[:4], 16) % SLA_SHARDS}"


def _agent_of(item: CaseItem) -> AgentState:
    raw = json.loads(item.body or "{}")
    return AgentState(
        id=raw["id"],
        level=raw["level"],
        area=raw["area"],
        presence=raw["presence"],
        capacity=raw["capacity"],
        load=raw["load"],
        queues=tuple(raw["queues"]),
        version=int(item.version or 0),
    )


class DynamoCaseStore:
    """The case domain's port (``service.CaseStore``) on DynamoDB."""

    def fetch(self, case_id: str) -> tuple[Case, int] | None:
        if not case_id.startswith("case-"):
            return None
        try:
            item = CaseItem.get(case_id, consistent_read=True)
        except CaseItem.DoesNotExist:
            return None
        return case_of(item.body or "{}", int(item.version or 0)), int(item.version or 0)

    def fetch_by_citizen(self, citizen_id: str) -> list[Case]:
        """The person's cases, newest first (one Query of ``by-citizen``)."""
        found = CaseItem.by_citizen.query(citizen_id, scan_index_forward=False)
        return [_case(i) for i in found]

    def fetch_queue_head(self, queue: str, limit: int) -> list[Case]:
        found = CaseItem.by_queue.query(queue, limit=limit)
        return [_case(i) for i in found]

    def fetch_assigned(self, agent_id: str) -> list[Case]:
        found = CaseItem.by_assignee.query(agent_id, scan_index_forward=False)
        return [_case(i) for i in found]

    def fetch_due(self, now: datetime, limit: int) -> list[Case]:
        """Up to ``limit`` cases whose next SLA look is due, one Query per shard."""
        found: list[Case] = []
        for shard in range(SLA_SHARDS):
            left = limit - len(found)
            if left <= 0:
                break
            query = CaseItem.by_sla.query(f"sla#{shard}", CaseItem.sla_next_at <= now, limit=left)
            found.extend(_case(i) for i in query)
        return found

    def fetch_resolved(self, month: str) -> list[Case]:
        """The cases resolved in ``month`` (YYYY-MM, Madrid time) and still resolved or closed (one Query)."""
        found = CaseItem.by_resolved_month.query(month)
        return [_case(i) for i in found]

    def fetch_config(self, area: str) -> AreaConfig | None:
        try:
            item = CaseItem.get(f"config#{area}", consistent_read=True)
        except CaseItem.DoesNotExist:
            return None
        return AreaConfig.model_validate_json(item.body or "{}")

    def fetch_config_version(self, area: str, version: int) -> AreaConfig | None:
        try:
            item = CaseItem.get(f"config#{area}#v{version}", consistent_read=True)
        except CaseItem.DoesNotExist:
            return None
        return AreaConfig.model_validate_json(item.body or "{}")

    def fetch_agent(self, agent_id: str) -> AgentState | None:
        try:
            return _agent_of(CaseItem.get(f"agent#{agent_id}", consistent_read=True))
        except CaseItem.DoesNotExist:
            return None

    def fetch_agents(self, queue: str) -> list[AgentState]:
        """The agents of a queue's roster (one GetItem, then BatchGetItem of 100 at a time)."""
        return roster.fetch_members(RosterItem, CaseItem, queue, _agent_of, lambda a: a.id)

    def stage_case(self, uow: UnitOfWork, case: Case, read_version: int | None, due_at: datetime | None) -> None:
        """The whole case, one version up, if it is still at the version read (tag ``case``). ``due_at``: the SLA
        due time that orders it in its queue's backlog."""
        condition = CaseItem.id.does_not_exist() if read_version is None else CaseItem.version == read_version
        item = CaseItem(
            case.id,
            body=case_json(case),
            version=case.version,
            citizen_id=case.citizen_id,
            opened_at=case.opened_at,
            waiting_queue=case.queue if case.waiting else None,
            queue_rank=backlog_rank(case, due_at) if case.waiting else None,
            assignee=case.assignee if case.active else None,
            sla_shard=sla_shard(case.id) if case.sla_next_at else None,
            sla_next_at=case.sla_next_at,
            resolved_month=resolved_month(case.resolved_at) if case.resolved_at else None,
            resolved_at=case.resolved_at,
        )
        uow.put(item, condition=condition, tag="case")

    def stage_erase(self, uow: UnitOfWork, case: Case) -> None:
        uow.delete(CaseItem(case.id), tag="case-erasure")

    def stage_config(self, uow: UnitOfWork, config: AreaConfig, current: int | None) -> None:
        """The new version in force (if the one read is still in force) and kept in the history."""
        condition = CaseItem.id.does_not_exist() if current is None else CaseItem.version == current
        body = config.model_dump_json()
        uow.put(CaseItem(f"config#{config.area}", body=body, version=config.version), condition=condition,
                tag="case-config")  # fmt: skip
        uow.put(CaseItem(f"config#{config.area}#v{config.version}", body=body, version=config.version),
                condition=CaseItem.id.does_not_exist(), tag="case-config-version")  # fmt: skip

    def stage_agent(self, uow: UnitOfWork, agent: AgentState, before: AgentState | None = None) -> None:
        """The agent's state one version up (condition: still at the version read), and the rosters of the queues
        they joined or left."""
        version = agent.version or 0
        condition = CaseItem.id.does_not_exist() if before is None else CaseItem.version == version
        body = json.dumps(
            {"id": agent.id, "level": agent.level, "area": agent.area, "presence": agent.presence,
             "capacity": agent.capacity, "load": agent.load, "queues": list(agent.queues)}
        )  # fmt: skip
        uow.put(CaseItem(f"agent#{agent.id}", body=body, version=version + 1), condition=condition, tag="case-agent")
        roster.stage_moves(uow, RosterItem, agent.id, before.queues if before else (), agent.queues, "case-roster")
