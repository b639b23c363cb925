"""Spark's clusters written back as C360 golden records, through the same decisions and storage writes as a
record arriving by event (ADR 0037; ADR 0008 left this batch write-back unbuilt).

What Spark decided is a clustering; what C360 stores is, per record, a link with its method, score and
evidence, the golden record after survivorship, the document claim, the record's block items and the block
heads' claims, a review when one is due, and a ``citizen.updated`` event for the domains that project it.
So the write-back does NOT write clusters as such: it replays each cluster through ``service.resolve`` and
``handlers.stage_upsert`` — the event path's own decision and unit of work — with the verdict Spark's pairs
give instead of the block reads and candidate scoring the event path does:

- the records of a cluster are taken in breadth-first order over its pairs at the auto-merge threshold, so
  each record after the first has a record before it that it matched (its *parent*);
- the first record is a new golden record; each later one is scored against its parent by the SAME model in
  Python (``Model.score``: the evidence stored on the link is the event path's) and decided by
  ``Model.decide`` — so C360's vetoes (two valid documents, a given name, surnames or birth date that
  disagree), which Splink's clustering does not have, still turn a merge into a review: the record then
  starts a golden record of its own with a review of the pair, as on the event path;
- a record whose valid document the cluster's golden record already holds joins it by document;
- each record is one unit of work (its golden record versioned, its block heads incremented unconditionally,
  as a record that joins without comparing does): a concurrent record arriving by event that read a block
  before a write-back unit committed is decided again (block claims, ADR 0008 addendum); a document already
  claimed by a golden record outside the load cancels that record's unit and it is sent to ``fallback``
  (the event path) instead of being half-written.

Records already linked (an earlier load) are the event path's too: the bulk load is for records C360 does
not hold yet. ``write_back`` returns how many were written and which went to the fallback.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from events.citizen import CitizenRecordUpserted
from functions.citizen import handlers, matching, service
from functions.citizen.service import CitizenStore, Golden, Link
from functions.core.errors import ConflictError


@dataclass
class WriteBack:
    """What a write-back did: records written (by method), golden records created, reviews opened, records
    left to the event path (``fallback``: their keys) and why."""

    written: int = 0
    goldens: int = 0
    reviews: int = 0
    methods: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    fallback: list[str] = field(default_factory=list)


def bfs_order(members: Iterable[str], pairs: Iterable[tuple[str, str]]) -> list[tuple[str, str | None]]:
    """The cluster's records, each with the record before it that it matched (None for the first), breadth
    first from the smallest key (deterministic: the same clusters give the same golden records' history)."""
    neighbours: dict[str, set[str]] = defaultdict(set)
    for a, b in pairs:
        neighbours[a].add(b)
        neighbours[b].add(a)
    left = set(members)
    order: list[tuple[str, str | None]] = []
    while left:  # a cluster is connected; a member without pairs (never from Splink) starts its own component
        start = min(left)
        left.discard(start)
        order.append((start, None))
        queue = deque([start])
        while queue:
            current = queue.popleft()
            for nxt in sorted(neighbours[current] & left):
                left.discard(nxt)
                order.append((nxt, current))
                queue.append(nxt)
    return order


def write_back(
    store: CitizenStore,
    model: matching.Model,
    clusters: Mapping[str, str],
    pairs: Iterable[tuple[str, str, float]],
    records: Mapping[str, dict[str, Any]],
    *,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> WriteBack:
    """Write every cluster (``clusters``: record key → cluster id; ``pairs``: Spark's scored pairs;
    ``records``: each key's record as ``citizen.record.upserted`` carries it) as golden records."""
    members: dict[str, list[str]] = defaultdict(list)
    for key, cluster in clusters.items():
        members[cluster].append(key)
    linked: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for left, right, probability in pairs:
        if probability >= model.thresholds.auto_merge and clusters.get(left) == clusters.get(right):
            linked[clusters[left]].append((left, right))
    done = WriteBack()
    for cluster in sorted(members):
        _write_cluster(store, model, bfs_order(members[cluster], linked[cluster]), records, now, done)
    return done


@dataclass
class _Golden:
    """A golden record being built: its committed state (version as stored) and its links."""

    golden: Golden
    links: list[Link]


def _write_cluster(
    store: CitizenStore,
    model: matching.Model,
    order: list[tuple[str, str | None]],
    records: Mapping[str, dict[str, Any]],
    now: Callable[[], datetime],
    done: WriteBack,
) -> None:
    features = {key: matching.features_from_dict(key, records[key]) for key, _ in order}
    home: dict[str, str] = {}  # record key → the golden record it went to
    goldens: dict[str, _Golden] = {}
    documents: dict[str, str] = {}  # a valid document's digits → the golden record holding it
    for key, parent in order:
        source, _, local_id = key.rpartition("#")
        record = CitizenRecordUpserted.model_validate(records[key])
        if store.fetch_citizen_of(source, local_id) is not None:
            done.fallback.append(key)  # already in C360: the event path's rule 1
            continue
        digits = features[key].doc_digits
        owner = documents.get(digits) if digits else None
        verdict = None
        if owner is None:
            verdict = matching.Verdict("no-match", None, None)
            if parent is not None and parent in home:
                score = model.score(features[key], features[parent])
                verdict = matching.Verdict(model.decide(score), home[parent], score)
        target = owner or (verdict.citizen_id if verdict and verdict.decision == "match" else None)
        state = goldens.get(target) if target else None
        outcome = service.resolve(
            source,
            record,
            existing=None,
            document_owner=owner,
            golden=state.golden if state else None,
            other_links=state.links if state else [],
            now=now(),
            verdict=verdict,
        )
        keys = matching.blocking_keys(features[key])
        claims = service.block_claims(keys, None)  # joined without reading: heads incremented unconditionally
        uow = handlers.stage_upsert(store, outcome, keys, set(), claims, None, None)
        try:
            uow.commit()
        except ConflictError:  # a document claimed outside the load, or a concurrent change: the event path
            done.fallback.append(key)
            continue
        citizen_id = outcome.link.citizen_id
        version = 1 if outcome.golden.version is None else outcome.golden.version + 1
        links = [*(state.links if state else []), outcome.link]
        goldens[citizen_id] = _Golden(replace(outcome.golden, version=version), links)
        home[key] = citizen_id
        if outcome.claim_document is not None and digits:
            documents[digits] = citizen_id
        done.written += 1
        done.goldens += state is None
        done.reviews += outcome.review is not None
        done.methods[outcome.link.method] += 1
