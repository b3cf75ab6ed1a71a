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


@pytest.fixture(scope="module")
def first_look() -> Iterator[LiveAsgiServer]:
    """The first-look demo: a county review meeting of 闽侯县 with a death under county review on its agenda."""
    if chromium_path() is None:
        pytest.skip("No Chromium installed (apt-get install chromium): browser tests skipped.")
    live = LiveAsgiServer()
    try:
        live.prepare()
        live.manage("seed_demo", "--first-look")
        live.start()
        yield live
    finally:
        live.close()


def test_an_expert_records_a_panel_conclusion_with_the_twelve_cell_table(first_look, browser):
    from playwright.sync_api import expect

    server = first_look
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": 1366, "height": 900})
    page = context.new_page()
    server.sign_in(context, "minhou_expert")
    page.goto(f"{server.url}/death/meetings/")
    expect(page.locator("[data-testid=meeting-list] tbody tr[data-meeting]")).to_have_count(1)
    shot(page, "meeting-list")
    page.locator("[data-testid=meeting-list] tbody tr[data-meeting] a").first.click()
    expect(page.locator("[data-testid=meeting-summary]")).to_be_visible(timeout=TIMEOUT_MS)
    expect(page.locator("[data-testid=twelve-cells]")).to_have_count(1)  # the demo's concluded death
    shot(page, "meeting-page")
    page.click("[data-testid=conclude-link]")
    expect(page.locator("[data-testid=twelve-cell-form]")).to_be_visible(timeout=TIMEOUT_MS)
    report = re.search(r"/conclude/([0-9a-f-]{36})/", page.url).group(1)  # type: ignore[union-attr]
    page.check("input[name=avoidability][value=conditionally]")
    page.fill("#id_note", "产后出血识别延误，输血启动晚")
    page.select_option("#id_health_system_knowledge", "true")
    page.fill("#id_health_system_knowledge_note", "出血量目测估计，明显低估")
    page.select_option("#id_health_system_resources", "true")
    page.select_option("#id_individual_attitude", "false")
    page.select_option("#id_delay_receiving", "true")
    page.fill("#id_delay_receiving_note", "输血启动于出血后 70 分钟")
    shot(page, "meeting-conclusion-form")
    page.click("[data-testid=submit]")
    # A "yes" without its text is refused on the form, next to the cell.
    expect(page.locator("[data-testid=twelve-cell-form] .errorlist")).to_have_count(1, timeout=TIMEOUT_MS)
    page.fill("#id_health_system_resources_note", "县医院血库备血不足")
    page.click("[data-testid=submit]")
    expect(page.locator("[data-testid=meeting-summary]")).to_be_visible(timeout=TIMEOUT_MS)
    page.goto(f"{server.url}/death/{report}/")
    cells = page.locator("[data-testid=death-conclusions] [data-testid=twelve-cells]")
    expect(cells).to_have_count(1)
    expect(cells.locator("[data-cell=health_system_knowledge]")).to_contain_text("出血量目测估计，明显低估")
    expect(cells.locator("[data-cell=health_system_resources]")).to_contain_text("县医院血库备血不足")
    expect(cells.locator("[data-cell=individual_attitude]")).to_have_attribute("data-value", "no")
    expect(page.locator("[data-testid=three-delays] [data-delay=delay_receiving]")).to_contain_text("70 分钟")
    shot(page, "death-report-twelve-cells")
    meeting = page.locator("[data-testid=death-conclusions] a[href*='/death/meetings/']").first.get_attribute("href")
    page.goto(f"{server.url}{meeting}minutes/")
    expect(page.locator("[data-testid=meeting-minutes] [data-testid=twelve-cells]")).to_have_count(2)
    shot(page, "meeting-minutes")
    context.close()
