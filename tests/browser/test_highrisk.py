"""Process 2 in a real browser: the county MCH officer opens the register, filters red cases, opens one
and sees its timeline (real uvicorn: tests/asgi_live.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.asgi_live import LiveAsgiServer
from tests.browser import chromium_path

pytestmark = pytest.mark.browser

MAKE_CASES = """
from cases.models import Assessment, Pregnancy
from organisations.models import Institution, User
from workflows.screening.services import assessment_record
from workflows.highrisk.services import case_plan_add
hospital = Institution.objects.get(name="闽侯县医院")
doctor = User.objects.get(username="minhou_obstetrician")
pregnancies = list(Pregnancy.objects.filter(booking_institution=hospital, highrisk_case__isnull=True)[:2])
red = assessment_record(pregnancy=pregnancies[0], institution=hospital, by=doctor, stage=Assessment.Stage.FIRST,
                        inputs={"pa_pressure_mmhg": 61})
case_plan_add(case=red.pregnancy.highrisk_case, by=doctor, kind="management", text="每周随访，心内科会诊")
assessment_record(pregnancy=pregnancies[1], institution=hospital, by=doctor, stage=Assessment.Stage.FIRST,
                  inputs={"age_years": 41})
print(pregnancies[0].woman.name, pregnancies[1].woman.name)
"""


@pytest.fixture(scope="module")
def server() -> Iterator[LiveAsgiServer]:
    if chromium_path() is None:
        pytest.skip("No Chromium installed (apt-get install chromium): browser tests skipped.")
    live = LiveAsgiServer()
    try:
        live.prepare()
        live.manage("seed_demo", "--women", "80")
        live.names = live.manage("shell", "-c", MAKE_CASES).split()[-2:]  # type: ignore[attr-defined]
        live.start()
        yield live
    finally:
        live.close()


def test_mch_officer_filters_red_cases_and_opens_the_timeline(server, browser):
    from playwright.sync_api import expect

    red_name, orange_name = server.names
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    server.sign_in(context, "minhou_mch")
    page.goto(f"{server.url}/highrisk/register/")
    register = page.locator("[data-testid=register]")
    expect(register).to_contain_text(red_name)
    expect(register).to_contain_text(orange_name)
    page.select_option("select[name=colour]", "red")
    page.click("[data-testid=filter]")
    expect(register).not_to_contain_text(orange_name)
    rows = register.locator("[data-testid=case-row]")
    expect(rows.first).to_have_attribute("data-colour", "red")
    for colour in rows.evaluate_all("rows => rows.map(r => r.dataset.colour)"):
        assert colour == "red"
    page.click(f"text={red_name}")
    timeline = page.locator("[data-testid=case-timeline]")
    expect(timeline).to_be_visible()
    expect(timeline).to_contain_text("R1.1.1")
    expect(timeline).to_contain_text("每周随访，心内科会诊")
    expect(page.locator("[data-testid=case-summary]")).to_contain_text("红色")
    context.close()
