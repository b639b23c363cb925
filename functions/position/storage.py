"""Global position storage: one DynamoDB table ``position``, keys ``pk`` + ``sk``, built only from events.

Item kinds:
- ``pk=rec#<source>#<local_id>``, ``sk=link``: which golden record an area system's record belongs to
  (from ``citizen.updated.v1``; replaced only by a later ``updated_at``);
- ``pk=rec#<source>#<local_id>``, ``sk=bundle``: every fact about that record (area facts, interactions
  recorded against it) in one versioned item, folded in Python (``service.fold``) and written with a
  version condition. Facts never move: a merge or un-merge moves only the membership;
- ``pk=cit#<citizen_id>``, ``sk=member#<source>#<local_id>``: the records a golden record has now;
- ``pk=cit#<citizen_id>``, ``sk=item#<section>#<key>``: facts about the golden record itself (consents,
  interactions recorded with a ``citizen_id``);
- ``pk=cit#<citizen_id>``, ``sk=flags``: the citizen's RGPD restriction flag (from ``rgpd.flags.changed.v1``;
  replaced only by a later ``changed_at``), read by the same Query as the position, so honouring it costs
  no round trip;
- ``pk=cit#<citizen_id>``, ``sk=erased``: the erasure marker (request id, ``erased_at``), written with the
  erasure: the projections do not re-create facts from before it (``service.erased_before``, ADR 0012).
Reading a position is one Query on ``cit#`` and one BatchGetItem of its records' bundles: two round trips
whatever the number of linked records (a Query per record cost one round trip each).
"""

from __future__ import annotations

import json
from datetime import datetime

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.expressions.condition import Condition

from functions.core.store import StoreModel, UnitOfWork, defines_table, model_meta
from functions.position.service import Flags, Held, Item, Link, Marker, item_from_json, item_to_json, micros

LINK = "link"
BUNDLE = "bundle"
FLAGS = "flags"
ERASED = "erased"
ITEM = "item#"
MEMBER = "member#"
BATCH_GET_LIMIT = 100


def record_pk(source: str, local_id: str) -> str:
    return f"rec#{source}#{local_id}"


def citizen_pk(citizen_id: str) -> str:
    return f"cit#{citizen_id}"


def item_sk(item: Item) -> str:
    return f"{ITEM}{item.section}#{item.key}"


@defines_table
class PositionRow(StoreModel):
    """Every item kind of the table in one model (attributes of other kinds are absent), so that one Query
    reads a whole partition with whatever kinds it holds."""

    Meta = model_meta("position")

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    # links
    citizen_id = UnicodeAttribute(null=True)
    updated_at = UTCDateTimeAttribute(null=True)
    # links and facts: the fold order (microseconds) and its tie-break
    order_us = NumberAttribute(null=True)
    digest = UnicodeAttribute(null=True)
    # members and facts
    source = UnicodeAttribute(null=True)
    local_id = UnicodeAttribute(null=True)
    # facts
    section = UnicodeAttribute(null=True)
    key = UnicodeAttribute(null=True)
    area = UnicodeAttribute(null=True)
    special_category = BooleanAttribute(null=True)
    as_of = UTCDateTimeAttribute(null=True)
    removed = BooleanAttribute(null=True)
    body = UnicodeAttribute(null=True)  # JSON
    # bundles: a record's facts, JSON {"<section>#<key>": item}, and the optimistic-lock version
    facts = UnicodeAttribute(null=True)
    bundle_version = NumberAttribute(null=True)
    # flags: the RGPD art. 18 restriction, as of changed_at (order_us)
    restricted = BooleanAttribute(null=True)
    changed_at = UTCDateTimeAttribute(null=True)
    # the erasure marker: which request erased the person, and when (order_us)
    request_id = UnicodeAttribute(null=True)
    erased_at = UTCDateTimeAttribute(null=True)


def _newer_than(order: tuple[int, str]) -> Condition:
    """The write's guard: absent, or strictly older in (time, tie-break) than what is written."""
    at, key = order
    row = PositionRow
    guard: Condition = row.pk.does_not_exist() | (row.order_us < at) | ((row.order_us == at) & (row.digest < key))
    return guard


