"""The web benchmark submits a form as a browser would and weighs the shell from the assets a page links."""

from bench.web import parse

SIGN_IN = """<html><head><link rel="stylesheet" href="/app/static/app.css"><link rel="icon" href="/f.ico">
<script src="/app/static/htmx.min.js" defer></script></head><body>
<form method="post" action="/authorize" id="idp-form">
<input type="hidden" name="state" value="s&amp;1"><input name="sub" required>
<input type="checkbox" name="remember" value="1"><input type="checkbox" name="terms" value="yes" checked>
<select name="role"><option value="citizen">Ciudadanía</option><option value="agent">Agente</option></select>
<select name="level"><option>0</option><option>1</option><option selected>2</option></select>
<button type="submit">Entrar</button></form>
<form action="/app/lang"><input name="lang" value="en"></form></body></html>"""


def test_a_form_submits_what_a_browser_would() -> None:
    page = parse(SIGN_IN)
    form = page.forms["idp-form"]
    assert (form.action, form.method) == ("/authorize", "post")
    assert form.fields == {"state": "s&1", "sub": "", "terms": "yes", "role": "citizen", "level": "2"}
    assert page.forms["form-1"].method == "get"


def test_the_shell_is_the_stylesheets_and_scripts_a_page_links() -> None:
    assert parse(SIGN_IN).assets == ["/app/static/app.css", "/app/static/htmx.min.js"]
