"""The campaign domain's DynamoDB adapter (table ``campaign``, ADR 0002: one table per domain).

Items, by partition key ``pk`` and sort key ``sk``:
- ``aud#<citizen_id>`` / ``-``: one citizen's audience row (JSON), the time of the event applied to each part,
  a version (a lost race is decided again);
- ``seg#<id>`` / ``-``: a saved segment (its filter versions, its snapshot's key, watermark and counts);
  ``seg#<id>`` / ``delta#<citizen_id>``: a saved segment's delta since its snapshot (one Query reads them);
- ``cmp#<id>`` / ``-``: a campaign (its request, state, run, cursor and history), under a revision; scheduled
  and running ones carry ``active`` (the sparse index ``active`` the dispatcher reads each tick);
- ``imp#<campaign>#<shard>`` / ``<metric>|<channel>|<district>|<variant>``: the impact counters (ADD), spread
  over ``service.IMPACT_SHARDS`` partitions so that a city-wide campaign's status events share the write load;
- ``rec#<source>|<local_id>`` / ``-``: an area system's record: the golden record C360 last linked it to and
  its items (the relationships they give; ``service.with_item``), under a version;
- ``conv#<citizen_id>`` (or ``conv#resp:<response id>`` for an anonymous survey answer) / ``<campaign>#<kind>``:
  a conversion counted once (erased with the person's audience row).
Segments and campaigns also carry ``kind`` + ``created_at`` (index ``by-kind``: the lists).
"""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Iterator
from dataclasses import asdict
from datetime import date, datetime
from typing import Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection

from functions.campaign.audience import AudienceRow
from functions.campaign.service import CASES, Campaign, CampaignPost, Delta, Held, HistoryEntry, Segment
from functions.core.links import RecordLinks
from functions.core.store import StoreModel, UnitOfWork, defines_table, from_iso, model_meta, to_iso

ONE = "-"
SCAN_BATCH = 1_000  # audience rows a scan thread hands over at once


class ByKind(GlobalSecondaryIndex["CampaignItem"]):  # type: ignore[no-untyped-call]
    """Segments and campaigns, newest last: the lists (audience rows and counters carry no ``kind``)."""

    class Meta:
        index_name = "by-kind"
        projection = AllProjection()

    kind = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


class Active(GlobalSecondaryIndex["CampaignItem"]):  # type: ignore[no-untyped-call]
    """Campaigns scheduled or running (sparse: the attribute goes when a campaign pauses or ends)."""

    class Meta:
        index_name = "active"
        projection = KeysOnlyProjection()

    active = UnicodeAttribute(hash_key=True)
    pk = UnicodeAttribute(range_key=True)


@defines_table
class CampaignItem(StoreModel):
    Meta = model_meta("campaign")

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    body = UnicodeAttribute(null=True)  # JSON: the row, the segment, the campaign or the delta
    times = UnicodeAttribute(null=True)  # audience rows: part -> ISO time of the event applied
    version = NumberAttribute(null=True)
    n = NumberAttribute(null=True)  # counters
    kind = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute(null=True)
    active = UnicodeAttribute(null=True)

    by_kind = ByKind()
    active_index = Active()


# ---- (de)serialising --------------------------------------------------------------------------------


def _row_json(row: AudienceRow) -> str:
    return json.dumps(asdict(row), default=str, separators=(",", ":"))


def _row(raw: str) -> AudienceRow:
    data = json.loads(raw)
    birth = data.get("birth_date")
    last = data.get("last_interaction")
    return AudienceRow(
        citizen_id=data["citizen_id"],
        birth_date=date.fromisoformat(birth) if birth else None,
        language=data.get("language") or "es",
        district=data.get("district"),
        barrio=data.get("barrio"),
        zones=tuple(data.get("zones") or ()),
        relations=tuple(data.get("relations") or ()),
        channels=tuple(data.get("channels") or ()),
        quiet_hours=data.get("quiet_hours"),
        consents=data.get("consents") or {},
        restricted=bool(data.get("restricted")),
        objections=tuple(data.get("objections") or ()),
        reachable=tuple(data.get("reachable") or ()),
        last_interaction=datetime.fromisoformat(last) if last else None,
        # a row stored before holdings were kept had only its cases' relations
        holdings={k: tuple(v) for k, v in (data.get("holdings") or _cases_only(data)).items()},
    )


def _cases_only(data: dict[str, Any]) -> dict[str, list[str]]:
    relations = data.get("relations") or []
    return {CASES: relations} if relations else {}


