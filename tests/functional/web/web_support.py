"""Helpers the citizen app's functional tests share: a browser-like ``requests.Session`` signed in through
the dev IdP's OpenID Connect flow, and the page's CSRF token."""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qs, urlparse

import requests

from local.harness import Platform

HIDDEN = re.compile(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)">')
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def sign_in(
    platform: Platform, sub: str, role: str = "citizen", next_path: str = "/app/", level: int = 0, area: str = ""
) -> requests.Session:
    """Sign in as a person does: the app's sign-in link, the IdP's page, its form, the app's callback (an
    agent: with ``next_path`` under ``/desk/``, an attention ``level`` and an ``area``)."""
    browser = requests.Session()
    start = browser.get(platform.url(f"/app/auth/signin?next={next_path}"), allow_redirects=False, timeout=10)
    assert start.status_code == 302, start.text
    authorize = browser.get(start.headers["Location"], timeout=10)
    assert authorize.status_code == 200, authorize.text
    fields = {name: html.unescape(value) for name, value in HIDDEN.findall(authorize.text)}
    assert fields["code_challenge_method"] == "S256"
    chosen = browser.post(
        platform.url("/authorize"),
        data={**fields, "sub": sub, "role": role, "level": str(level), "area": area},
        allow_redirects=False,
        timeout=10,
    )
    assert chosen.status_code == 302, chosen.text
    back = browser.get(chosen.headers["Location"], allow_redirects=False, timeout=15)
    assert back.status_code == 303, back.text
    assert back.headers["Location"] == next_path
    return browser


def callback_query(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlparse(location).query).items()}


def csrf_of(page: requests.Response) -> str:
    found = CSRF.search(page.text)
    assert found, "the page has no CSRF token"
    return found.group(1)
