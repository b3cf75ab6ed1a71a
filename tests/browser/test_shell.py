"""A demo user logs in through a real browser, in zh-hans, and sees their home page.

These are the only browser tests that use the login form; the others sign in with a session cookie
(tests/browser/__init__.py). Every wait is on a condition with a generous timeout.
"""

import re

import pytest

from organisations.demo import DEMO_PASSWORD, seed_organisations
from tests.browser import login_with_form, sign_in

pytestmark = pytest.mark.browser


def test_demo_obstetrician_logs_in_and_sees_home_in_chinese(live_server, browser):
    from playwright.sync_api import expect

    seed_organisations()
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    requests: list = []
    page.on("requestfinished", lambda request: requests.append((request.url, request.response().status)))
    page.goto(f"{live_server.url}/")
    assert "/accounts/login/" in page.url
    assert page.locator("[data-testid=login-submit]").inner_text().strip() == "登录"
    assert page.locator("[data-testid=language-en]").text_content().strip() == "English"

    login_with_form(page, live_server.url, "minhou_obstetrician", DEMO_PASSWORD)
    welcome = page.locator("[data-testid=home-welcome]")
    expect(welcome).to_contain_text("您好")
    assert page.url.rstrip("/") == live_server.url
    assert "闽侯县医院" in welcome.inner_text() and "产科医生" in welcome.inner_text()
    centres = page.locator("[data-testid=home-covering-centres]").inner_text()
    assert "本机构的上级救治中心" in centres and "福州市妇幼保健院" in centres
    assert page.locator("a[href^='tel:']").count() >= 2
    # Every asset comes from this server (hospital intranets have no internet), and each one loaded.
    assert requests and all(url.startswith(live_server.url) for url, _status in requests)
    assert any("/static/viewflow/css/viewflow.min.css" in url for url, _status in requests)
    assert all(status == 200 for url, status in requests if "/static/" in url)
    context.close()


def test_wrong_password_stays_on_login_with_message(live_server, browser):
    from playwright.sync_api import expect

    seed_organisations()
    page = browser.new_page(locale="zh-CN")
    login_with_form(page, live_server.url, "minhou_obstetrician", "wrong-password")
    expect(page.locator("form.vf-form")).to_contain_text("请输入一个正确的")
    assert "/accounts/login/" in page.url
    expect(page.locator("[data-testid=login-submit]")).to_be_visible()


def test_session_cookie_signs_in_without_the_form(live_server, browser):
    """The sign-in every other browser test uses: a server-side session, its cookie in the context."""
    from playwright.sync_api import expect

    seed_organisations()
    context = browser.new_context(locale="zh-CN")
    sign_in(context, live_server.url, "minhou_obstetrician")
    page = context.new_page()
    page.goto(f"{live_server.url}/")
    expect(page.locator("[data-testid=home-welcome]")).to_contain_text("闽侯县医院")
    assert not re.search(r"/accounts/login/", page.url)
    context.close()