def _segment_json(segment: Segment) -> str:
    return json.dumps({
        "id": segment.id, "name": segment.name, "versions": list(segment.versions), "purpose": segment.purpose,
        "created_by": segment.created_by, "created_at": to_iso(segment.created_at),
        "updated_at": to_iso(segment.updated_at), "snapshot": segment.snapshot,
        "snapshot_at": to_iso(segment.snapshot_at), "snapshot_counts": segment.snapshot_counts,
    })  # fmt: skip


def _segment(item: CampaignItem) -> Segment:
    data = json.loads(item.body or "{}")
    created, updated = from_iso(data["created_at"]), from_iso(data["updated_at"])
    assert created is not None and updated is not None
    return Segment(
        id=data["id"], name=data["name"], versions=tuple(data["versions"]), purpose=data["purpose"],
        created_by=data["created_by"], created_at=created, updated_at=updated, snapshot=data.get("snapshot"),
        snapshot_at=from_iso(data.get("snapshot_at")), snapshot_counts=data.get("snapshot_counts") or {},
        revision=int(item.version or 0),
    )  # fmt: skip


def _campaign_json(campaign: Campaign) -> str:
    return json.dumps({
        "id": campaign.id, "post": campaign.post.model_dump(mode="json"), "state": campaign.state,
        "created_by": campaign.created_by, "created_at": to_iso(campaign.created_at),
        "segment_version": campaign.segment_version, "city_wide": campaign.city_wide,
        "targeted_estimate": campaign.targeted_estimate, "history": [h.view() for h in campaign.history],
        "approved_by": campaign.approved_by, "run": campaign.run, "run_at": to_iso(campaign.run_at),
        "snapshot": campaign.snapshot, "snapshot_at": to_iso(campaign.snapshot_at), "cursor": campaign.cursor,
        "delta_cursor": campaign.delta_cursor, "phase": campaign.phase, "targeted": campaign.targeted,
        "dispatched": campaign.dispatched, "skipped": campaign.skipped, "tokens": campaign.tokens,
        "tokens_at": to_iso(campaign.tokens_at),
    })  # fmt: skip


def _campaign(item: CampaignItem) -> Campaign:
    data = json.loads(item.body or "{}")
    created = from_iso(data["created_at"])
    assert created is not None
    history = tuple(
        HistoryEntry(h["action"], h["by"], datetime.fromisoformat(h["at"]), h.get("detail", ""))
        for h in data["history"]
    )
    return Campaign(
        id=data["id"], post=CampaignPost.model_validate(data["post"]), state=data["state"],
        created_by=data["created_by"], created_at=created, segment_version=int(data["segment_version"]),
        city_wide=bool(data["city_wide"]), targeted_estimate=int(data["targeted_estimate"]), history=history,
        approved_by=data.get("approved_by"), run=int(data.get("run", 0)), run_at=from_iso(data.get("run_at")),
        snapshot=data.get("snapshot"), snapshot_at=from_iso(data.get("snapshot_at")), cursor=int(data.get("cursor", 0)),
        delta_cursor=data.get("delta_cursor"), phase=data.get("phase", "snapshot"),
        targeted=int(data.get("targeted", 0)), dispatched=int(data.get("dispatched", 0)),
        skipped=int(data.get("skipped", 0)), tokens={k: float(v) for k, v in (data.get("tokens") or {}).items()},
        tokens_at=from_iso(data.get("tokens_at")), revision=int(item.version or 0),
    )  # fmt: skip


def _delta_json(delta: Delta) -> str:
    return json.dumps({**asdict(delta), "at": delta.at.isoformat()})


def _delta(item: CampaignItem) -> Delta:
    data = json.loads(item.body or "{}")
    return Delta(**{**data, "at": datetime.fromisoformat(data["at"])})


