"""The knowledge base's rules (``functions.kb.service``): immutable versions, stale translations side by side,
what each audience sees at an instant, scheduled publish and archive, drafts from solved cases, feedback, and
proposals refused with every error named."""

from __future__ import annotations

from copy import deepcopy
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from functions.kb import service
from functions.kb.service import (
    KbConflictError,
    KbInvalidError,
    KbNotFoundError,
    KbStateError,
    count_feedback,
    create,
    draft_from_case,
    edit,
    publish,
)

NOW = datetime(2026, 5, 4, 10, tzinfo=UTC)
HOUR = timedelta(hours=1)
PROPOSAL: dict[str, Any] = {
    "areas": ["hacienda", "atencion-ciudadania"],
    "audiences": ["public", "assistant", "internal"],
    "categories": ["tributos"],
    "source": "https://agenciatributaria.madrid.es",
    "translations": {
        "es": {
            "title": "Pagar el IBI",
            "body": "El IBI se paga cada año en el periodo voluntario.",
            "keywords": ["ibi"],
        },
        "en": {"title": "Paying IBI", "body": "IBI is paid every year in the voluntary period.", "keywords": ["ibi"]},
    },
}


def published(at: datetime = NOW) -> service.Article:
    draft = create("pagar-ibi", PROPOSAL, author="editor-1", now=at)
    return publish(draft, expected_revision=1, now=at)


def with_text(lang: str, body: str, translated_from: int | None = None) -> dict[str, Any]:
    proposal = deepcopy(PROPOSAL)
    proposal["translations"][lang]["body"] = body
    if translated_from is not None:
        proposal["translations"][lang]["translated_from"] = translated_from
    return proposal


def test_a_new_article_is_a_draft_nobody_but_its_editors_see() -> None:
    # GIVEN an article just created
    draft = create("pagar-ibi", PROPOSAL, author="editor-1", now=NOW)
    # THEN its first version is a draft, invisible to every audience
    assert service.state_of(draft, 1, NOW) == "draft"
    assert all(service.visible(draft, audience, NOW) is None for audience in ("public", "assistant", "internal"))


def test_every_published_change_is_a_new_version_and_the_old_one_stays_readable_by_agents() -> None:
    # GIVEN version 1 published
    article = published()
    # WHEN an editor changes the Spanish text and publishes it an hour later
    article = edit(article, with_text("es", "El IBI se paga en dos plazos o domiciliado."), expected_revision=2,
                   author="editor-2", now=NOW + HOUR)  # fmt: skip
    article = publish(article, expected_revision=3, now=NOW + HOUR)
    # THEN version 2 is in force, version 1 is superseded but agents can still read it unchanged
    assert [v.number for v in article.versions] == [1, 2]
    assert service.visible(article, "public", NOW + 2 * HOUR).number == 2  # type: ignore[union-attr]
    assert service.state_of(article, 1, NOW + 2 * HOUR) == "superseded"
    old = service.readable_by_agent(article, 1, NOW + 2 * HOUR)
    assert old.texts["es"].body == PROPOSAL["translations"]["es"]["body"]


def test_editing_a_stale_revision_is_refused_not_merged() -> None:
    # GIVEN two editors who read revision 2; the first saves
    article = published()
    saved = edit(article, with_text("es", "Primera edición del texto del IBI."), expected_revision=2,
                 author="a", now=NOW)  # fmt: skip
    # WHEN the second saves over revision 2
    with pytest.raises(KbConflictError) as refused:
        edit(saved, with_text("es", "Segunda edición, sobre lo antiguo."), expected_revision=2, author="b", now=NOW)
    # THEN the conflict names the current revision
    assert refused.value.status == 409
    assert refused.value.to_problem()["current_revision"] == 3


def test_english_goes_stale_when_spanish_changes_and_is_aligned_again_by_its_translation() -> None:
    article = published()
    # WHEN only the Spanish text changes (version 2)
    article = edit(article, with_text("es", "El IBI ahora se puede fraccionar."), expected_revision=2, author="a",
                   now=NOW)  # fmt: skip
    view = service.side_by_side(article.latest)
    # THEN the English side is flagged stale, the Spanish one is not
    assert view["languages"]["en"]["stale"] is True
    assert view["languages"]["es"]["stale"] is False
    assert view["warnings"] == ["the English text is older than the Spanish text: check it"]
    article = publish(article, expected_revision=3, now=NOW)
    # WHEN a translator updates English from Spanish version 2 (version 3)
    translated = with_text("es", "El IBI ahora se puede fraccionar.")
    translated["translations"]["en"].update(body="IBI can now be paid in instalments.", translated_from=2)
    article = edit(article, translated, expected_revision=4, author="t", now=NOW)
    # THEN neither side is stale
    assert article.latest.stale() == frozenset()


def test_spanish_goes_stale_when_english_changes_after_it() -> None:
    article = published()
    article = edit(article, with_text("en", "IBI is paid yearly; see the taxpayer calendar."), expected_revision=2,
                   author="a", now=NOW)  # fmt: skip
    assert article.latest.stale() == frozenset({"es"})


def test_a_translation_cannot_name_a_version_that_does_not_exist() -> None:
    article = published()
    with pytest.raises(KbInvalidError) as refused:
        edit(article, with_text("en", "IBI is paid yearly in its period.", translated_from=7), expected_revision=2,
             author="a", now=NOW)  # fmt: skip
    assert refused.value.errors and refused.value.errors[0]["field"] == "translations.en.translated_from"


