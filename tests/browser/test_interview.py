"""An interview notice in a real browser against a real ASGI server: the 闽侯县 bureau officer proposes an
interview of 闽侯县医院 and issues its notice; the hospital's head, with her inbox open, sees the notice arrive
live and finds it in her inbox.

Set ANMU_SCREENSHOTS=<dir> to keep screenshots of the pages involved.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from tests.asgi_live import LiveAsgiServer
from tests.browser import TIMEOUT_MS, chromium_path
from tests.browser.test_alerts import shot

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server() -> Iterator[LiveAsgiServer]:
    if chromium_path() is None:
        pytest.skip("No Chromium installed (apt-get install chromium): browser tests skipped.")
    live = LiveAsgiServer()
    try:
        live.prepare()
        live.manage("seed_demo")
        live.start()
        yield live
    finally:
        live.close()


def signed_in(browser, server: LiveAsgiServer, username: str):  # type: ignore[no-untyped-def]
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": 1366, "height": 900})
    page = context.new_page()
    server.sign_in(context, username)
    return context, page


def test_the_bureau_issues_a_notice_and_the_summoned_hospitals_head_sees_it_live(server, browser):
    from playwright.sync_api import expect

    hospital = str(uuid.UUID(server.query("SELECT id FROM organisations_institution WHERE name = ?",
                                          ("闽侯县医院",))[0][0]))
    context_h, head = signed_in(browser, server, "minhou_head")
    head.goto(f"{server.url}/interview/")
    expect(head.locator("[data-testid=alert-bell]")).to_have_attribute("data-status", "online", timeout=TIMEOUT_MS)
    expect(head.locator("[data-testid=interview-inbox]")).to_contain_text("无")

    context_b, officer = signed_in(browser, server, "minhou_bureau")
    officer.goto(f"{server.url}/interview/new/")
    officer.fill("#id_subject", "转诊响应超时约谈")
    officer.fill("#id_reasons", "本季度3次危重孕产妇转诊应答超时")
    officer.select_option("#id_parties", [hospital])
    officer.click("[data-testid=submit]")
    expect(officer.locator("[data-testid=interview-state]")).to_have_text("待决定", timeout=TIMEOUT_MS)
    officer.click("[data-step=notify]")
    officer.fill("#id_number", "闽侯卫妇幼约〔2026〕9号")
    officer.evaluate("""() => { const d = new Date(Date.now() + 3 * 86400 * 1000);
        const p = (n) => String(n).padStart(2, '0');
        document.querySelector('#id_scheduled_at').value =
          `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T09:00`; }""")
    officer.fill("#id_place", "县卫健局三楼会议室")
    officer.click("[data-testid=submit]")
    expect(officer.locator("[data-testid=interview-state]")).to_have_text("已发通知", timeout=TIMEOUT_MS)
    shot(officer, "interview-notified")

    toast = head.locator("[data-testid=alert-toast]", has_text="闽侯卫妇幼约〔2026〕9号")
    expect(toast).to_be_visible(timeout=TIMEOUT_MS)  # pushed over the websocket, no reload
    shot(head, "interview-notice-live")
    head.reload()
    expect(head.locator("[data-testid=interview-inbox]")).to_contain_text("闽侯卫妇幼约〔2026〕9号")
    expect(head.locator("[data-testid=interview-inbox]")).to_contain_text("已送达通知")
    context_h.close()
    context_b.close()