class DynamoPositionStore:
    """The position's port (``service.PositionStore``) on DynamoDB: ``fetch_`` reads, ``stage_`` adds writes
    to a unit of work."""

    # ---- links ----

    def fetch_link(self, source: str, local_id: str) -> Link | None:
        try:
            row = PositionRow.get(record_pk(source, local_id), LINK, consistent_read=True)
        except PositionRow.DoesNotExist:
            return None
        updated_at: datetime = row.updated_at
        return Link(source, local_id, str(row.citizen_id), updated_at)

    def stage_link(self, uow: UnitOfWork, link: Link, previous: Link | None) -> None:
        """The new link (guarded by its order) and the membership moved from the previous owner, if any."""
        row = PositionRow(
            record_pk(link.source, link.local_id),
            LINK,
            citizen_id=link.citizen_id,
            updated_at=link.updated_at,
            order_us=micros(link.updated_at),
            digest=link.citizen_id,
        )
        uow.put(row, condition=_newer_than(link.order), tag="position-link")
        member_sk = f"{MEMBER}{link.source}#{link.local_id}"
        if previous is not None and previous.citizen_id != link.citizen_id:
            uow.delete(PositionRow(citizen_pk(previous.citizen_id), member_sk), tag="position-member")
        uow.put(
            PositionRow(citizen_pk(link.citizen_id), member_sk, source=link.source, local_id=link.local_id),
            tag="position-member",
        )

    # ---- facts ----

    def fetch_own_fact_order(self, citizen_id: str, item: Item) -> tuple[int, str] | None:
        """The fold order of the golden record's own fact that ``item`` would replace (``None``: none held)."""
        try:
            row = PositionRow.get(
                citizen_pk(citizen_id), item_sk(item), consistent_read=True, attributes_to_get=["order_us", "digest"]
            )
        except PositionRow.DoesNotExist:
            return None
        return int(row.order_us or 0), str(row.digest or "")

    def stage_own_fact_deleted(self, uow: UnitOfWork, citizen_id: str, item: Item) -> None:
        """Delete the fact ``item`` replaces, if the one stored is older (a withdrawal that must not be shown)."""
        row = PositionRow(citizen_pk(citizen_id), item_sk(item))
        uow.delete(row, condition=_newer_than(item.order), tag="position-item")

    def stage_own_fact(self, uow: UnitOfWork, citizen_id: str, item: Item) -> None:
        """A fact about the golden record itself, unless a later one is stored."""
        row = PositionRow(
            citizen_pk(citizen_id),
            item_sk(item),
            section=item.section,
            key=item.key,
            source=item.source,
            area=item.area,
            special_category=item.special_category,
            as_of=item.as_of,
            order_us=micros(item.as_of),
            digest=item.digest,
            removed=item.removed,
            body=json.dumps(item.body, sort_keys=True),
        )
        uow.put(row, condition=_newer_than(item.order), tag="position-item")

    # ---- a record's facts ----

    def fetch_bundle(self, source: str, local_id: str) -> tuple[dict[str, Item], int | None]:
        """A record's facts by ``<section>#<key>`` and the bundle's version (``None``: no bundle yet)."""
        try:
            row = PositionRow.get(record_pk(source, local_id), BUNDLE, consistent_read=True)
        except PositionRow.DoesNotExist:
            return {}, None
        return _facts_of(row), int(row.bundle_version or 0)

    def stage_bundle(
        self, uow: UnitOfWork, source: str, local_id: str, facts: dict[str, Item], version: int | None
    ) -> None:
        """The record's facts, if nobody changed them since ``version`` was read (else a 409: redelivered)."""
        row = PositionRow(
            record_pk(source, local_id),
            BUNDLE,
            source=source,
            local_id=local_id,
            facts=json.dumps({slot: item_to_json(item) for slot, item in facts.items()}, sort_keys=True),
            bundle_version=(version or 0) + 1,
        )
        guard = PositionRow.pk.does_not_exist() if version is None else PositionRow.bundle_version == version
        uow.put(row, condition=guard, tag="position-bundle")

    # ---- the read path ----

    def fetch_position(self, citizen_id: str) -> list[Item]:
        """Every fact about a golden record: its own, and those of the records linked to it now."""
        return self.fetch_view(citizen_id)[0]

    def fetch_view(self, citizen_id: str) -> tuple[list[Item], Flags]:
        """Every fact about a golden record and its restriction flag: one Query and one BatchGetItem."""
        held = self.fetch_held(citizen_id)
        return [item for items in (held.own, *held.records.values()) for item in items], held.flags

    def fetch_held(self, citizen_id: str) -> Held:
        """Everything the position holds about a golden record, row by row: its own facts, the records linked
        to it with their facts, and its flags (what an RGPD export lists and an erasure deletes)."""
        held = Held()
        members: list[tuple[str, str]] = []
        for row in PositionRow.query(citizen_pk(citizen_id)):
            if row.sk.startswith(MEMBER):
                held.records[(str(row.source), str(row.local_id))] = []
                members.append((record_pk(str(row.source), str(row.local_id)), BUNDLE))
            elif row.sk.startswith(ITEM):
                held.own.append(_item_of(row))
            elif row.sk == FLAGS:
                changed_at: datetime = row.changed_at
                held.flags = Flags(restricted=bool(row.restricted), changed_at=changed_at)
            elif row.sk == ERASED:
                held.marker = _marker_of(row)
        for start in range(0, len(members), BATCH_GET_LIMIT):
            for bundle in PositionRow.batch_get(members[start : start + BATCH_GET_LIMIT]):
                held.records[(str(bundle.source), str(bundle.local_id))] = list(_facts_of(bundle).values())
        return held

    # ---- RGPD: the restriction flag and erasure ----

    def fetch_flags(self, citizen_id: str) -> Flags:
        try:
            row = PositionRow.get(citizen_pk(citizen_id), FLAGS, consistent_read=True)
        except PositionRow.DoesNotExist:
            return Flags()
        changed_at: datetime = row.changed_at
        return Flags(restricted=bool(row.restricted), changed_at=changed_at)

    def stage_flags(self, uow: UnitOfWork, citizen_id: str, flags: Flags) -> None:
        """The flag, unless a later one is stored (latest ``changed_at`` wins; a concurrent one answers 409)."""
        assert flags.changed_at is not None
        at = micros(flags.changed_at)
        row = PositionRow(
            citizen_pk(citizen_id),
            FLAGS,
            restricted=flags.restricted,
            changed_at=flags.changed_at,
            order_us=at,
            digest="",
        )
        uow.put(row, condition=_newer_than((at, "")), tag="position-flags")

    def fetch_marker(self, citizen_id: str) -> Marker | None:
        try:
            return _marker_of(PositionRow.get(citizen_pk(citizen_id), ERASED, consistent_read=True))
        except PositionRow.DoesNotExist:
            return None

    def stage_marker(self, uow: UnitOfWork, citizen_id: str, marker: Marker) -> None:
        """The erasure marker, unless a later erasure's is stored."""
        uow.put(_marker_row(citizen_id, marker), condition=_newer_than(marker.order), tag="position-marker")

    def stage_marker_sources(self, uow: UnitOfWork, citizen_id: str, marker: Marker) -> None:
        """The marker with when each domain erased, if it is still this request's (a later erasure's stays)."""
        condition = PositionRow.request_id == marker.request_id
        uow.put(_marker_row(citizen_id, marker), condition=condition, tag="position-marker")

    def erasure_rows(self, citizen_id: str, held: Held) -> list[PositionRow]:
        """The rows an erasure deletes: the golden record's facts and memberships, and each linked record's
        link and facts (the flags stay: they must keep being honoured)."""
        rows = [PositionRow(citizen_pk(citizen_id), item_sk(item)) for item in held.own]
        for source, local_id in held.records:
            rows.append(PositionRow(citizen_pk(citizen_id), f"{MEMBER}{source}#{local_id}"))
            rows.append(PositionRow(record_pk(source, local_id), LINK))
            rows.append(PositionRow(record_pk(source, local_id), BUNDLE))
        return rows

    def stage_erase(self, uow: UnitOfWork, row: PositionRow) -> None:
        uow.delete(row, tag="position-erasure")


def _marker_row(citizen_id: str, marker: Marker) -> PositionRow:
    at, request_id = marker.order
    sources = {domain: when.isoformat() for domain, when in sorted(marker.sources.items())}
    return PositionRow(
        citizen_pk(citizen_id),
        ERASED,
        request_id=request_id,
        erased_at=marker.erased_at,
        order_us=at,
        digest=request_id,
        body=json.dumps(sources),
    )


def _marker_of(row: PositionRow) -> Marker:
    erased_at: datetime = row.erased_at
    sources = {domain: datetime.fromisoformat(at) for domain, at in json.loads(row.body or "{}").items()}
    return Marker(request_id=str(row.request_id), erased_at=erased_at, sources=sources)


def _facts_of(row: PositionRow) -> dict[str, Item]:
    return {slot: item_from_json(data) for slot, data in json.loads(row.facts or "{}").items()}


def _item_of(row: PositionRow) -> Item:
    as_of: datetime = row.as_of
    return Item(
        section=str(row.section),
        key=str(row.key),
        source=str(row.source),
        area=str(row.area),
        special_category=bool(row.special_category),
        as_of=as_of,
        removed=bool(row.removed),
        body=json.loads(row.body or "{}"),
        digest=str(row.digest or ""),
    )