def test_scheduled_publish_is_invisible_until_its_instant() -> None:
    draft = create("pagar-ibi", PROPOSAL, author="e", now=NOW)
    scheduled = publish(draft, expected_revision=1, now=NOW, at=NOW + 24 * HOUR)
    assert service.state_of(scheduled, 1, NOW) == "scheduled"
    assert service.visible(scheduled, "public", NOW + 23 * HOUR) is None
    assert service.visible(scheduled, "public", NOW + 24 * HOUR) is not None
    # and it can go back to a draft before then
    back = service.unschedule(scheduled, expected_revision=2, now=NOW + HOUR)
    assert service.state_of(back, 1, NOW + 48 * HOUR) == "draft"


def test_scheduled_archive_withdraws_the_article_from_every_audience_but_not_from_agents_history() -> None:
    article = service.archive(published(), expected_revision=2, now=NOW, at=NOW + 2 * HOUR)
    assert service.visible(article, "assistant", NOW + HOUR) is not None
    assert service.visible(article, "assistant", NOW + 2 * HOUR) is None
    assert service.state_of(article, 1, NOW + 3 * HOUR) == "archived"
    assert service.readable_by_agent(article, 1, NOW + 3 * HOUR).number == 1
    restored = service.restore(article, expected_revision=3)
    assert service.visible(restored, "public", NOW + 3 * HOUR) is not None


def test_audience_and_area_portal_decide_visibility() -> None:
    internal_only = deepcopy(PROPOSAL)
    internal_only["audiences"] = ["internal"]
    article = publish(create("nota-interna", internal_only, author="e", now=NOW), expected_revision=1, now=NOW)
    assert service.visible(article, "internal", NOW) is not None
    assert service.visible(article, "public", NOW) is None
    shared = published()
    assert service.visible(shared, "public", NOW, area="hacienda") is not None
    assert service.visible(shared, "public", NOW, area="atencion-ciudadania") is not None
    assert service.visible(shared, "public", NOW, area="movilidad") is None


def test_publishing_without_a_draft_and_reading_unpublished_versions_are_refused() -> None:
    article = published()
    with pytest.raises(KbStateError):
        publish(article, expected_revision=2, now=NOW)
    draft = create("pagar-ibi", PROPOSAL, author="e", now=NOW)
    with pytest.raises(KbNotFoundError):
        service.readable_by_agent(draft, 1, NOW)
    with pytest.raises(KbNotFoundError):
        article.version(9)


def test_every_error_of_a_proposal_is_named_with_its_field() -> None:
    bad = deepcopy(PROPOSAL)
    bad["areas"] = ["Hacienda!"]
    bad["audiences"] = ["everyone"]
    bad["source"] = "http://insecure.example"
    bad["translations"] = {"en": {"title": "x", "body": "short"}}
    with pytest.raises(KbInvalidError) as refused:
        create("pagar-ibi", bad, author="e", now=NOW)
    fields = {e["field"] for e in refused.value.errors or []}
    assert {"areas.0", "audiences.0", "source", "translations.en.title", "translations.en.body"} <= fields
    assert refused.value.status == 422


def test_spanish_is_required_and_cross_field_errors_are_each_named() -> None:
    bad = deepcopy(PROPOSAL)
    del bad["translations"]["es"]
    bad["translations"]["en"]["translated_from"] = 1
    bad["areas"] = ["hacienda", "hacienda"]
    with pytest.raises(KbInvalidError) as refused:
        create("pagar-ibi", bad, author="e", now=NOW)
    messages = " | ".join(e["message"] for e in refused.value.errors or [])
    assert "translations.es: Spanish is the official text and is required" in messages
    assert "translations.en.translated_from: there is no es text to translate from" in messages
    assert "areas: an area is named twice" in messages
    with pytest.raises(KbInvalidError):
        create("Not A Slug", PROPOSAL, author="e", now=NOW)


def test_a_solved_case_proposes_an_internal_draft_without_personal_data() -> None:
    draft = draft_from_case(
        case_id="case-123", area="hacienda", category="recibo-ibi", subject="Recibo del IBI duplicado",
        resolution="Se anuló el segundo recibo. Contactar con 12345678Z en ana@example.com o 612 345 678.",
        author="agent-7", now=NOW,
    )  # fmt: skip
    version = draft.latest
    assert version.from_case == "case-123"
    assert service.state_of(draft, 1, NOW) == "draft"
    assert version.audiences == frozenset({"internal"})
    body = version.texts["es"].body
    assert "12345678Z" not in body and "ana@example.com" not in body and "612 345 678" not in body
    assert "[documento]" in body and "[correo]" in body and "[teléfono]" in body
    # an editor's edit keeps the case it came from
    edited = edit(draft, PROPOSAL, expected_revision=1, author="editor", now=NOW)
    assert edited.latest.from_case == "case-123"


def test_feedback_counts_per_version_and_language() -> None:
    article = published()
    tally = service.feedback_for(article, 1, "en", NOW)
    for useful in (True, True, False):
        tally = count_feedback(tally, useful)
    assert (tally.article_id, tally.version, tally.language) == ("pagar-ibi", 1, "en")
    assert (tally.useful, tally.not_useful, tally.revision) == (2, 1, 3)
    assert tally.share_useful == pytest.approx(2 / 3)
    with pytest.raises(KbNotFoundError):
        service.feedback_for(create("otro", PROPOSAL, author="e", now=NOW), 1, "es", NOW)


def test_the_view_falls_back_to_spanish_when_a_language_is_missing() -> None:
    spanish_only = deepcopy(PROPOSAL)
    del spanish_only["translations"]["en"]
    article = publish(create("solo-es", spanish_only, author="e", now=NOW), expected_revision=1, now=NOW)
    shown = service.view(article, article.latest, "en", NOW)
    assert (shown["language"], shown["state"], shown["title"]) == ("es", "published", "Pagar el IBI")
    assert service.side_by_side(article.latest)["languages"]["en"] == {"missing": True, "stale": False}
