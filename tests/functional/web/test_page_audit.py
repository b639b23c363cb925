"""Every page of the citizen app and the agent desktop, as the API's role matrix does for every API route:
the pages are session routes (a cookie, not a bearer token), so the matrix
(tests/functional/core/test_role_matrix.py) iterates the API's ``Route``s and this iterates
``functions.web.main.PAGES``. A new page is covered with no list to edit:
without a session it is the sign-in page (unless public), a page of the other role (a citizen on the desk, an
agent in the app) is a 403 page, a POST without the session's CSRF token is a 403 page, and every answer
carries the security headers and never a stack trace."""

from __future__ import annotations

import re

import pytest
import requests

from functions.web.main import PAGES
from functions.web.web import Page
from local.harness import Platform
from tests.functional.web.web_support import sign_in

PARAM = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")
SAMPLES = {"code": "en", "name": "app.css", "purpose": "campaigns", "flag": "alerts"}


def _path(page: Page) -> str:
    return PARAM.sub(lambda m: SAMPLES.get(m.group(1), "x-1"), page.rule)


def _label(page: Page) -> str:
    return f"{page.method} {page.rule}"


def _checked(response: requests.Response) -> requests.Response:
    assert response.status_code < 500, (response.status_code, response.text[:300])
    assert "Traceback" not in response.text
    assert "default-src 'self'" in response.headers.get("Content-Security-Policy", "")
    assert response.headers.get("X-Content-Type-Options") == "nosniff"
    return response


@pytest.fixture(scope="module")
def signed_in(platform: Platform) -> requests.Session:
    return sign_in(platform, "c-page-audit")


@pytest.fixture(scope="module")
def agent(platform: Platform) -> requests.Session:
    return sign_in(platform, "agent-page-audit", "agent", "/desk/", 1, "atencion-ciudadania")


@pytest.fixture(scope="module")
def admin(platform: Platform) -> requests.Session:
    return sign_in(platform, "admin-page-audit", "admin", "/desk/")


SIGNED = ("session", "agent", "admin")


def test_the_audit_sees_every_page() -> None:
    assert len(PAGES) >= 30 and all(p.access in ("public", *SIGNED) for p in PAGES)
    assert {p.access for p in PAGES if p.rule.startswith("/desk/")} == {"public", "agent", "admin"}


@pytest.mark.parametrize("page", [p for p in PAGES if p.access in SIGNED], ids=_label)
def test_without_a_session_a_page_is_the_sign_in_page(platform: Platform, page: Page) -> None:
    answer = _checked(
        requests.request(page.method, platform.url(_path(page)), data={"csrf": "x"}, allow_redirects=False, timeout=15)
    )
    assert answer.status_code == 401 and 'id="signin"' in answer.text


@pytest.mark.parametrize("page", [p for p in PAGES if p.method == "POST"], ids=_label)
def test_a_post_without_the_csrf_token_is_a_403_page(
    platform: Platform, signed_in: requests.Session, agent: requests.Session, admin: requests.Session, page: Page
) -> None:
    browser = {"agent": agent, "admin": admin}.get(page.access, signed_in)
    answer = _checked(browser.post(platform.url(_path(page)), data={}, allow_redirects=False, timeout=15))
    assert answer.status_code == 403 and 'id="error-title"' in answer.text


@pytest.mark.parametrize("page", [p for p in PAGES if p.access in SIGNED], ids=_label)
def test_a_page_of_another_role_is_a_403_page(
    platform: Platform, signed_in: requests.Session, agent: requests.Session, admin: requests.Session, page: Page
) -> None:
    others = [b for role, b in (("session", signed_in), ("agent", agent), ("admin", admin)) if role != page.access]
    for browser in others:
        answer = _checked(browser.request(page.method, platform.url(_path(page)), data={}, allow_redirects=False,
                                          timeout=15))  # fmt: skip
        assert answer.status_code == 403 and 'id="error-title"' in answer.text


@pytest.mark.parametrize("page", [p for p in PAGES if p.access == "public" and p.method == "GET"], ids=_label)
def test_a_public_page_answers_without_a_session(platform: Platform, page: Page) -> None:
    answer = _checked(requests.get(platform.url(_path(page)), allow_redirects=False, timeout=15))
    assert answer.status_code in (200, 302, 303, 400, 404)
