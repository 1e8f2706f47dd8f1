"""Browser tests: Debian's chromium, driven by Playwright, against the real server.

Each UI mode ("builtin", "chatkit", "auto") gets its own server process
(uvicorn on a free port, a fresh SQLite file, the echo model), started once
per session by :func:`tests.servers.live_server` and shut down at the end.
Nothing here touches pytest-django's test database.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.servers import PROJECT, LiveServer, live_server

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
MANIFEST = PROJECT / "frontend" / "dist" / ".vite" / "manifest.json"
ARTIFACTS = PROJECT / "test-artifacts"


def pytest_collection_modifyitems(items):
    # Everything in this folder drives the browser.
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def _browser_ready():
    if not MANIFEST.exists():
        pytest.skip("frontend bundle not built: run `make frontend` (npm ci && npm run build)")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing: run `make chromium`")
    pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="session")
def servers(tmp_path_factory, _browser_ready) -> Iterator[Callable[[str], LiveServer]]:
    """``servers(ui, **env)`` returns a running server whose page is in that UI mode.

    Extra ``env`` (settings such as ``CHATKIT_MODELS``) gets a server of its own.
    """
    running: dict[tuple, LiveServer] = {}
    with contextlib.ExitStack() as stack:

        def get(ui: str, **env: str) -> LiveServer:
            key = (ui, *sorted(env.items()))
            if key not in running:
                settings = {"CHATKIT_UI": ui, "CHATKIT_ECHO_DELAY": "0.05", **env}  # slow enough to watch words arrive
                running[key] = stack.enter_context(live_server(tmp_path_factory.mktemp(f"browser-{ui}"), **settings))
            return running[key]

        yield get


@pytest.fixture(scope="module")
def browser(_browser_ready):
    # Module scope, not session: the sync API keeps an asyncio loop running
    # while it is open, which would break the async tests that run after these.
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    """A fresh browser context (own cookies, own localStorage, so its own anonymous owner)."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.page_errors = errors  # type: ignore[attr-defined]
    yield page
    context.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Screenshots kept after the run (git-ignored)."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session", autouse=True)
def _no_stale_artifacts():
    # Only this folder's own screenshots are replaced; other suites may write here too.
    for old in ARTIFACTS.glob("browser-*.png") if ARTIFACTS.exists() else []:
        old.unlink()
    yield
