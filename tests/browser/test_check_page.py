"""``check_page`` itself, against small pages served here with the channels' headers (CSP without inline
scripts or styles): a good page passes and leaves its screenshot; each kind of fault fails it, named."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import Page

from tests.browser.support import SCREENSHOTS, PageProblemsError, check_page

HEADERS = {
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
STYLE = """
body { font: 16px/1.5 system-ui, sans-serif; color: #1a1a1a; background: #fff; margin: 0; }
a { color: #0b4f8a; }
.skip { position: absolute; left: -999px; }
.skip:focus { left: 1rem; top: 1rem; background: #fff; }
:focus-visible { outline: 3px solid #0b4f8a; outline-offset: 2px; }
.no-focus :focus, .no-focus :focus-visible { outline: none; }
main { padding: 1rem; }
"""
BODY = """<!doctype html><html lang="es"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{title}</title>
<link rel="stylesheet" href="/app.css"></head><body class="{body_class}">
<a class="skip" href="#main">Saltar al contenido</a>
<header><nav aria-label="Principal"><a href="/good">Inicio</a> <a href="/good#ayuda">Ayuda</a></nav></header>
<main id="main"><h1>{title}</h1>{content}</main></body></html>"""
FORM = """<form method="post" action="/good"><label for="barrio">Barrio</label>
<input id="barrio" name="barrio" autocomplete="off"><button type="submit">Suscribirme</button></form>"""
PAGES = {
    "/good": BODY.format(title="Mis avisos", body_class="", content=FORM),
    "/unlabelled": BODY.format(
        title="Sin etiquetas", body_class="", content='<img src="/app.css"><input name="barrio"><button></button>'
    ),
    "/no-focus": BODY.format(title="Sin foco", body_class="no-focus", content=FORM),
    "/inline-script": BODY.format(
        title="Script en línea", body_class="", content=FORM + "<script>document.title = 'x'</script>"
    ),
}


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body, kind = (STYLE, "text/css") if self.path == "/app.css" else (PAGES.get(self.path), "text/html")
        if body is None:
            self.send_error(404)
            return
        data = body.encode()
        self.send_response(200)
        self.send_header("Content-Type", f"{kind}; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in HEADERS.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        """Quiet: the test output is the pages' problems."""


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_good_page_passes_and_leaves_its_screenshot(page: Page, site: str, width: str) -> None:
    page.goto(site + "/good")
    check_page(page)
    width_px = page.viewport_size["width"] if page.viewport_size else 0
    assert (SCREENSHOTS / f"test_a_good_page_passes_and_leaves_its_screenshot-{width_px}.png").stat().st_size > 0


def test_axe_violations_fail_the_page_each_listed(page: Page, site: str) -> None:
    page.goto(site + "/unlabelled")
    with pytest.raises(PageProblemsError) as failed:
        check_page(page)
    report = str(failed.value)
    for rule in ("image-alt", "label", "button-name"):
        assert f"axe {rule} (" in report, report


def test_a_focus_without_indicator_fails_the_page(page: Page, site: str) -> None:
    page.goto(site + "/no-focus")
    with pytest.raises(PageProblemsError, match="shows no visible focus indicator"):
        check_page(page)


def test_an_inline_script_refused_by_the_csp_fails_the_page(page: Page, site: str) -> None:
    page.goto(site + "/inline-script")
    assert page.title() == "Script en línea"  # the CSP refused to run it
    with pytest.raises(PageProblemsError, match=r"CSP: .*Content Security Policy"):
        check_page(page)


def test_the_skip_link_is_the_first_tab_stop_and_moves_to_the_content(page: Page, site: str) -> None:
    page.goto(site + "/good")
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.textContent") == "Saltar al contenido"
    page.keyboard.press("Enter")
    assert page.url.endswith("#main")
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.id") == "barrio"
