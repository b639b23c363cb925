"""In-memory fakes of the campaign domain's ports: a ``CampaignStore`` over the shared ``Ledger`` (versioned items
lose their race as the DynamoDB conditions make them), a directory as the object store, NOT's templates as a
dictionary. The handlers' unit tests run on them with the real segment engine and the embedded policy."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from functions.campaign.audience import AudienceRow
from functions.campaign.handlers import CampaignPorts, TemplateInfo
from functions.campaign.service import Campaign, Delta, Held, Segment
from functions.core.links import RecordLinks
from functions.core.policy import Policy
from functions.core.store import UnitOfWork
from tests.unit.fakes import FixedClock, Ledger

NOW = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)


@dataclass
class FakeCampaignStore:
    ledger: Ledger = field(default_factory=Ledger)
    audience: dict[str, Held] = field(default_factory=dict)
    segments: dict[str, Segment] = field(default_factory=dict)
    deltas: dict[tuple[str, str], Delta] = field(default_factory=dict)
    campaigns: dict[str, Campaign] = field(default_factory=dict)
    counters: dict[str, dict[str, int]] = field(default_factory=dict)
    conversions: dict[str, set[str]] = field(default_factory=dict)  # who -> {"<campaign>#<kind>"}
    records: dict[tuple[str, str], RecordLinks] = field(default_factory=dict)
    reads: int = 0

    def commit(self, uow: UnitOfWork) -> None:
        self.ledger.commit(uow)

    def fetch_audience(self, citizen_id: str) -> Held | None:
        self.reads += 1
        held = self.audience.get(citizen_id)
        return replace(held, version=self.ledger.version(f"aud#{citizen_id}")) if held else None

    def stage_audience(self, uow: UnitOfWork, held: Held) -> None:
        key = held.row.citizen_id
        self.ledger.stage(uow, f"aud#{key}", held.version, lambda: self.audience.__setitem__(key, held))

    def stage_erase_audience(self, uow: UnitOfWork, citizen_id: str) -> None:
        def apply() -> None:
            self.audience.pop(citizen_id, None)
            self.conversions.pop(citizen_id, None)

        self.ledger.stage(uow, f"aud#{citizen_id}", None, apply, any_version=True, deletes=True)

    def scan_audience(self, segments: int = 4) -> Iterable[AudienceRow]:
        return [h.row for h in self.audience.values()]

    def fetch_record(self, source: str, local_id: str) -> RecordLinks:
        self.reads += 1
        found = self.records.get((source, local_id))
        version = self.ledger.version(f"rec#{source}|{local_id}")
        return replace(found, version=version) if found else RecordLinks(source, local_id)

    def stage_record(self, uow: UnitOfWork, links: RecordLinks) -> None:
        key = (links.source, links.local_id)
        apply = lambda: self.records.__setitem__(key, links)  # noqa: E731
        self.ledger.stage(uow, f"rec#{key[0]}|{key[1]}", links.version, apply)

    def stage_erase_record(self, uow: UnitOfWork, source: str, local_id: str) -> None:
        apply = lambda: self.records.pop((source, local_id), None)  # noqa: E731
        self.ledger.stage(uow, f"rec#{source}|{local_id}", None, apply, any_version=True, deletes=True)

    def fetch_segment(self, segment_id: str) -> Segment | None:
        found = self.segments.get(segment_id)
        return replace(found, revision=self.ledger.version(f"seg#{segment_id}")) if found else None

    def fetch_segments(self) -> list[Segment]:
        return [s for s in (self.fetch_segment(i) for i in sorted(self.segments)) if s is not None]

    def stage_segment(self, uow: UnitOfWork, segment: Segment) -> None:
        apply = lambda: self.segments.__setitem__(segment.id, segment)  # noqa: E731
        self.ledger.stage(uow, f"seg#{segment.id}", segment.revision, apply)

    def fetch_delta(self, segment_id: str, citizen_id: str) -> Delta | None:
        self.reads += 1
        return self.deltas.get((segment_id, citizen_id))

    def fetch_deltas(self, segment_id: str) -> list[Delta]:
        return [d for (s, _), d in sorted(self.deltas.items()) if s == segment_id]

    def stage_delta(self, uow: UnitOfWork, delta: Delta) -> None:
        key = (delta.segment_id, delta.citizen_id)
        self.ledger.stage(uow, f"delta#{key}", None, lambda: self.deltas.__setitem__(key, delta), any_version=True)

    def stage_drop_delta(self, uow: UnitOfWork, delta: Delta) -> None:
        key = (delta.segment_id, delta.citizen_id)
        self.ledger.stage(uow, f"delta#{key}", None, lambda: self.deltas.pop(key, None), any_version=True)

    def fetch_campaign(self, campaign_id: str) -> Campaign | None:
        found = self.campaigns.get(campaign_id)
        return replace(found, revision=self.ledger.version(f"cmp#{campaign_id}")) if found else None

    def fetch_campaigns(self) -> list[Campaign]:
        return [c for c in (self.fetch_campaign(i) for i in self.campaigns) if c is not None]

    def fetch_active(self) -> list[Campaign]:
        return [c for c in self.fetch_campaigns() if c.state in ("scheduled", "running")]

    def stage_campaign(self, uow: UnitOfWork, campaign: Campaign) -> None:
        apply = lambda: self.campaigns.__setitem__(campaign.id, campaign)  # noqa: E731
        self.ledger.stage(uow, f"cmp#{campaign.id}", campaign.revision, apply)

    def stage_counters(self, uow: UnitOfWork, campaign_id: str, shard: int, keys: list[str]) -> None:
        def apply() -> None:
            mine = self.counters.setdefault(campaign_id, {})
            for key in keys:
                mine[key] = mine.get(key, 0) + 1

        self.ledger.stage(uow, f"imp#{campaign_id}#{shard}#{keys}", None, apply, any_version=True)

    def fetch_counters(self, campaign_id: str) -> dict[str, int]:
        return dict(self.counters.get(campaign_id, {}))

    def fetch_conversion(self, who: str, campaign_id: str, kind: str) -> bool:
        return f"{campaign_id}#{kind}" in self.conversions.get(who, set())

    def stage_conversion(self, uow: UnitOfWork, who: str, campaign_id: str, kind: str, at: datetime) -> None:
        apply = lambda: self.conversions.setdefault(who, set()).add(f"{campaign_id}#{kind}")  # noqa: E731
        self.ledger.stage(uow, f"conv#{who}#{campaign_id}#{kind}", None, apply)


@dataclass
class DirFiles:
    root: Path
    clock: FixedClock
    stamps: dict[str, datetime] = field(default_factory=dict)

    def local(self, key: str) -> Path:
        path = self.root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def publish(self, key: str, path: object) -> None:
        self.stamps[key] = self.clock.now()

    def modified(self, key: str) -> datetime | None:
        return self.stamps.get(key)


@dataclass
class FakeTemplates:
    known: dict[str, TemplateInfo] = field(default_factory=dict)

    def describe(self, template_id: str, token: str | None, traceparent: str | None) -> TemplateInfo | None:
        return self.known.get(template_id)


def make_ports(
    tmp: Path, policy: Policy, **templates: TemplateInfo
) -> tuple[CampaignPorts, FakeCampaignStore, FixedClock]:
    store = FakeCampaignStore()
    clock = FixedClock(NOW)
    known = {"camp-aviso": TemplateInfo("campaigns", ("district_name",)), **templates}
    ports = CampaignPorts(
        store=store, files=DirFiles(tmp, clock), policy=policy, clock=clock, templates=FakeTemplates(known),
        api_url="https://pic.example", export_max_age=timedelta(minutes=1),
    )  # fmt: skip
    return ports, store, clock


def commit(store: FakeCampaignStore, uow: UnitOfWork) -> None:
    store.commit(uow)
