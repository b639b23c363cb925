"""The knowledge base's use cases (``functions.kb.handlers``) on an in-memory store: what is announced to the
assistant and when, editors' races, the search cache, feedback once per voter, drafts from solved cases, the seed."""

from __future__ import annotations

from copy import deepcopy
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from events.kb import ArticleUpdated
from functions.core.errors import LostRaceError
from functions.core.store import Staged
from functions.kb import handlers, service
from functions.kb.handlers import KbExistsError, KbPorts
from functions.kb.service import KbConflictError, KbNotFoundError
from tests.unit.fakes import FixedClock, event_models
from tests.unit.kb.fakes import FakeKbStore

NOW = datetime(2026, 12, 14, 9, tzinfo=UTC)
PROPOSAL: dict[str, Any] = {
    "areas": ["hacienda"],
    "audiences": ["public", "assistant", "internal"],
    "categories": ["tributos"],
    "translations": {
        "es": {"title": "Pagar el IBI", "body": "El IBI se paga cada año en el periodo voluntario de cobro.",
               "keywords": ["ibi"]},
        "en": {"title": "Paying IBI", "body": "IBI is paid every year in the voluntary collection period.",
               "keywords": ["ibi"]},
    },
}  # fmt: skip


@pytest.fixture
def ports() -> KbPorts:
    return KbPorts(store=FakeKbStore(), clock=FixedClock(NOW))


def done(staged: Staged[Any], ports: KbPorts) -> Any:
    ports.store.commit(staged.unit)  # type: ignore[attr-defined]
    return staged.result


def published(ports: KbPorts, article_id: str = "pagar-ibi", proposal: dict[str, Any] = PROPOSAL) -> service.Article:
    article = done(handlers.create(article_id, proposal, "agent:a1", ports), ports)
    return done(handlers.publish(article_id, article.revision, None, ports, None), ports)


def test_a_draft_is_never_announced_and_a_publication_is_announced_with_both_languages(ports: KbPorts) -> None:
    # GIVEN a new article
    created = handlers.create("pagar-ibi", PROPOSAL, "agent:a1", ports)
    # THEN its draft stays in the domain
    assert event_models(created.unit) == []
    done(created, ports)
    # WHEN it is published
    staged = handlers.publish("pagar-ibi", 1, None, ports, None)
    # THEN the snapshot names the version in force, its audiences and both texts
    (event,) = event_models(staged.unit)
    assert isinstance(event, ArticleUpdated)
    assert (event.article_id, event.revision, event.archive_at) == ("pagar-ibi", 2, None)
    (version,) = event.versions
    assert version.version == 1 and set(version.texts) == {"es", "en"} and "assistant" in version.audiences


def test_a_scheduled_version_is_announced_beside_the_one_in_force(ports: KbPorts) -> None:
    # GIVEN a published article with a new draft
    article = published(ports)
    changed = deepcopy(PROPOSAL)
    changed["translations"]["es"]["body"] = "El IBI se paga en dos plazos si se domicilia el recibo en el banco."
    article = done(handlers.edit("pagar-ibi", changed, article.revision, "agent:a1", ports), ports)
    # WHEN the draft is scheduled for tomorrow
    tomorrow = NOW + timedelta(days=1)
    staged = handlers.publish("pagar-ibi", article.revision, tomorrow, ports, None)
    # THEN both versions travel: the consumer decides at each instant which one shows
    (event,) = event_models(staged.unit)
    assert isinstance(event, ArticleUpdated)
    assert [(v.version, v.publish_at) for v in event.versions] == [(1, NOW), (2, tomorrow)]
    # AND the Spanish change leaves the English text marked stale in the scheduled version
    assert event.versions[1].texts["en"].stale and not event.versions[1].texts["es"].stale


def test_an_archive_is_announced_with_its_instant(ports: KbPorts) -> None:
    article = published(ports)
    later = NOW + timedelta(hours=2)
    (event,) = event_models(handlers.archive("pagar-ibi", article.revision, later, ports, None).unit)
    assert isinstance(event, ArticleUpdated) and event.archive_at == later


def test_two_editors_saving_the_same_revision_one_wins_the_other_is_told_to_reload(ports: KbPorts) -> None:
    # GIVEN an article both editors read at revision 1
    done(handlers.create("pagar-ibi", PROPOSAL, "agent:a1", ports), ports)
    first = handlers.edit("pagar-ibi", PROPOSAL | {"categories": ["ibi"]}, 1, "agent:a1", ports)
    second = handlers.edit("pagar-ibi", PROPOSAL | {"categories": ["recibos"]}, 1, "agent:a2", ports)
    # WHEN both commit
    done(first, ports)
    # THEN the second loses the race at the store ...
    with pytest.raises(LostRaceError):
        done(second, ports)
    # ... and, run again as the kernel does, is refused as a stale edit (never merged)
    with pytest.raises(KbConflictError):
        handlers.edit("pagar-ibi", PROPOSAL | {"categories": ["recibos"]}, 1, "agent:a2", ports)
    assert ports.store.fetch_article("pagar-ibi").latest.categories == ("ibi",)  # type: ignore[union-attr]


def test_creating_an_existing_id_is_a_conflict(ports: KbPorts) -> None:
    published(ports)
    with pytest.raises(KbExistsError):
        handlers.create("pagar-ibi", PROPOSAL, "agent:a2", ports)


