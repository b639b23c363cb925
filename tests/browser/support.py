"""What every browser test checks on every page it reaches: axe-core's WCAG 2.1 AA rules (any violation fails,
all of them listed), a visible focus indicator on keyboard Tab, no Content-Security-Policy refusal, no stack
trace, and a screenshot kept as an artefact in ``.pic-data/screenshots/<test>-<width>.png``.

The browser is Debian's Chromium driven by Playwright (no browser download); axe-core is the npm package
installed by ``scripts/bootstrap.sh`` into ``.tools/axe``. axe is evaluated through the DevTools protocol, not
as a ``<script>`` tag, so the page's own CSP (no inline scripts) stays in force during the check."""

from __future__ import annotations

import os
import re
import weakref
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playwright.sync_api import ConsoleMessage, Page

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("PIC_CHROMIUM", "/usr/bin/chromium"))
AXE = ROOT / ".tools" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / ".pic-data" / "screenshots"
# the machine's network is closed: without these Chromium keeps trying to reach Google's hosts
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WIDTHS = {"mobile": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 800}}
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
# how many keyboard Tab stops are checked for a visible focus indicator
TAB_STOPS = 3
# the computed styles a focus indicator shows in: an outline, a ring (box-shadow), a border, a background
FOCUS_STYLES = ("outlineStyle", "outlineWidth", "outlineColor", "boxShadow", "borderColor", "backgroundColor")


def missing() -> str | None:
    """Why the browser tests cannot run here, or None when Chromium and axe-core are installed."""
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing: scripts/bootstrap.sh installs Debian's chromium when it runs as root"
    if not AXE.exists():
        return f"{AXE.relative_to(ROOT)} is missing: scripts/bootstrap.sh installs axe-core with npm"
    return None


class PageProblemsError(AssertionError):
    """A page failed the checks: every problem found, one per line, so one run shows them all."""


@dataclass
class Watch:
    """The console errors and warnings a page printed (CSP refusals arrive here), with the page they came
    from; ``check_page`` empties it, so each check sees what happened since the one before."""

    messages: list[str] = field(default_factory=list)

    def __call__(self, message: ConsoleMessage) -> None:
        if message.type in ("error", "warning"):
            self.messages.append(f"{message.text} (on {message.location.get('url') or 'the page'})")

    def csp_refusals(self) -> list[str]:
        """Each distinct refusal once, with how many times it happened."""
        found = Counter(m for m in self.messages if "Content Security Policy" in m)
        return [f"{text} ×{count}" if count > 1 else text for text, count in found.items()]

    def clear(self) -> None:
        self.messages.clear()


_WATCHES: weakref.WeakKeyDictionary[Page, Watch] = weakref.WeakKeyDictionary()


def watch(page: Page) -> Watch:
    """Start collecting the page's console errors: call it once, right after the page is made."""
    seen = _WATCHES.setdefault(page, Watch())
    page.on("console", seen)
    return seen


def check_page(page: Page, label: str = "") -> None:
    """The page as it is now passes axe's WCAG 2.1 AA rules, shows focus on Tab and broke no CSP rule; its
    screenshot is saved either way (named after the running test, ``label`` and the viewport width)."""
    shot = screenshot(page, label)
    problems = [f"axe {v}" for v in axe_violations(page)]
    problems += [f"focus: {p}" for p in focus_problems(page)]
    seen = _WATCHES.get(page)
    problems += [f"CSP: {m}" for m in (seen.csp_refusals() if seen else [])]
    if seen:
        seen.clear()
    if "Traceback (most recent call last)" in page.content():
        problems.append("the page shows a stack trace")
    if problems:
        lines = "\n  ".join(problems)
        raise PageProblemsError(f"{page.url} ({shot.name}) has {len(problems)} problem(s):\n  {lines}")


