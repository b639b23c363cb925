"""The web channel's own rules: PKCE, CSRF, session states, safe return paths, i18n catalogs, vendored files."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from functions.web import i18n, service
from functions.web.api import ApiProblem

NOW = datetime(2026, 12, 4, 15, 0, tzinfo=UTC)
WEB = Path(__file__).resolve().parents[3] / "functions" / "web"


def test_the_pkce_challenge_is_s256_of_the_verifier_without_padding() -> None:
    verifier = service.new_token()
    challenge = service.pkce_challenge(verifier)
    expected = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    assert challenge == expected and len(challenge) == 43 and "=" not in challenge
    assert 43 <= len(verifier) <= 128  # RFC 7636 §4.1


def test_a_pending_session_carries_fresh_secrets_and_expires_soon() -> None:
    one, two = service.pending(NOW, "en", "/app/inbox"), service.pending(NOW, "xx", "https://evil.example/")
    assert one.lang == "en" and two.lang == "es"
    assert one.return_to == "/app/inbox" and two.return_to == "/app/"
    assert len({one.id, one.csrf, one.state, one.verifier, one.nonce, two.id}) == 6
    assert not one.signed_in and one.live(NOW) and not one.live(NOW + timedelta(minutes=11))


def test_signing_in_gives_a_new_id_and_csrf_and_lasts_no_longer_than_the_token() -> None:
    started = service.pending(NOW, "es", "/app/")
    token_ends = NOW + timedelta(hours=1)
    signed = service.signed_in(started, service.Person("c-1", "citizen"), "tok", token_ends, NOW, hours=8)
    assert signed.id != started.id and signed.csrf != started.csrf  # no session fixation
    assert signed.signed_in and signed.expires_at == token_ends
    assert (signed.state, signed.verifier, signed.nonce) == ("", "", "")
    shorter = service.signed_in(started, service.Person("c-1", "citizen"), "tok", NOW + timedelta(days=1), NOW, hours=8)
    assert shorter.expires_at == NOW + timedelta(hours=8)


def test_the_state_must_be_this_browsers_and_fresh() -> None:
    started = service.pending(NOW, "es", "/app/")
    assert service.check_state(started, started.state, NOW) is started
    with pytest.raises(service.SignInError):
        service.check_state(started, "another", NOW)
    with pytest.raises(service.SignInError):
        service.check_state(None, started.state, NOW)
    with pytest.raises(service.SignInError):
        service.check_state(started, started.state, NOW + timedelta(minutes=30))


@pytest.mark.parametrize("token", [None, "", "nope"])
def test_a_post_without_the_sessions_csrf_token_is_refused(token: str | None) -> None:
    session = service.anonymous(NOW, "es")
    with pytest.raises(service.CsrfError) as refused:
        service.check_csrf(session, token)
    assert refused.value.status == 403
    service.check_csrf(session, session.csrf)  # the right one passes


def test_only_a_live_signed_in_session_opens_a_page() -> None:
    signed = service.signed_in(
        service.pending(NOW, "es", "/app/"), service.Person("c-1", "citizen"), "t", NOW + timedelta(hours=1), NOW, 8
    )
    assert service.require(signed, NOW) is signed
    for session, at in ((None, NOW), (service.anonymous(NOW, "es"), NOW), (signed, NOW + timedelta(hours=2))):
        with pytest.raises(service.SessionExpiredError):
            service.require(session, at)


def test_a_citizens_session_opens_no_agent_page_and_an_agents_no_citizen_page() -> None:
    started = service.pending(NOW, "es", "/desk/")
    agent = service.signed_in(started, service.Person("a-1", "agent", 1, "atencion-ciudadania"), "t",
                              NOW + timedelta(hours=1), NOW, 8)  # fmt: skip
    assert (agent.level, agent.area, agent.return_to) == (1, "atencion-ciudadania", "/desk/")
    assert service.require(agent, NOW, "agent") is agent
    with pytest.raises(service.WrongRoleError):
        service.require(agent, NOW, "citizen")
    citizen = replace(agent, role="citizen")
    with pytest.raises(service.WrongRoleError):
        service.require(citizen, NOW, "agent")


@pytest.mark.parametrize(
    "path", [None, "", "/", "//evil.example/app/", "https://evil.example/app/", "/app\\..\\x", "/v1/citizens", "app/"]
)
def test_return_paths_stay_in_the_app(path: str | None) -> None:
    assert service.safe_return(path) == "/app/"


def test_both_catalogs_have_the_same_keys_and_every_template_key_exists() -> None:
    es, en = i18n.catalog("es"), i18n.catalog("en")
    assert set(es) == set(en)
    used = set()
    for template in (WEB / "templates").rglob("*.html"):
        # whole keys only: a key built from data (t("right." ~ r.right)) is checked by the page tests
        used |= set(re.findall(r"""\bt\(["']([a-z0-9_.-]+)["']\s*[,)]""", template.read_text(encoding="utf-8")))
    for source in WEB.glob("*.py"):
        used |= set(re.findall(r"""ctx\.t\(["']([a-z0-9_.-]+)["']""", source.read_text(encoding="utf-8")))
    assert used and used <= set(es), sorted(used - set(es))


def test_the_language_is_the_chosen_one_else_the_browsers_else_spanish() -> None:
    assert i18n.pick("en-GB,en;q=0.9", None) == "en"
    assert i18n.pick("en-GB", "es") == "es"
    assert i18n.pick("fr-FR,de", None) == "es"
    assert i18n.translate("en", "home.count", count=3) == "3 items"
    assert i18n.translate_or("en", "section.unknown-thing", "unknown-thing") == "unknown-thing"
    with pytest.raises(KeyError):
        i18n.translate("es", "no.such.key")


def test_a_problem_document_becomes_a_typed_error_with_its_field_errors() -> None:
    problem = ApiProblem(
        422,
        {
            "type": "/problems/validation",
            "title": "Invalid",
            "detail": "zone is not valid",
            "errors": [{"field": "zone", "message": "not a district or barrio"}],
        },
    )
    assert (problem.status, problem.slug, problem.title) == (422, "validation", "Invalid")
    assert problem.field_errors() == {"zone": "not a district or barrio"}
    assert ApiProblem(403, {}).detail == "the API answered 403"


def test_the_vendored_htmx_is_the_recorded_one() -> None:
    recorded = (WEB / "static" / "VENDORED.md").read_text(encoding="utf-8")
    (name, sha) = re.findall(r"`(htmx-[0-9.]+\.min\.js)`.*`([0-9a-f]{64})`", recorded)[0]
    assert hashlib.sha256((WEB / "static" / name).read_bytes()).hexdigest() == sha
    assert name in (WEB / "templates" / "base.html").read_text(encoding="utf-8")
    assert name in (WEB / "static" / "sw.js").read_text(encoding="utf-8")
    manifest = json.loads((WEB / "static" / "manifest.webmanifest").read_text(encoding="utf-8"))
    assert manifest["scope"] == "/app/" and manifest["start_url"] == "/app/"


def test_no_template_has_inline_script_or_style() -> None:
    for template in (WEB / "templates").rglob("*.html"):
        text = template.read_text(encoding="utf-8")
        assert "<style" not in text and " style=" not in text, template.name
        assert not re.search(r"<script(?![^>]*\bsrc=)", text), template.name
        assert not re.search(r"\son[a-z]+=", text), template.name  # no event handler attributes
