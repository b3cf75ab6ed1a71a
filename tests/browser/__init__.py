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
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=TIMEOUT_MS)
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        try:
            yield instance
        finally:
            instance.close()


# Every wait in a browser test is on a condition, with room for a loaded shared machine (two cores,
# several test runs at once): Playwright's `expect` default of 5 s failed there.
TIMEOUT_MS = 30_000


def login_with_form(page, base_url: str, username: str, password: str) -> None:  # type: ignore[no-untyped-def]
    """Sign in through the login form, as a person does. Only the tests of the login page itself use
    it; every other test signs in with a session cookie (``sign_in``) and waits for nothing here."""
    page.goto(f"{base_url}/accounts/login/", timeout=TIMEOUT_MS)
    page.fill("input[name=username]", username, timeout=TIMEOUT_MS)
    page.fill("input[name=password]", password, timeout=TIMEOUT_MS)
    page.click("[data-testid=login-submit]", timeout=TIMEOUT_MS)


def new_session_key(username: str, *, password_hash: str, user_id: int, secret_key: str | None = None) -> tuple[str, str]:
    """A signed-in session for a user, encoded exactly as ``django.contrib.auth.login`` stores it:
    (session_key, session_data) for a ``django_session`` row. ``secret_key`` is the key of the server
    that will read it (a subprocess server has its own)."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
    from django.contrib.auth.backends import ModelBackend
    from django.contrib.sessions.backends.base import VALID_KEY_CHARS
    from django.contrib.sessions.backends.db import SessionStore
    from django.test.utils import override_settings
    from django.utils.crypto import get_random_string
    from django.utils.module_loading import import_string

    # The backend login() would record: the first that loads users by id (an authenticate-only
    # backend such as a login-lockout one may come first).
    backend = next((path for path in settings.AUTHENTICATION_BACKENDS
                    if issubclass(import_string(path), ModelBackend)), settings.AUTHENTICATION_BACKENDS[0])
    with override_settings(SECRET_KEY=secret_key or settings.SECRET_KEY):
        user = get_user_model()(pk=user_id, username=username, password=password_hash)
        data = {SESSION_KEY: str(user_id), BACKEND_SESSION_KEY: backend,
                HASH_SESSION_KEY: user.get_session_auth_hash()}
        return get_random_string(32, VALID_KEY_CHARS), SessionStore().encode(data)


def add_session_cookie(context, base_url: str, session_key: str) -> None:  # type: ignore[no-untyped-def]
    from django.conf import settings

    context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": session_key, "url": base_url}])


def sign_in(context, base_url: str, username: str) -> None:  # type: ignore[no-untyped-def]
    """Sign ``username`` in to pytest-django's ``live_server`` (the test's own database) with a session
    cookie: a session made server-side, as ``Client.force_login`` makes it, no login form."""
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client

    client = Client()
    client.force_login(get_user_model().objects.get(username=username))
    add_session_cookie(context, base_url, client.cookies[settings.SESSION_COOKIE_NAME].value)


def wait_until(page, expression: str, timeout_ms: int) -> None:  # type: ignore[no-untyped-def]
    """Wait until ``expression`` is truthy in the page. Playwright's ``wait_for_function`` re-evaluates
    its predicate with ``eval`` inside the page, which Anmu's Content-Security-Policy refuses (no
    'unsafe-eval'); ``page.evaluate`` goes through the DevTools protocol, which the policy does not govern."""
    import time

    deadline = time.monotonic() + timeout_ms / 1000
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout_ms} ms: {expression}")
        page.wait_for_timeout(200)
