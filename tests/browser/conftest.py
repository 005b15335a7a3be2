"""Browser tests: Playwright drives Debian's chromium (never a downloaded one)
against pytest-django's live server. axe-core comes from npm (node_modules)."""

import os
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; the ORM calls the
# tests make between page actions are still plain synchronous code.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (make test does it)")
    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run", "--disable-quic"],
        )  # fmt: skip
        yield b
        b.close()


class PageWatch:
    """Records what a page asked for beyond the live server's origin, and CSP violations."""

    def __init__(self, page, origin):
        self.page = page
        self.origin = origin
        self.foreign_requests = []
        self.console_errors = []
        page.on("request", self._on_request)
        page.on("console", self._on_console)

    def _on_request(self, request):
        url = request.url
        if not (url.startswith(self.origin) or url.startswith("data:") or url.startswith("blob:")):
            self.foreign_requests.append(url)

    def _on_console(self, msg):
        if msg.type == "error":
            self.console_errors.append(msg.text)

    @property
    def csp_violations(self):
        return [e for e in self.console_errors if "Content Security Policy" in e]


def open_page(browser, live_server, width=390, height=844):
    """A fresh browser context and page, watched for CSP violations and foreign requests."""
    context = browser.new_context(viewport={"width": width, "height": height})
    pg = context.new_page()
    pg.watch = PageWatch(pg, live_server.url)
    pg.set_default_timeout(10_000)
    return context, pg


@pytest.fixture
def page(browser, live_server):
    context, pg = open_page(browser, live_server)
    yield pg
    context.close()


_AXE_SRC = None


def _axe_source():
    global _AXE_SRC
    if _AXE_SRC is None:
        if not AXE.exists():
            pytest.fail("node_modules/axe-core is missing: run `npm ci` (make test does it)")
        _AXE_SRC = AXE.read_text()
    return _AXE_SRC


def axe_violations(page, impacts=("serious", "critical")):
    """Run axe-core in the page; return the violations of the given impacts."""
    # A page still loading is half-built: its deferred scripts (which hide,
    # show and focus things) have not run and its last markup may not be parsed.
    page.wait_for_load_state("load")
    # Evaluated through DevTools, not as a <script> tag, so the page's CSP
    # (which would rightly block an injected inline script) stays untouched.
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(_axe_source() + "\n;undefined")
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        {"id": v["id"], "impact": v["impact"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"]
        if v["impact"] in impacts
    ]
