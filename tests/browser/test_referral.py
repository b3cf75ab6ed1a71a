"""Referral in two real browsers against a real ASGI server (uvicorn with websockets).

A county obstetrician (闽侯县医院) sends an emergency referral; the city centre's duty doctor, whose
command board is already open, sees it appear with a countdown without reloading. The duty doctor
accepts; the sender's page of sent referrals, also left open, shows the acceptance without reloading.

Set ANMU_SCREENSHOTS=<dir> to keep screenshots of the pages involved.
"""

from __future__ import annotations

import re
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
        live.manage("seed_demo", "--women", "40")
        live.start()
        yield live
    finally:
        live.close()


def signed_in(browser, server: LiveAsgiServer, username: str):  # type: ignore[no-untyped-def]
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    server.sign_in(context, username)
    page.goto(f"{server.url}/")
    return context, page


def test_emergency_referral_appears_on_the_board_and_the_acceptance_reaches_the_sender(server, browser):
    from playwright.sync_api import expect

    rows = server.query(
        "SELECT p.id, w.name FROM cases_pregnancy p JOIN cases_woman w ON w.id = p.woman_id "
        "JOIN organisations_institution i ON i.id = p.booking_institution_id "
        "WHERE i.name = ? AND p.status = 'ongoing' LIMIT 1", ("闽侯县医院",))
    assert rows, "the demo seeds women booked at 闽侯县医院"
    pregnancy_hex, woman = rows[0]
    pregnancy = str(__import__("uuid").UUID(pregnancy_hex))

    # The city centre's duty doctor has the command board open.
    context_c, centre = signed_in(browser, server, "gulou_duty")
    centre.goto(f"{server.url}/referrals/")
    board = centre.locator("[data-testid=board]")
    expect(board).to_be_visible()
    expect(centre.locator("[data-testid=alert-bell]")).to_have_attribute("data-status", "online")
    centre.evaluate("window.__sameDocument = true")
    assert centre.locator(f"[data-testid=board-rows] tr:has-text('{woman}')").count() == 0

    # The county obstetrician sends an emergency referral; the suggested centre is preselected.
    context_s, sender = signed_in(browser, server, "minhou_obstetrician")
    sender.goto(f"{server.url}/referrals/new/?pregnancy={pregnancy}")
    suggested = sender.locator("[data-testid=centre-choices] tr").first
    expect(suggested).to_contain_text("福州市妇幼保健院")
    expect(suggested.locator("input[type=radio]")).to_be_checked()
    expect(suggested.locator("a[href^='tel:']").first).to_be_visible()
    expect(sender.locator("input[name=urgency][value=emergency]")).to_be_checked()
    sender.fill("#id_reason", "产后出血，宫缩乏力，药物处理无效")
    sender.fill("#id_diagnosis", "产后出血 1500 mL，失血性休克早期")
    sender.fill("#id_systolic_bp", "82")
    sender.fill("#id_pulse", "128")
    shot(sender, "referral-form")
    sender.click("[data-testid=send-referral]")
    expect(sender.locator("[data-testid=referral-state]")).to_have_text("等待中心答复", timeout=TIMEOUT_MS)

    # The board shows it, loud, with a countdown, without a reload.
    row = centre.locator("[data-testid=board-rows] tr", has_text=woman)
    expect(row).to_be_visible(timeout=TIMEOUT_MS)
    expect(row).to_have_attribute("data-urgency", "emergency")
    expect(row).to_have_class(re.compile(r"anmu-board__row--emergency"))
    countdown = row.locator("[data-testid=countdown]")
    expect(countdown).to_have_text(re.compile(r"^\d+:\d{2}$"))
    first = countdown.inner_text()
    expect(countdown).not_to_have_text(first, timeout=TIMEOUT_MS)  # it ticks
    assert centre.evaluate("window.__sameDocument") is True
    shot(centre, "board-emergency")

    # The sender watches the page of sent referrals.
    sender.goto(f"{server.url}/referrals/sent/")
    sent_row = sender.locator("[data-testid=board-rows] tr", has_text=woman)
    expect(sent_row.locator("[data-testid=row-state]")).to_contain_text("等待中心答复")
    sender.evaluate("window.__sameDocument = true")

    # The duty doctor accepts from the referral page.
    row.locator("a").first.click()
    centre.locator("[data-step=accept]").click()
    centre.fill("#id_team", "产科ICU 值班组")
    centre.click("[data-testid=submit]")
    expect(centre.locator("[data-testid=referral-state]")).to_have_text("已接收", timeout=TIMEOUT_MS)

    # The sender's page shows it live, naming the receiving team.
    expect(sent_row.locator("[data-testid=row-state]")).to_contain_text("已接收", timeout=TIMEOUT_MS)
    expect(sent_row.locator("[data-testid=row-state]")).to_contain_text("产科ICU 值班组")
    assert sender.evaluate("window.__sameDocument") is True
    shot(sender, "sent-accepted")
    context_c.close()
    context_s.close()
