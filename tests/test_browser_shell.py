"""A demo user logs in through a real browser, in zh-hans, and sees their home page."""

import pytest

from organisations.demo import DEMO_PASSWORD, seed_organisations
from tests.browser import login

pytestmark = pytest.mark.browser


def test_demo_obstetrician_logs_in_and_sees_home_in_chinese(live_server, browser):
    seed_organisations()
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    requests: list = []
    page.on("requestfinished", lambda request: requests.append((request.url, request.response().status)))
    page.goto(f"{live_server.url}/")
    assert "/accounts/login/" in page.url
    assert page.locator("[data-testid=login-submit]").inner_text().strip() == "登录"
    assert page.locator("[data-testid=language-en]").text_content().strip() == "English"

    login(page, live_server.url, "minhou_obstetrician", DEMO_PASSWORD)
    assert page.url.rstrip("/") == live_server.url
    welcome = page.locator("[data-testid=home-welcome]")
    assert "您好" in welcome.inner_text()
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
    seed_organisations()
    page = browser.new_page(locale="zh-CN")
    login(page, live_server.url, "minhou_obstetrician", "wrong-password")
    assert "/accounts/login/" in page.url
    assert "用户名" in page.content()
