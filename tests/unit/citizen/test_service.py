"""C360 resolution, first rule set: deterministic on a valid document, survivorship, re-upserts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import count
from typing import Any

from events.citizen import CitizenRecordUpserted
from functions.citizen import service
from functions.citizen.matching import Verdict
from functions.citizen.service import Golden, Link, Resolution

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ids = count(1)


def record(**overrides: Any) -> CitizenRecordUpserted:
    data: dict[str, Any] = {
        "local_id": "PAD1",
        "document": {"type": "DNI", "number": "48673243E"},
        "given_name": "Ceferino",
        "first_surname": "López",
        "second_surname": "Gelabert",
        "birth_date": "1951-03-31",
        "email": "ceferino@example.org",
        "phone": "647206546",
        "address": {"street": "Glorieta Ruy Sancho", "number": "7", "postal_code": "28024", "district": "10"},
    }
    data.update(overrides)
    return CitizenRecordUpserted.model_validate(data)


def resolve(
    source: str,
    rec: CitizenRecordUpserted,
    *,
    existing: Link | None = None,
    owner: str | None = None,
    golden: Golden | None = None,
    links: list[Link] | None = None,
    at: datetime = T0,
) -> Resolution:
    return service.resolve(
        source,
        rec,
        existing=existing,
        document_owner=owner,
        golden=golden,
        other_links=links or [],
        now=at,
        new_id=lambda: f"cit-{next(ids)}",
    )


def test_a_record_with_an_unlinked_valid_document_creates_a_golden_record_and_claims_the_document() -> None:
    out = resolve("/legacy/padron", record())
    assert out.link.citizen_id.startswith("cit-")
    assert out.claim_document is not None and out.claim_document.number == "48673243E"
    assert out.event is not None and out.event.match.method == "new" and out.event.match.score == 0.0
    assert out.event.link.change == "added" and out.event.link.document_valid is True
    assert out.golden.documents == (("DNI", "48673243E"),)
    # AND the announcement carries the golden record's contact points (the notification domain projects them)
    assert out.event.contact is not None
    assert (out.event.contact.email, out.event.contact.phone) == ("ceferino@example.org", "+34647206546")


def test_a_valid_document_already_linked_decides_the_match_deterministically() -> None:
    first = resolve("/legacy/padron", record())
    second = resolve(
        "/legacy/tributos",
        record(local_id="TRB9", document={"type": "DNI", "number": "48.673.243-e"}),
        owner=first.link.citizen_id,
        golden=first.golden,
        links=[first.link],
        at=T0 + timedelta(minutes=1),
    )
    assert second.link.citizen_id == first.link.citizen_id
    assert second.claim_document is None
    assert second.event is not None
    assert (second.event.match.method, second.event.match.score) == ("document", 1.0)
    assert "DNI valid" in second.event.match.evidence[0]
    assert {lk.key for lk in [first.link, second.link]} == {"/legacy/padron#PAD1", "/legacy/tributos#TRB9"}


def test_an_invalid_document_is_a_finding_never_a_match() -> None:
    wrong_letter = record(local_id="MUL1", document={"type": "DNI", "number": "48673243A"})
    out = resolve("/legacy/multas", wrong_letter, owner=None)
    assert out.claim_document is None
    assert out.event is not None and out.event.match.method == "new"
    assert out.event.link.document_valid is False and out.event.link.findings == ["document"]
    (finding,) = out.link.findings
    assert finding["field"] == "document" and "wrong check letter" in finding["finding"]
    assert out.golden.documents == ()


def test_re_upserting_the_same_record_updates_its_link_and_never_creates_a_second() -> None:
    first = resolve("/legacy/padron", record())
    changed = record(email="nuevo@example.org")
    stored = Link(**{**first.link.__dict__, "version": 1})
    golden = Golden(**{**first.golden.__dict__, "version": 1})
    again = resolve(
        "/legacy/padron",
        changed,
        existing=stored,
        owner=first.link.citizen_id,
        golden=golden,
        links=[stored],
        at=T0 + timedelta(hours=1),
    )
    assert again.link.citizen_id == first.link.citizen_id and again.link.version == 1
    assert again.event is not None and again.event.link.change == "changed"
    assert again.golden.attributes["email"] == "nuevo@example.org"
    assert again.link.evidence == first.link.evidence  # the decision that made the link is kept


def test_re_upserting_an_identical_record_changes_nothing() -> None:
    first = resolve("/legacy/padron", record())
    stored = Link(**{**first.link.__dict__, "version": 1})
    again = resolve(
        "/legacy/padron", record(), existing=stored, owner=first.link.citizen_id, golden=first.golden, links=[stored]
    )
    assert again.event is None and again.link is stored


def test_survivorship_padron_wins_names_and_address_most_recent_wins_contact() -> None:
    padron = resolve("/legacy/padron", record())
    later = resolve(
        "/legacy/deportes",
        record(
            local_id="DEP1",
            given_name="Cefe",
            address={"street": "Calle Mayor", "number": "1", "postal_code": "28013", "district": "01"},
            email="cefe@example.org",
            phone=None,
        ),
        owner=padron.link.citizen_id,
        golden=padron.golden,
        links=[padron.link],
        at=T0 + timedelta(days=1),
    )
    attributes, provenance = later.golden.attributes, later.golden.provenance
    assert attributes["given_name"] == "Ceferino" and provenance["given_name"] == "/legacy/padron#PAD1"
    assert attributes["address"]["street"] == "Glorieta Ruy Sancho"
    assert attributes["email"] == "cefe@example.org" and provenance["email"] == "/legacy/deportes#DEP1"
    assert attributes["phone"] == "+34647206546" and provenance["phone"] == "/legacy/padron#PAD1"


def test_without_padron_the_most_recent_record_gives_the_name() -> None:
    old = resolve("/legacy/multas", record(local_id="M1", given_name="Cefe"))
    new = resolve(
        "/legacy/cultura",
        record(local_id="C1"),
        owner=old.link.citizen_id,
        golden=old.golden,
        links=[old.link],
        at=T0 + timedelta(days=2),
    )
    assert new.golden.attributes["given_name"] == "Ceferino"
    assert new.golden.provenance["given_name"] == "/legacy/cultura#C1"


def test_a_record_without_document_is_a_new_golden_record() -> None:
    out = resolve("/legacy/ser", record(local_id="SER1", document=None))
    assert out.event is not None and out.event.match.method == "new" and out.claim_document is None
    assert out.event.link.document_valid is None


def test_the_golden_view_lists_links_with_their_findings() -> None:
    out = resolve("/legacy/multas", record(local_id="M2", document={"type": "NIE", "number": "X1234567A"}))
    view = service.golden_view(out.golden, [out.link])
    (link,) = view["links"]
    assert link["source"] == "/legacy/multas" and link["findings"][0]["field"] == "document"
    assert view["citizen_id"] == out.link.citizen_id


# ---- probabilistic decisions (the verdict comes from matching.best_match) --------------------------


def verdict(decision: str, citizen_id: str | None = "cit-known", probability: float = 0.9995) -> Any:
    from functions.citizen.matching import Evidence, Score, Verdict

    evidence = (Evidence("given", "exact", 10.2), Evidence("surnames", "swapped", 10.6))
    return Verdict(decision, citizen_id, Score(11.0, probability, evidence))  # type: ignore[arg-type]


def test_a_probabilistic_match_links_to_the_candidate_with_score_and_per_comparison_evidence() -> None:
    out = service.resolve(
        "/legacy/deportes",
        record(local_id="DEP1", document=None),
        existing=None,
        document_owner=None,
        golden=Golden("cit-known"),
        other_links=[],
        now=T0,
        verdict=verdict("match"),
    )
    assert out.link.citizen_id == "cit-known" and out.link.method == "probabilistic"
    assert out.link.score == 0.9995 and out.link.match_weight == 11.0
    assert out.link.comparisons == (("given", "exact", 10.2), ("surnames", "swapped", 10.6))
    assert out.review is None and out.event is not None
    match = out.event.match
    assert match.method == "probabilistic" and [c.level for c in match.comparisons] == ["exact", "swapped"]
    assert "surnames: swapped (+10.60)" in match.evidence


def test_the_review_band_makes_a_new_golden_record_and_opens_a_review_of_the_pair() -> None:
    out = service.resolve(
        "/legacy/deportes",
        record(local_id="DEP2", document=None),
        existing=None,
        document_owner=None,
        golden=None,
        other_links=[],
        now=T0,
        new_id=lambda: "cit-new",
        verdict=verdict("review", probability=0.9),
    )
    assert out.link.citizen_id == "cit-new" and out.link.method == "new"
    assert out.review is not None
    assert (out.review.citizen_id, out.review.candidate_id, out.review.status) == ("cit-new", "cit-known", "open")
    assert out.review.score == 0.9 and out.review.local_id == "DEP2"
    assert out.event is not None and out.event.match.review_id == out.review.review_id
    assert any("review" in line for line in out.event.match.evidence)


def test_below_the_review_band_the_best_candidate_is_only_evidence() -> None:
    out = service.resolve(
        "/legacy/deportes",
        record(local_id="DEP3", document=None),
        existing=None,
        document_owner=None,
        golden=None,
        other_links=[],
        now=T0,
        new_id=lambda: "cit-new",
        verdict=verdict("no-match", probability=0.2),
    )
    assert out.link.citizen_id == "cit-new" and out.review is None
    assert out.event is not None and any("below the review band" in line for line in out.event.match.evidence)


def test_a_target_is_known_from_the_link_the_document_or_a_match_only() -> None:
    assert service.target_citizen(None, None, verdict("match")) == "cit-known"
    assert service.target_citizen(None, None, verdict("review")) is None
    assert service.target_citizen(None, "cit-doc", verdict("match")) == "cit-doc"


# ---- a record that joins by its document, and resembles ANOTHER golden record (the bridge) ----------


def test_a_record_joining_by_document_that_resembles_another_golden_record_opens_a_review_of_the_two() -> None:
    # GIVEN a Padrón record whose DNI Tributos already linked to cit-owner, and whose best match among the
    # other golden records is cit-known (Cita Previa's record of them, say), in the review band
    out = service.resolve(
        "/legacy/padron",
        record(),
        existing=None,
        document_owner="cit-owner",
        golden=Golden("cit-owner"),
        other_links=[],
        now=T0,
        bridge=verdict("review", probability=0.9),
    )

    # THEN the document decides the link, and a review pairs cit-owner with cit-known, with the evidence
    assert out.link.citizen_id == "cit-owner" and out.link.method == "document"
    assert out.review is not None
    assert (out.review.citizen_id, out.review.candidate_id, out.review.score) == ("cit-owner", "cit-known", 0.9)
    assert out.event is not None and out.event.match.review_id == out.review.review_id
    assert any("also resembles cit-known" in line for line in out.event.match.evidence)


def test_a_record_joining_by_document_bridges_another_golden_record_it_matches() -> None:
    # GIVEN the best other match of a record that joins by its document, at auto-merge; or a probabilistic
    # match that also matches a second golden record
    also = verdict("match")
    matched = Verdict("match", "cit-first", also.score, (("cit-second", also.score),))

    # THEN that golden record is the one to merge into the record's (no review), and none below auto-merge
    assert service.bridged(None, also) == ("cit-known", also.score)
    assert service.bridged(matched, None) == ("cit-second", also.score)
    assert service.bridged(None, verdict("review", probability=0.9)) is None
    assert service.bridged(verdict("match"), None) is None
    out = service.resolve(
        "/legacy/padron",
        record(),
        existing=None,
        document_owner="cit-owner",
        golden=Golden("cit-owner"),
        other_links=[],
        now=T0,
        bridge=also,
    )
    assert out.review is None and out.link.method == "document"
