"""The indicators dashboard in a real browser against a real ASGI server, seeded with the demo year
(``seed_demo --first-look``): the 福州市 bureau officer opens 指标 from the menu, sees the tiles and both charts
drawn by ECharts under the Content-Security-Policy, clicks 闽侯县's bar and lands on that county's figures,
sees a delivery recorded meanwhile appear by itself, goes down to one of its institutions by the table and
back up by the breadcrumb. No CSP violation, no script error.

Set ANMU_SCREENSHOTS=<dir> to keep screenshots of the pages involved.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.asgi_live import LiveAsgiServer
from tests.browser import TIMEOUT_MS, chromium_path, wait_until
from tests.browser.test_alerts import shot

pytestmark = pytest.mark.browser

WATCH = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push(e.violatedDirective + " " + e.blockedURI + " " + (e.sourceFile || "") + ":" + e.lineNumber);
});
"""

# A delivery recorded now at 闽侯县医院, through the routine service, for a woman living in 闽侯县.
DELIVER = """
from django.utils import timezone
from cases.models import Delivery, Pregnancy
from organisations.models import Institution, User
from workflows.routine.services import delivery_record
hospital = Institution.objects.get(name="闽侯县医院")
pregnancy = Pregnancy.objects.filter(status=Pregnancy.Status.ONGOING, woman__residence_region_id="350121",
                                     booking_institution=hospital).order_by("lmp").first()
delivery_record(pregnancy=pregnancy, by=User.objects.get(username="minhou_obstetrician"), delivered_at=timezone.now(),
                place=Delivery.Place.INSTITUTION, institution=hospital, mode=Delivery.Mode.SPONTANEOUS, live_births=1,
                stillbirths=0)
"""

# Where on the page the middle of a county's bar is (ECharts knows its own geometry).
BAR_CENTRE = """(name) => {
  const el = document.querySelector('[data-testid=chart-areas]');
  el.scrollIntoView({block: 'center'});
  const chart = window.echarts.getInstanceByDom(el);
  const option = chart.getOption();
  const index = option.yAxis[0].data.indexOf(name);
  const value = option.series[0].data[index].value;
  const [x, y] = chart.convertToPixel({seriesIndex: 0}, [value / 2, index]);
  const box = el.getBoundingClientRect();
  return [box.left + x, box.top + y];
}"""


def click_bar(page, name: str, attempts: int = 3) -> None:  # type: ignore[no-untyped-def]
    """Click the area's bar; on a loaded machine the first click can land while the page still settles (the
    bar's place read before a late layout), so it is tried again, a fresh position each time, until the page
    leaves for the area (a page that never follows a click still fails the title's expectation)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    start = page.url
    for _attempt in range(attempts):
        x, y = page.evaluate(BAR_CENTRE, name)
        page.mouse.click(x, y)
        try:
            page.wait_for_url(lambda url: url != start, timeout=TIMEOUT_MS // attempts)
            return
        except PlaywrightTimeout:
            continue


@pytest.fixture(scope="module")
def server() -> Iterator[LiveAsgiServer]:
    if chromium_path() is None:
        pytest.skip("No Chromium installed (apt-get install chromium): browser tests skipped.")
    live = LiveAsgiServer()
    try:
        live.migrate()
        live.manage("seed_demo", "--first-look")
        live.start()
        yield live
    finally:
        live.close()


def charts_drawn(page) -> bool:  # type: ignore[no-untyped-def]
    return bool(page.evaluate("""() => [...document.querySelectorAll('[data-indicators-chart]')].every(
        (el) => el.dataset.drawn === '1' && el.querySelector('svg path'))"""))


def test_a_city_officer_drills_down_from_the_city_to_a_county_and_an_institution(server, browser):
    from playwright.sync_api import expect

    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": 1366, "height": 900})
    context.add_init_script(WATCH)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if "Content Security Policy" in msg.text else None)
    page.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))
    server.sign_in(context, "fuzhou_bureau")

    page.goto(f"{server.url}/")
    page.locator('a.vf-page__menu-list-item[href="/indicators/"]', has_text="指标").first.click()
    expect(page.locator("[data-testid=indicators-title]")).to_contain_text("福州市", timeout=TIMEOUT_MS)
    tiles = page.locator("[data-testid=indicator-tiles] .anmu-ind-tile")
    assert tiles.count() >= 20
    expect(page.locator("[data-testid=tile-live_births] [data-testid=tile-value]")).not_to_have_text("—")
    expect(page.locator(".anmu-ind-tile.is-met, .anmu-ind-tile.is-unmet").first).to_be_visible()
    wait_until(page, "document.querySelectorAll('[data-indicators-chart][data-drawn=\"1\"] svg').length === 2",
               TIMEOUT_MS)
    assert charts_drawn(page)
    expect(page.locator("[data-testid=table-areas]")).to_contain_text("闽侯县")
    shot(page, "indicators-city")

    click_bar(page, "闽侯县")
    expect(page.locator("[data-testid=indicators-title]")).to_contain_text("闽侯县", timeout=TIMEOUT_MS)
    assert "/indicators/350121/" in page.url
    expect(page.locator("[data-testid=crumb-350100]")).to_have_text("福州市")
    expect(page.locator("[data-testid=crumb-350000]")).to_have_count(0)  # never above her city
    wait_until(page, "document.querySelectorAll('[data-indicators-chart][data-drawn=\"1\"] svg').length === 2",
               TIMEOUT_MS)
    expect(page.locator("[data-testid=table-areas] th")).to_contain_text(["机构"])
    shot(page, "indicators-county")

    # Live: a delivery recorded elsewhere shows on the open page within seconds (it polls every 10 s).
    births = page.locator("[data-testid=tile-live_births] [data-testid=tile-value]")
    before = int(births.inner_text().replace(",", ""))
    server.manage("shell", "-c", DELIVER)
    expect(births).to_have_text(f"{before + 1:,}", timeout=TIMEOUT_MS)
    expect(page.locator("[data-indicators-status]")).to_contain_text("数字更新于")
    wait_until(page, "document.querySelectorAll('[data-indicators-chart][data-drawn=\"1\"] svg').length === 2",
               TIMEOUT_MS)

    page.locator("[data-testid=table-areas] [data-testid=row-link]", has_text="闽侯县医院").click()
    expect(page.locator("[data-testid=indicators-title]")).to_contain_text("闽侯县医院", timeout=TIMEOUT_MS)
    expect(page.locator("[data-testid=crumb-current]")).to_have_text("闽侯县医院")
    wait_until(page, "document.querySelector('[data-indicators-chart=\"months\"]').dataset.drawn === '1'", TIMEOUT_MS)

    page.locator("[data-testid=crumb-350100]").click()
    expect(page.locator("[data-testid=indicators-title]")).to_contain_text("福州市", timeout=TIMEOUT_MS)
    wait_until(page, "document.querySelectorAll('[data-indicators-chart][data-drawn=\"1\"] svg').length === 2",
               TIMEOUT_MS)

    assert page.evaluate("window.__csp") == []
    assert errors == []
    context.close()