class DynamoCampaignStore:
    """The campaign domain's port (``service.CampaignStore``) on DynamoDB."""

    # ---- the audience projection ----

    def fetch_audience(self, citizen_id: str) -> Held | None:
        try:
            item = CampaignItem.get(f"aud#{citizen_id}", ONE, consistent_read=True)
        except CampaignItem.DoesNotExist:
            return None
        return Held(_row(item.body or "{}"), json.loads(item.times or "{}"), int(item.version or 0))

    def stage_audience(self, uow: UnitOfWork, held: Held) -> None:
        """The whole row, one version up, if still at the version read (tag ``campaign-audience``)."""
        condition = CampaignItem.pk.does_not_exist() if held.version is None else CampaignItem.version == held.version
        item = CampaignItem(
            f"aud#{held.row.citizen_id}", ONE, body=_row_json(held.row), times=json.dumps(held.times),
            version=(held.version or 0) + 1,
        )  # fmt: skip
        uow.put(item, condition=condition, tag="campaign-audience")

    def stage_erase_audience(self, uow: UnitOfWork, citizen_id: str) -> None:
        """The row, and the markers of the person's conversions (read here: one Query of their partition)."""
        uow.delete(CampaignItem(f"aud#{citizen_id}", ONE), tag="campaign-audience-erasure")
        for item in CampaignItem.query(f"conv#{citizen_id}", consistent_read=True):
            uow.delete(CampaignItem(item.pk, item.sk), tag="campaign-audience-erasure")

    def fetch_record(self, source: str, local_id: str) -> RecordLinks:
        try:
            item = CampaignItem.get(f"rec#{source}|{local_id}", ONE, consistent_read=True)
        except CampaignItem.DoesNotExist:
            return RecordLinks(source, local_id)
        data = json.loads(item.body or "{}")
        return RecordLinks(
            source, local_id, citizen_id=data.get("citizen_id"), linked_at=from_iso(data.get("linked_at")),
            members=frozenset(data.get("members") or ()), version=int(item.version or 0),
        )  # fmt: skip

    def stage_record(self, uow: UnitOfWork, links: RecordLinks) -> None:
        """The record, one version up, if still at the version read (tag ``campaign-record``)."""
        condition = CampaignItem.pk.does_not_exist() if links.version is None else CampaignItem.version == links.version
        body = {
            "citizen_id": links.citizen_id,
            "linked_at": to_iso(links.linked_at),
            "members": sorted(links.members),
        }
        item = CampaignItem(
            f"rec#{links.source}|{links.local_id}", ONE, body=json.dumps(body, separators=(",", ":")),
            version=(links.version or 0) + 1,
        )  # fmt: skip
        uow.put(item, condition=condition, tag="campaign-record")

    def stage_erase_record(self, uow: UnitOfWork, source: str, local_id: str) -> None:
        uow.delete(CampaignItem(f"rec#{source}|{local_id}", ONE), tag="campaign-audience-erasure")

    def scan_audience(self, segments: int = 4) -> Iterator[AudienceRow]:
        """A parallel Scan (``segments`` threads) of the audience rows, the columnar export's input, streamed: the
        threads hand batches through a bounded queue, so the export holds a few thousand rows at a time, not the
        city (3.5 M rows as Python objects would not fit the export CronJob's memory)."""
        batches: queue.Queue[list[AudienceRow] | BaseException | None] = queue.Queue(maxsize=2 * segments)
        stop = threading.Event()

        def hand(batch: list[AudienceRow] | BaseException | None) -> bool:
            while not stop.is_set():  # a reader that gave up (an error downstream) lets the thread end
                try:
                    batches.put(batch, timeout=0.5)
                    return True
                except queue.Full:
                    continue
            return False

        def part(segment: int) -> None:
            try:
                batch: list[AudienceRow] = []
                found = CampaignItem.scan(
                    CampaignItem.pk.startswith("aud#"), segment=segment, total_segments=segments,
                    attributes_to_get=["pk", "body"],
                )  # fmt: skip
                for item in found:
                    batch.append(_row(item.body or "{}"))
                    if len(batch) >= SCAN_BATCH:
                        if not hand(batch):
                            return
                        batch = []
                if batch and not hand(batch):
                    return
                hand(None)  # this segment is done
            except Exception as exc:  # the reader raises it: an export never silently misses a segment
                hand(exc)

        threads = [threading.Thread(target=part, args=(n,), daemon=True) for n in range(segments)]
        for thread in threads:
            thread.start()
        try:
            finished = 0
            while finished < segments:
                got = batches.get()
                if got is None:
                    finished += 1
                elif isinstance(got, BaseException):
                    raise got
                else:
                    yield from got
        finally:
            stop.set()

    # ---- segments ----

    def fetch_segment(self, segment_id: str) -> Segment | None:
        try:
            return _segment(CampaignItem.get(f"seg#{segment_id}", ONE, consistent_read=True))
        except CampaignItem.DoesNotExist:
            return None

    def fetch_segments(self) -> list[Segment]:
        """Every saved segment (one Query of ``by-kind``: the projection asks on every event, a small partition)."""
        return [_segment(item) for item in CampaignItem.by_kind.query("segment")]

    def stage_segment(self, uow: UnitOfWork, segment: Segment) -> None:
        condition = (
            CampaignItem.pk.does_not_exist() if segment.revision is None else CampaignItem.version == segment.revision
        )
        item = CampaignItem(
            f"seg#{segment.id}", ONE, body=_segment_json(segment), version=(segment.revision or 0) + 1,
            kind="segment", created_at=segment.created_at.isoformat(),
        )  # fmt: skip
        uow.put(item, condition=condition, tag="campaign-segment")

    def fetch_delta(self, segment_id: str, citizen_id: str) -> Delta | None:
        try:
            return _delta(CampaignItem.get(f"seg#{segment_id}", f"delta#{citizen_id}", consistent_read=True))
        except CampaignItem.DoesNotExist:
            return None

    def fetch_deltas(self, segment_id: str) -> list[Delta]:
        found = CampaignItem.query(f"seg#{segment_id}", CampaignItem.sk.startswith("delta#"), consistent_read=True)
        return [_delta(item) for item in found]

    def stage_delta(self, uow: UnitOfWork, delta: Delta) -> None:
        """The latest event time wins: an older delta does not overwrite a newer one."""
        item = CampaignItem(f"seg#{delta.segment_id}", f"delta#{delta.citizen_id}", body=_delta_json(delta))
        uow.put(item, tag="campaign-delta")

    def stage_drop_delta(self, uow: UnitOfWork, delta: Delta) -> None:
        uow.delete(CampaignItem(f"seg#{delta.segment_id}", f"delta#{delta.citizen_id}"), tag="campaign-delta")

    # ---- campaigns ----

    def fetch_campaign(self, campaign_id: str) -> Campaign | None:
        try:
            return _campaign(CampaignItem.get(f"cmp#{campaign_id}", ONE, consistent_read=True))
        except CampaignItem.DoesNotExist:
            return None

    def fetch_campaigns(self) -> list[Campaign]:
        return [_campaign(item) for item in CampaignItem.by_kind.query("campaign", scan_index_forward=False)]

    def fetch_active(self) -> list[Campaign]:
        keys = [str(item.pk) for item in CampaignItem.active_index.query("active")]
        found = [self.fetch_campaign(key.removeprefix("cmp#")) for key in keys]
        return [c for c in found if c is not None]

    def stage_campaign(self, uow: UnitOfWork, campaign: Campaign) -> None:
        """The campaign one revision up, if still at the revision read (tag ``campaign``): two dispatchers, or a
        dispatcher and a manager's pause, never both commit on the same revision."""
        condition = (
            CampaignItem.pk.does_not_exist() if campaign.revision is None else CampaignItem.version == campaign.revision
        )
        item = CampaignItem(
            f"cmp#{campaign.id}", ONE, body=_campaign_json(campaign), version=(campaign.revision or 0) + 1,
            kind="campaign", created_at=campaign.created_at.isoformat(),
            active="active" if campaign.state in ("scheduled", "running") else None,
        )  # fmt: skip
        uow.put(item, condition=condition, tag="campaign")

    # ---- impact ----

    def stage_counters(self, uow: UnitOfWork, campaign_id: str, shard: int, keys: list[str]) -> None:
        for key in keys:
            uow.update(CampaignItem(f"imp#{campaign_id}#{shard}", key), actions=[CampaignItem.n.add(1)],
                       tag="campaign-impact")  # fmt: skip

    def fetch_conversion(self, who: str, campaign_id: str, kind: str) -> bool:
        try:
            CampaignItem.get(f"conv#{who}", f"{campaign_id}#{kind}", consistent_read=True)
        except CampaignItem.DoesNotExist:
            return False
        return True

    def stage_conversion(self, uow: UnitOfWork, who: str, campaign_id: str, kind: str, at: datetime) -> None:
        uow.put(CampaignItem(f"conv#{who}", f"{campaign_id}#{kind}", created_at=at.isoformat()),
                condition=CampaignItem.pk.does_not_exist(), tag="campaign-conversion")  # fmt: skip

    def fetch_counters(self, campaign_id: str) -> dict[str, int]:
        from functions.campaign.service import IMPACT_SHARDS

        found: dict[str, int] = {}
        for shard in range(IMPACT_SHARDS):
            for item in CampaignItem.query(f"imp#{campaign_id}#{shard}"):
                found[str(item.sk)] = found.get(str(item.sk), 0) + int(item.n or 0)
        return found
