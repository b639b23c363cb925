"""C360 merge and un-merge, pure: a merge then the un-merge of any record it brought restores both golden
records and their links exactly (hypothesis), survivorship after a merge, conflicts, and the events."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from itertools import count
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from events.citizen import CitizenMerged, CitizenRecordUpserted, CitizenUnmerged, CitizenUpdated
from functions.citizen import service
from functions.citizen.matching import Score, Verdict
from functions.citizen.service import Golden, Link, MergeConflictError, MergeRecord, MovePlan

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SOURCES = ["/legacy/padron", "/legacy/tributos", "/legacy/multas", "/legacy/deportes", "/legacy/cultura"]
VALID_DNIS = ["48673243E", "12345678Z", "00000000T", "73256039G"]


class City:
    """An in-memory stand-in for the store, applying plans the way ``stage_plan`` writes them."""

    def __init__(self) -> None:
        self.goldens: dict[str, Golden] = {}
        self.links: dict[str, dict[str, Link]] = {}
        self.merges: dict[str, list[MergeRecord]] = {}
        self.ids = count(1)

    def upsert(self, source: str, record: CitizenRecordUpserted, at: datetime, into: str | None = None) -> str:
        """A record linked to ``into`` (as a match would), or to a new golden record."""
        golden = self.goldens.get(into) if into else None
        links = list(self.links.get(into, {}).values()) if into else []
        verdict = Verdict("match", into, Score(20.0, 0.999999, ())) if into else None
        out = service.resolve(
            source,
            record,
            existing=None,
            document_owner=None,
            golden=golden,
            other_links=links,
            now=at,
            new_id=lambda: f"cit-{next(self.ids)}",
            verdict=verdict,
        )
        self.goldens[out.golden.citizen_id] = out.golden
        self.links.setdefault(out.link.citizen_id, {})[out.link.key] = out.link
        return out.link.citizen_id

    def apply(self, plan: MovePlan) -> None:
        for golden in plan.goldens:
            self.goldens[golden.citizen_id] = golden
        if plan.deleted_golden is not None:
            del self.goldens[plan.deleted_golden.citizen_id]
        for before, after in plan.moved:
            del self.links[before.citizen_id][before.key]
            self.links.setdefault(after.citizen_id, {})[after.key] = after
        for cid in [cid for cid, links in self.links.items() if not links]:
            del self.links[cid]
        if plan.keep is not None:
            self.merges.setdefault(plan.keep.citizen_id, []).append(plan.keep)
        if plan.drop is not None:
            self.merges[plan.drop.citizen_id].remove(plan.drop)

    def snapshot(self) -> dict[str, Any]:
        """Everything a reader can see, without the optimistic-lock versions."""
        return {
            cid: (
                dataclasses.replace(golden, version=None),
                sorted((dataclasses.replace(lk, version=None) for lk in self.links.get(cid, {}).values()), key=str),
            )
            for cid, golden in self.goldens.items()
        }

    def merge(self, target: str, absorbed: str, at: datetime) -> MovePlan:
        return service.merge(
            self.goldens[target],
            list(self.links[target].values()),
            self.goldens[absorbed],
            list(self.links[absorbed].values()),
            reason="review",
            score=0.95,
            evidence=["given: exact (+10.00)"],
            by="agent-7",
            now=at,
            review_id="rev-1",
        )

    def unmerge(self, citizen_id: str, key: str, at: datetime) -> MovePlan:
        source, _, local_id = key.rpartition("#")
        return service.unmerge(
            self.goldens[citizen_id],
            list(self.links[citizen_id].values()),
            source,
            local_id,
            self.merges.get(citizen_id, []),
            by="agent-7",
            now=at,
            new_id=lambda: f"cit-{next(self.ids)}",
        )


records = st.fixed_dictionaries(
    {
        "given_name": st.sampled_from(["Inés", "María del Carmen", "José", "Mª Luisa"]),
        "first_surname": st.sampled_from(["Pinilla", "García", "de la Torre"]),
        "second_surname": st.none() | st.sampled_from(["Núñez", "López"]),
        "birth_date": st.none() | st.sampled_from(["1951-12-13", "1987-02-01"]),
        "email": st.none() | st.sampled_from(["a@example.org", "b@example.org"]),
        "phone": st.none() | st.sampled_from(["600112233", "+34 647 20 65 46"]),
        "document": st.none()
        | st.builds(lambda n: {"type": "DNI", "number": n}, st.sampled_from([*VALID_DNIS, "48673243A"])),
    }
)
sides = st.lists(st.tuples(st.sampled_from(SOURCES), records), min_size=1, max_size=4)


def build(a_side: list[tuple[str, dict[str, Any]]], b_side: list[tuple[str, dict[str, Any]]]) -> tuple[City, str, str]:
    city = City()
    a = b = ""
    at = T0
    for side, name in ((a_side, "A"), (b_side, "B")):
        into = None
        for i, (source, data) in enumerate(side):
            at += timedelta(minutes=7)
            rec = CitizenRecordUpserted.model_validate({**data, "local_id": f"{name}{i}"})
            into = city.upsert(source, rec, at, into)
        if name == "A":
            a = into or ""
        else:
            b = into or ""
    return city, a, b


@settings(max_examples=80, deadline=None)
@given(sides, sides, st.data())
def test_merge_then_unmerge_restores_both_records_and_their_links_exactly(
    a_side: list[tuple[str, dict[str, Any]]], b_side: list[tuple[str, dict[str, Any]]], data: st.DataObject
) -> None:
    # GIVEN two golden records A and B with their links
    city, a, b = build(a_side, b_side)
    before = city.snapshot()
    b_keys = sorted(city.links[b])

    # WHEN B is merged into A
    city.apply(city.merge(a, b, T0 + timedelta(days=1)))
    assert b not in city.goldens and set(b_keys) <= set(city.links[a])

    # AND any record B brought is split out again
    key = data.draw(st.sampled_from(b_keys))
    city.apply(city.unmerge(a, key, T0 + timedelta(days=2)))

    # THEN both golden records and every link are exactly as before, and no merge record is left
    assert city.snapshot() == before
    assert city.merges.get(a) == []


def test_merge_moves_every_link_runs_survivorship_and_announces_each_move() -> None:
    city, a, b = build(
        [("/legacy/tributos", {"given_name": "Ines", "first_surname": "Pinilla", "email": "old@example.org"})],
        [("/legacy/padron", {"given_name": "Inés", "first_surname": "Pinilla", "email": "new@example.org"})],
    )
    plan = city.merge(a, b, T0 + timedelta(days=1))
    (after,) = plan.goldens
    # the Padrón wins the name; the most recent record the e-mail
    assert after.attributes["given_name"] == "Inés" and after.attributes["email"] == "new@example.org"
    merged, *updates = plan.events
    assert isinstance(merged, CitizenMerged) and merged.merged_citizen_id == b and merged.reason == "review"
    assert all(isinstance(u, CitizenUpdated) and u.citizen_id == a for u in updates)
    assert [(u.link.change, u.match.method) for u in updates if isinstance(u, CitizenUpdated)] == [("changed", "merge")]
    city.apply(plan)
    unmerged, *back = city.unmerge(a, "/legacy/padron#B0", T0 + timedelta(days=2)).events
    assert isinstance(unmerged, CitizenUnmerged) and unmerged.restored_citizen_id == b
    assert [u.citizen_id for u in back if isinstance(u, CitizenUpdated)] == [b]


def test_every_announcement_carries_the_contact_points_of_the_golden_record_it_names() -> None:
    # GIVEN two golden records with different e-mails
    city, a, b = build(
        [("/legacy/tributos", {"given_name": "Ines", "first_surname": "Pinilla", "email": "old@example.org"})],
        [("/legacy/padron", {"given_name": "Inés", "first_surname": "Pinilla", "email": "new@example.org",
                             "phone": "612345678"})],
    )  # fmt: skip

    # WHEN B is merged into A THEN each move announces A's contact points after the merge
    plan = city.merge(a, b, T0 + timedelta(days=1))
    moves = [u for u in plan.events if isinstance(u, CitizenUpdated)]
    assert {(u.contact.email, u.contact.phone) for u in moves if u.contact} == {("new@example.org", "+34612345678")}
    assert all(u.contact is not None for u in moves)

    # WHEN the Padrón record is split out again THEN its restored golden record's moves carry its contact
    # points, and the un-merge those A is left with (the notification domain must not keep B's phone for A)
    city.apply(plan)
    unmerged, *back = city.unmerge(a, "/legacy/padron#B0", T0 + timedelta(days=2)).events
    assert isinstance(unmerged, CitizenUnmerged) and unmerged.contact is not None
    assert (unmerged.contact.email, unmerged.contact.phone) == ("old@example.org", None)
    restored = [u.contact for u in back if isinstance(u, CitizenUpdated)]
    assert [(c.email, c.phone) for c in restored if c] == [("new@example.org", "+34612345678")]


def test_merge_moves_the_absorbed_records_documents_to_the_survivor() -> None:
    city, a, b = build(
        [("/legacy/padron", {"given_name": "Inés", "first_surname": "Pinilla"})],
        [
            (
                "/legacy/multas",
                {"given_name": "Inés", "first_surname": "Pinilla", "document": {"type": "DNI", "number": "12345678Z"}},
            )
        ],
    )
    plan = city.merge(a, b, T0)
    assert [(d.number, was, now) for d, was, now in plan.documents] == [("12345678Z", b, a)]
    assert plan.goldens[0].documents == (("DNI", "12345678Z"),)


@pytest.mark.parametrize("same", [True, False])
def test_conflicting_merges_are_refused(same: bool) -> None:
    city, a, b = build(
        [("/legacy/padron", {"given_name": "Inés", "first_surname": "Pinilla"})],
        [("/legacy/multas", {"given_name": "Inés", "first_surname": "Pinilla"})],
    )
    if same:
        with pytest.raises(MergeConflictError, match="with itself"):
            city.merge(a, a, T0)
    else:
        many = [Link(**{**city.links[b]["/legacy/multas#B0"].__dict__, "local_id": f"M{i}"}) for i in range(21)]
        with pytest.raises(MergeConflictError, match="at most 20"):
            service.merge(
                city.goldens[a], [], city.goldens[b], many, reason="auto", score=1.0, evidence=[], by="x", now=T0
            )


def test_unmerging_a_record_no_merge_brought_splits_it_alone_unless_a_valid_document_ties_it() -> None:
    city = City()
    doc = {"type": "DNI", "number": "48673243E"}
    a = city.upsert("/legacy/padron", CitizenRecordUpserted.model_validate({"local_id": "P1", "document": doc}), T0)
    city.upsert("/legacy/ser", CitizenRecordUpserted.model_validate({"local_id": "S1"}), T0, into=a)
    city.upsert("/legacy/multas", CitizenRecordUpserted.model_validate({"local_id": "M1", "document": doc}), T0, into=a)
    # the SER record (no document) splits out into a new golden record of its own
    plan = city.unmerge(a, "/legacy/ser#S1", T0 + timedelta(hours=1))
    remaining, alone = plan.goldens
    assert remaining.citizen_id == a and alone.citizen_id != a and plan.drop is None
    city.apply(plan)
    assert set(city.links[alone.citizen_id]) == {"/legacy/ser#S1"}
    # a record sharing a valid DNI with the others is a deterministic match: it is not split
    with pytest.raises(MergeConflictError, match="deterministic match"):
        city.unmerge(a, "/legacy/multas#M1", T0)
    # the only record of a golden record: nothing to split
    with pytest.raises(MergeConflictError, match="nothing to split"):
        city.unmerge(alone.citizen_id, "/legacy/ser#S1", T0)
    with pytest.raises(service.CitizenNotFoundError):
        city.unmerge(a, "/legacy/ser#NOPE", T0)
