"""Process 1 in real browsers: an obstetrician registers and books a woman, ticks findings, sees the
colour turn red live, saves; the responsible doctor's page and the county MCH officer's open page
show the alert without reloading (real uvicorn with websockets: tests/asgi_live.py)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from cases.identity import id_check_char
from tests.asgi_live import LiveAsgiServer
from tests.browser import TIMEOUT_MS, chromium_path

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server() -> Iterator[LiveAsgiServer]:
    if chromium_path() is None:
        pytest.skip("No Chromium installed (apt-get install chromium): browser tests skipped.")
    live = LiveAsgiServer()
    try:
        live.prepare().start()
        yield live
    finally:
        live.close()


def signed_in(browser, server: LiveAsgiServer, username: str):  # type: ignore[no-untyped-def]
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    server.sign_in(context, username)
    page.goto(f"{server.url}/")
    return context, page


def test_obstetrician_sees_red_live_and_the_alerts_arrive(server, browser):
    from playwright.sync_api import expect

    mch_context, mch_page = signed_in(browser, server, "minhou_mch")
    expect(mch_page.locator("[data-testid=alert-bell]")).to_have_attribute("data-status", "online")
    mch_page.evaluate("window.__sameDocument = true")

    context, page = signed_in(browser, server, "minhou_obstetrician")
    page.goto(f"{server.url}/cases/women/new/")
    first17 = "35012119930517002"
    page.fill("input[name=name]", "浏览器孕妇")
    page.fill("input[name=id_number]", first17 + id_check_char(first17))
    page.fill("input[name=phone]", "13911112222")
    page.click("[data-testid=submit]")
    expect(page.locator("[data-testid=woman-detail]")).to_contain_text("浏览器孕妇")

    page.click("[data-testid=book]")
    page.fill("input[name=lmp]", (dt.date.today() - dt.timedelta(days=90)).isoformat())  # noqa: DTZ011
    page.click("[data-testid=submit]")
    expect(page.locator("[data-testid=screening-form]")).to_be_visible()
    for radio in page.locator("input[type=radio][value=no]").all():
        radio.check()
    page.check("input[name='item_7.1.1'][value=yes]")
    page.click("[data-testid=submit]")
    expect(page.locator("[data-testid=pregnancy-summary]")).to_be_visible()

    page.click("[data-testid=assess]")
    live = page.locator("[data-testid=live-result] [data-live-colour]")
    expect(live).to_have_attribute("data-colour", "green")
    # What is not assessed yet is named by the form's labels, not the engine's keys.
    status = page.locator("[data-testid=live-result] [data-live-status]")
    expect(status).to_contain_text("血红蛋白（g/L）")
    expect(status).to_contain_text("BMI（身高、体重）")
    expect(status).not_to_contain_text("hb_g_l")
    page.locator("details.anmu-section", has_text="R1").first.evaluate("d => d.open = true")
    page.check("input[data-finding][value='R1.1.4']")
    expect(live).to_have_attribute("data-colour", "red")
    expect(live).to_have_text("红色")
    expect(page.locator("[data-live-rows]")).to_contain_text("R1.1.4")
    page.uncheck("input[data-finding][value='R1.1.4']")
    expect(live).to_have_attribute("data-colour", "green")
    page.fill("input[name=pa_pressure_mmhg]", "62")
    expect(live).to_have_attribute("data-colour", "red")
    expect(page.locator("[data-live-rows]")).to_contain_text("R1.1.1")
    page.click("[data-testid=submit]")

    timeline = page.locator("[data-testid=colour-timeline]")
    expect(timeline).to_contain_text("R1.1.1")
    expect(page.locator("[data-testid=case]")).to_be_visible()
    # The responsible doctor (she who assessed) gets her alert on the page she is on...
    expect(page.locator("[data-testid=alert-toast]", has_text="浏览器孕妇")).to_be_visible(timeout=TIMEOUT_MS)
    # ...and the county MCH officer's untouched page shows the new case too.
    expect(mch_page.locator("[data-testid=alert-toast]", has_text="浏览器孕妇")).to_be_visible(timeout=TIMEOUT_MS)
    assert mch_page.evaluate("window.__sameDocument") is True
    rows = server.query("SELECT kind FROM notifications_alert na JOIN organisations_user u ON u.id = na.recipient_id "
                        "WHERE u.username = ? ORDER BY na.created_at", ("minhou_mch",))
    assert ("highrisk.opened.mch",) in rows
    context.close()
    mch_context.close()
