"""Live alerts in real browsers against a real ASGI server (uvicorn with websockets; see tests/asgi_live.py).

User A's action in one browser raises an alert for user B, whose open page (another browser context)
shows the toast and a new bell count without reloading; B acknowledges on the toast and the count
drops. Then the server goes away: the bell shows it is offline, reconnects by itself when the server
is back, and the backlog brings the critical alert raised meanwhile, with its alarm sound.

Set ANMU_SCREENSHOTS=<dir> to keep screenshots of the pages involved.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import time
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import pytest

from tests.asgi_live import LiveAsgiServer
from tests.browser import TIMEOUT_MS, chromium_path, wait_until

pytestmark = pytest.mark.browser

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Counts the tones the page generates (alerts.js makes its alarm with WebAudio oscillators).
COUNT_TONES = """
window.__tones = 0;
if (window.AudioContext) {
  const create = window.AudioContext.prototype.createOscillator;
  window.AudioContext.prototype.createOscillator = function () { window.__tones += 1; return create.apply(this, arguments); };
}
"""


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


def shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    folder = os.environ.get("ANMU_SCREENSHOTS")
    if folder:
        os.makedirs(folder, exist_ok=True)
        page.screenshot(path=os.path.join(folder, f"{name}.png"), full_page=True)


def signed_in(browser, server: LiveAsgiServer, username: str, *, init_script: str = ""):  # type: ignore[no-untyped-def]
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": 1280, "height": 860})
    if init_script:
        context.add_init_script(init_script)
    page = context.new_page()
    sockets: list[str] = []
    page.on("websocket", lambda ws: sockets.append(ws.url))
    server.sign_in(context, username)
    page.goto(f"{server.url}/")
    return context, page, sockets


def user_id(server: LiveAsgiServer, username: str) -> int:
    return server.query("SELECT id FROM organisations_user WHERE username = ?", (username,))[0][0]


def wait_for_row(server: LiveAsgiServer, sql: str, params: tuple, *, timeout: float = TIMEOUT_MS / 1000) -> list[tuple]:
    deadline = time.monotonic() + timeout
    while True:
        rows = server.query(sql, params)
        if rows or time.monotonic() > deadline:
            return rows
        time.sleep(0.1)


def test_colleagues_action_shows_a_toast_and_counts_without_reload(server, browser):
    from playwright.sync_api import expect

    context_b, page_b, sockets_b = signed_in(browser, server, "minhou_duty")
    bell = page_b.locator("[data-testid=alert-bell]")
    expect(bell).to_have_attribute("data-status", "online")
    before = int(bell.get_attribute("data-unread") or 0)
    page_b.evaluate("window.__sameDocument = true")

    # A, the county MCH officer, puts B on the roster through the roster page.
    context_a, page_a, _sockets_a = signed_in(browser, server, "minhou_mch")
    page_a.goto(f"{server.url}/organisations/roster/")
    expect(page_a.locator("[data-testid=roster-now]")).to_contain_text("闽侯县医院")
    shot(page_a, "roster")
    start = (dt.datetime.now(SHANGHAI) + dt.timedelta(days=10)).replace(hour=8, minute=0, second=0, microsecond=0)
    option = page_a.locator("#id_user option", has_text="minhou_duty")
    page_a.select_option("#id_user", option.get_attribute("value"))
    page_a.select_option("#id_kind", "duty")
    page_a.fill("#id_starts_at", start.strftime("%Y-%m-%dT%H:%M"))
    page_a.fill("#id_ends_at", (start + dt.timedelta(hours=24)).strftime("%Y-%m-%dT%H:%M"))
    page_a.click("[data-testid=shift-submit]")
    expect(page_a.locator("vf-snackbar")).to_contain_text("已排班", timeout=TIMEOUT_MS)

    # B's page, untouched, shows the toast and the new count.
    toast = page_b.locator("[data-testid=alert-toast]", has_text="您被排入闽侯县医院的值班")
    expect(toast).to_be_visible(timeout=TIMEOUT_MS)
    expect(toast).to_contain_text(start.strftime("%Y-%m-%d %H:%M"))
    expect(toast).to_contain_text("一般")
    expect(bell).to_have_attribute("data-unread", str(before + 1))
    expect(page_b.locator("[data-testid=alert-count]")).to_have_text(str(before + 1))
    assert page_b.evaluate("window.__sameDocument") is True
    shot(page_b, "toast")

    # The browser's receipt reached the table.
    me = user_id(server, "minhou_duty")
    delivered = wait_for_row(server, "SELECT id FROM notifications_alert WHERE recipient_id = ? AND kind = ? "
                                     "AND delivered_at IS NOT NULL", (me, "roster.shift"))
    assert len(delivered) == 1

    # B acknowledges on the toast: the count drops and the table names B.
    toast.locator("[data-testid=toast-ack]").click()
    expect(bell).to_have_attribute("data-unread", str(before))
    expect(toast).to_contain_text(re.compile(r"已由 \S+ 确认"))  # names who acknowledged
    expect(toast).to_be_hidden(timeout=TIMEOUT_MS)
    acknowledged = wait_for_row(server, "SELECT acknowledged_by_id FROM notifications_alert WHERE recipient_id = ? "
                                        "AND kind = ? AND acknowledged_at IS NOT NULL", (me, "roster.shift"))
    assert acknowledged == [(me,)]

    # The bell leads to the inbox through a Turbo visit: same document, same socket.
    bell.click()
    expect(page_b.locator("[data-testid=alert-inbox]")).to_be_visible()
    page_b.select_option("select[name=state]", "all")
    expect(page_b.locator("[data-testid=alert-row]", has_text="您被排入闽侯县医院的值班")).to_contain_text(
        re.compile(r"已由 \S+ 确认"))
    shot(page_b, "inbox")
    assert page_b.evaluate("window.__sameDocument") is True
    assert len(sockets_b) == 1
    context_a.close()
    context_b.close()


def test_offline_state_reconnect_and_critical_backlog_with_sound(server, browser):
    from playwright.sync_api import expect

    context, page, _sockets = signed_in(browser, server, "tongan_duty", init_script=COUNT_TONES)
    bell = page.locator("[data-testid=alert-bell]")
    expect(bell).to_have_attribute("data-status", "online")
    before = int(bell.get_attribute("data-unread") or 0)

    # Sound needs a gesture: the button turns it on (and plays a short sample); the choice is kept.
    page.click("[data-testid=alert-sound]")
    assert page.evaluate("localStorage.getItem('anmu.alerts.sound')") == "on"
    expect(page.locator("[data-testid=alert-sound]")).to_have_text("volume_up")
    tones_before = page.evaluate("window.__tones")
    assert tones_before > 0

    try:
        server.stop()
        expect(bell).to_have_class(re.compile(r"\banmu-bell--offline\b"), timeout=TIMEOUT_MS)
        expect(page.locator("[data-testid=alert-status]")).to_have_text("离线，正在重新连接…")
        shot(page, "offline")
        # While the server is away, a critical alert is written for this doctor (the table is the truth).
        server.manage("shell", "-c", (
            "from notifications.recipients import to_user\n"
            "from notifications.services import alert_raise\n"
            "from organisations.models import User\n"
            "alert_raise(kind='roster.gap', title='Nobody is on duty at %(institution)s',"
            " params={'institution': '厦门市第三医院'}, priority='critical',"
            " to=[to_user(User.objects.get(username='tongan_duty'))])\n"
        ))
    finally:
        server.start()

    # The page reconnects by itself; the backlog brings the critical alert, its toast and its alarm.
    expect(bell).to_have_attribute("data-status", "online", timeout=2 * TIMEOUT_MS)  # reconnect back-off
    expect(page.locator("[data-testid=alert-status]")).to_be_hidden()
    toast = page.locator("[data-testid=alert-toast][data-priority=critical]", has_text="厦门市第三医院无人值班")
    expect(toast).to_be_visible()
    expect(bell).to_have_attribute("data-unread", str(before + 1))
    wait_until(page, f"window.__tones > {tones_before}", TIMEOUT_MS)
    # A critical toast cannot be closed and does not fade: only acknowledging removes it.
    assert toast.locator(".anmu-toast__close").count() == 0
    alert_id = toast.get_attribute("data-alert-id")
    assert page.evaluate(f"window.AnmuAlerts.state.toasts.get('{alert_id}').timer") is None
    shot(page, "critical")

    toast.locator("[data-testid=toast-ack]").click()
    expect(bell).to_have_attribute("data-unread", str(before))
    expect(toast).to_be_hidden(timeout=TIMEOUT_MS)
    assert server.query("SELECT acknowledged_at IS NOT NULL FROM notifications_alert WHERE id = ?",
                        (alert_id.replace("-", ""),)) == [(1,)]
    context.close()