def test_the_search_index_is_built_once_until_the_catalogue_moves(ports: KbPorts) -> None:
    store = ports.store
    assert isinstance(store, FakeKbStore)
    published(ports)
    # WHEN the public searches twice
    first = handlers.search("pagar ibi", "es", "public", ports)
    second = handlers.search("ibi", "es", "public", ports)
    # THEN the catalogue was read once and both searches found the article
    assert store.catalogue_reads == 1
    assert [h["id"] for h in first] == [h["id"] for h in second] == ["pagar-ibi"]
    # WHEN another article is published, the next search sees it
    other = deepcopy(PROPOSAL)
    other["translations"]["es"] |= {"title": "Tasa de basuras", "body": "La tasa de residuos urbanos se paga al año."}
    published(ports, "tasa-basuras", other)
    assert [h["id"] for h in handlers.search("basuras", "es", "public", ports)] == ["tasa-basuras"]
    assert store.catalogue_reads == 2


def test_a_scheduled_publication_shows_in_search_when_its_instant_comes_without_any_write(ports: KbPorts) -> None:
    clock = ports.clock
    assert isinstance(clock, FixedClock)
    article = done(handlers.create("pagar-ibi", PROPOSAL, "agent:a1", ports), ports)
    done(handlers.publish("pagar-ibi", article.revision, NOW + timedelta(hours=1), ports, None), ports)
    assert handlers.search("ibi", "es", "public", ports) == []
    clock.advance(hours=1)
    assert [h["id"] for h in handlers.search("ibi", "es", "public", ports)] == ["pagar-ibi"]


def test_search_in_an_area_portal_and_audience(ports: KbPorts) -> None:
    internal = deepcopy(PROPOSAL) | {"audiences": ["internal"]}
    published(ports, "ibi-interno", internal)
    published(ports)
    assert [h["id"] for h in handlers.search("ibi", "es", "public", ports)] == ["pagar-ibi"]
    assert {h["id"] for h in handlers.search("ibi", "es", "internal", ports)} == {"pagar-ibi", "ibi-interno"}
    assert handlers.search("ibi", "es", "public", ports, area="movilidad") == []


def test_feedback_counts_once_per_voter_and_version(ports: KbPorts) -> None:
    published(ports)
    first = done(handlers.give_feedback("pagar-ibi", 1, "es", True, "session-1", ports), ports)
    again = done(handlers.give_feedback("pagar-ibi", 1, "es", False, "session-1", ports), ports)
    other = done(handlers.give_feedback("pagar-ibi", 1, "es", False, "session-2", ports), ports)
    assert first.counted and not again.counted and other.counted
    assert (other.tally.useful, other.tally.not_useful) == (1, 1)


def test_two_answers_at_once_neither_is_lost(ports: KbPorts) -> None:
    published(ports)
    a = handlers.give_feedback("pagar-ibi", 1, "es", True, "session-1", ports)
    b = handlers.give_feedback("pagar-ibi", 1, "es", True, "session-2", ports)
    done(a, ports)
    with pytest.raises(LostRaceError):
        done(b, ports)
    again = done(handlers.give_feedback("pagar-ibi", 1, "es", True, "session-2", ports), ports)
    assert again.tally.useful == 2


def test_feedback_on_a_version_never_published_is_not_found(ports: KbPorts) -> None:
    done(handlers.create("pagar-ibi", PROPOSAL, "agent:a1", ports), ports)
    with pytest.raises(KbNotFoundError):
        handlers.give_feedback("pagar-ibi", 1, "es", True, "session-1", ports)


def test_a_solved_case_proposes_one_draft_however_often_it_is_sent(ports: KbPorts) -> None:
    cmd = handlers.ProposeFromCase(
        "case-0123456789abcdef01234567", "hacienda", "ibi-recibo", "No me llega el recibo del IBI",
        "Se le indicó que puede descargar el recibo en la sede con su DNI 12345678Z y pagarlo allí.", "es", "agent:a1",
    )  # fmt: skip
    article, created = done(handlers.propose_from_case(cmd, ports), ports)
    assert created and "12345678Z" not in article.latest.texts["es"].body
    assert service.state_of(article, 1, NOW) == "draft" and article.latest.audiences == frozenset({"internal"})
    again, created_again = done(handlers.propose_from_case(cmd, ports), ports)
    assert not created_again and again.id == article.id


def test_the_public_never_reads_a_draft_or_an_internal_article(ports: KbPorts) -> None:
    done(handlers.create("pagar-ibi", PROPOSAL, "agent:a1", ports), ports)
    with pytest.raises(KbNotFoundError):
        handlers.public_view("pagar-ibi", "es", None, ports)
    published(ports, "ibi-interno", deepcopy(PROPOSAL) | {"audiences": ["internal"]})
    with pytest.raises(KbNotFoundError):
        handlers.public_view("ibi-interno", "es", None, ports)


def test_the_seed_publishes_what_is_missing_and_keeps_what_editors_changed(ports: KbPorts) -> None:
    shipped = handlers.shipped(ports)
    first = [done(handlers.seed_one(a, ports), ports) for a in shipped]
    assert all(first) and len(first) >= 40
    events = event_models(handlers.seed_one(shipped[0], ports).unit)
    assert events == []  # already there: nothing written, nothing announced
    assert [done(handlers.seed_one(a, ports), ports) for a in shipped] == [False] * len(shipped)
