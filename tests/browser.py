"""Headless Chromium for browser tests (Playwright driving Debian's /usr/bin/chromium).

Tests that use the ``browser`` fixture are skipped, with a message saying why, only when no Chromium
is installed; CI installs Debian's ``chromium`` so they always run there.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
]


def chromium_path() -> str | None:
    configured = os.environ.get("CHROMIUM_PATH")
    if configured:
        return configured
    for candidate in CHROMIUM_CANDIDATES:
        if shutil.which(candidate):
            return candidate
    return None


@pytest.fixture
def browser() -> Iterator[object]:
    path = chromium_path()
    if path is None:
        pytest.skip("No Chromium installed (apt-get install chromium): browser tests skipped.")
    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls are still
    # synchronous and safe.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        try:
            yield instance
        finally:
            instance.close()


def login(page, base_url: str, username: str, password: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base_url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("[data-testid=login-submit]")
    page.wait_for_load_state("networkidle")