def axe_violations(page: Page) -> list[str]:
    """axe-core's WCAG 2.1 A/AA violations on the page, one line each: rule, impact, help and the elements."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE.read_text(encoding="utf-8") + "\n;undefined")
    result: dict[str, Any] = page.evaluate(
        "(tags) => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
        WCAG_AA,
    )
    # axe's checks (colour contrast) leave empty style="" attributes behind; a later htmx swap copies them to the
    # new elements, which the CSP then refuses: put the page back as the server sent it
    page.evaluate("() => document.querySelectorAll('[style=\"\"]').forEach(el => el.removeAttribute('style'))")
    lines = []
    for violation in result["violations"]:
        targets = ", ".join(" ".join(node["target"]) for node in violation["nodes"][:5])
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']} — {targets}")
    return lines


def focus_problems(page: Page, stops: int = TAB_STOPS) -> list[str]:
    """Press Tab from the top of the page ``stops`` times; each element reached must be a real control and look
    different focused than unfocused (WCAG 2.4.7). The page is left as it was (focus cleared)."""
    page.evaluate("() => { document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0); }")
    problems = []
    for stop in range(1, stops + 1):
        page.keyboard.press("Tab")
        found: dict[str, Any] = page.evaluate(_FOCUS_PROBE, list(FOCUS_STYLES))
        if found["tag"] in ("BODY", "HTML", None):
            if stop == 1:
                problems.append("Tab reaches no control (nothing focusable, or focus is trapped)")
            break  # fewer controls than stops: the ones there were are checked
        if found["focused"] == found["unfocused"]:
            problems.append(f"Tab stop {stop} ({found['describe']}) shows no visible focus indicator")
        elif not _visible_change(found["focused"], found["unfocused"]):
            problems.append(f"Tab stop {stop} ({found['describe']}) changes focus style invisibly")
    page.evaluate("() => { document.activeElement && document.activeElement.blur(); }")
    return problems


def _visible_change(focused: dict[str, str], unfocused: dict[str, str]) -> bool:
    """An outline counts only when drawn (a style other than none and a width above zero); a ring, border or
    background counts when it changed."""
    outline = focused["outlineStyle"] != "none" and _px(focused["outlineWidth"]) > 0
    if outline and (focused["outlineStyle"], focused["outlineWidth"], focused["outlineColor"]) != (
        unfocused["outlineStyle"],
        unfocused["outlineWidth"],
        unfocused["outlineColor"],
    ):
        return True
    return any(focused[k] != unfocused[k] for k in ("boxShadow", "borderColor", "backgroundColor"))


def _px(value: str) -> float:
    match = re.match(r"([\d.]+)px", value)
    return float(match.group(1)) if match else 0.0


# the focused element's styles, then the same element's with focus moved away (a temporary focusable sink)
_FOCUS_PROBE = """(keys) => {
  const el = document.activeElement;
  if (!el || el === document.body) return {tag: el ? el.tagName : null};
  const pick = () => { const s = getComputedStyle(el); return Object.fromEntries(keys.map(k => [k, s[k]])); };
  const focused = pick();
  const describe = el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
    ' "' + (el.innerText || el.value || el.getAttribute('aria-label') || '').trim().slice(0, 40) + '"';
  const sink = document.createElement('span');
  sink.tabIndex = -1;
  document.body.appendChild(sink);
  sink.focus({preventScroll: true});
  const unfocused = pick();
  sink.remove();
  el.focus({preventScroll: true, focusVisible: true});
  return {tag: el.tagName, describe, focused, unfocused};
}"""


def screenshot(page: Page, label: str = "") -> Path:
    """Save the whole page to ``.pic-data/screenshots/<test>[-<label>]-<width>.png`` (gitignored artefacts)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    width = (page.viewport_size or {"width": 0})["width"]
    name = "-".join(part for part in (_current_test(), label, str(width)) if part)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def _current_test() -> str:
    """The running test's name with its parameters (from pytest's PYTEST_CURRENT_TEST), safe as a file name."""
    current = os.environ.get("PYTEST_CURRENT_TEST", "page").split("::")[-1].rsplit(" ", 1)[0]
    current = re.sub(r"\[(mobile|desktop)\]$", "", current)  # the width is in the name already
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", current).strip("-")
