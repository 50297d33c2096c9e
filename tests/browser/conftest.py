"""Browser tests: Debian's Chromium driven by Playwright against a live riffweb."""

import os
import shutil

import pytest

CHROMIUM = os.environ.get("RIFFWEB_CHROMIUM", "/usr/bin/chromium")

# Playwright's sync API runs an event loop in the test's thread; the ORM calls the
# tests make there to set up data are still plain synchronous code.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not shutil.which(CHROMIUM):
        pytest.fail(f"Chromium is not installed at {CHROMIUM}: apt-get install chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--autoplay-policy=no-user-gesture-required",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    """A fresh page; every journey also proves the Content-Security-Policy blocked nothing."""
    context = browser.new_context(accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    refused = []
    page.on("console", lambda message: refused.append(message.text) if "Policy" in message.text else None)
    yield page
    context.close()
    assert refused == [], "the page broke its Content-Security-Policy (or sent a Permissions-Policy it rejects)"


def log_in(page, live_server, username: str, password: str):
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}/")


# Poll the engine often: these tests watch songs finish in seconds, not minutes.
FAST_POLLING = {"RIFFWEB_POLL_FIRST": "0.3", "RIFFWEB_POLL_MIN": "0.3", "RIFFWEB_POLL_MAX": "1"}


@pytest.fixture
def stack(settings, live_server):
    """The local engine and a real worker cluster, speaking the dialect a test asks for."""
    from contextlib import ExitStack

    from tests.cluster import running_engine, running_qcluster

    with ExitStack() as contexts:

        def start(dialect: str = "riffusion", **engine_config):
            engine_config.setdefault("render_delay", 0.05)
            engine_config.setdefault("trusted_url_prefixes", (live_server.url,))
            engine = contexts.enter_context(running_engine(**engine_config))
            settings.RIFFWEB_UPSTREAM_DIALECT = dialect
            settings.RIFFWEB_UPSTREAM_URL = engine.url
            settings.RIFFWEB_PUBLIC_URL = live_server.url
            env = FAST_POLLING | {
                "RIFFWEB_UPSTREAM_DIALECT": dialect,
                "RIFFWEB_PUBLIC_URL": live_server.url,
            }
            contexts.enter_context(running_qcluster(engine.url, env))
            return engine

        yield start
