"""Maternal death report in a real browser against a real ASGI server.

A county obstetrician (闽侯县医院) records a death on a pregnancy from the "record a death" page and lands
on the card; the county MCH officer opens the report and sees its legal deadlines count down, second by
second, under the page's content security policy.

Set ANMU_SCREENSHOTS=<dir> to keep screenshots of the pages involved.
"""

from __future__ import annotations

import re
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
        live.manage("seed_demo", "--women", "20")
        live.start()
        yield live
    finally:
        live.close()


def signed_in(browser, server: LiveAsgiServer, username: str):  # type: ignore[no-untyped-def]
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    server.sign_in(context, username)
    return context, page


def test_a_recorded_death_shows_its_clocks_counting_down_to_the_county_mch_officer(server, browser):
    from playwright.sync_api import expect

    rows = server.query(
        "SELECT p.id FROM cases_pregnancy p JOIN organisations_institution i ON i.id = p.booking_institution_id "
        "WHERE i.name = ? AND p.status = 'ongoing' LIMIT 1", ("闽侯县医院",))
    assert rows, "the demo seeds women booked at 闽侯县医院"
    pregnancy = str(uuid.UUID(rows[0][0]))

    context_d, doctor = signed_in(browser, server, "minhou_obstetrician")
    doctor.goto(f"{server.url}/death/pregnancy/{pregnancy}/")
    doctor.fill("#id_died_at", "2020-01-01T08:00")  # corrected below: a time two hours ago in the browser
    doctor.evaluate("""() => { const d = new Date(Date.now() - 2 * 3600 * 1000);
        const p = (n) => String(n).padStart(2, '0');
        document.querySelector('#id_died_at').value =
          `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`; }""")
    doctor.fill("#id_note", "家中分娩后大出血，送医途中死亡")
    doctor.click("[data-testid=submit]")
    expect(doctor.locator("[data-testid=card-form]")).to_be_visible(timeout=TIMEOUT_MS)
    report = re.search(r"/death/([0-9a-f-]{36})/card/", doctor.url).group(1)  # type: ignore[union-attr]
    shot(doctor, "death-card")

    context_m, officer = signed_in(browser, server, "minhou_mch")
    officer.goto(f"{server.url}/death/{report}/")
    expect(officer.locator("[data-testid=death-state]")).to_have_text("草稿，未上报")
    countdown = officer.locator("[data-testid=countdown]").first
    expect(countdown).to_have_text(re.compile(r"^剩余 "), timeout=TIMEOUT_MS)
    first = countdown.inner_text()
    expect(countdown).not_to_have_text(first, timeout=TIMEOUT_MS)  # it ticks
    expect(officer.locator("[data-step=exclude]")).to_be_visible()
    shot(officer, "death-report")
    context_d.close()
    context_m.close()
