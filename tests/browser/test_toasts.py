"""Toasts never cover the work (issue 11, item 3), in a real browser against a real ASGI server.

Three critical alerts are raised for each of three users through the real alert service; their pages
(the referral command board, the county high-risk register, the referral form) are opened at 1366×768
and at 1920×1080. With the toasts stacked into the pill, and again with the pill expanded into the
rail, the controls a night shift needs — the board's countdown, the register's filters and export
button, the form's submit button — are the element under their own centre, and the rail's box never
meets theirs. Minimising keeps the alert unacknowledged (bell, inbox) and the alarm reminding; what is
minimised survives a reload of the tab.

Sign-in is by session cookie: ``Client.force_login`` runs in the server's own database (a manage.py
shell of the live server) and the test hands its ``sessionid`` to the browser context.

Set ANMU_SCREENSHOTS=<dir> to keep screenshots (taken at 1366 px).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator

import pytest

from tests.asgi_live import LiveAsgiServer
from tests.browser import chromium_path, wait_until

pytestmark = pytest.mark.browser

VIEWPORTS = [(1366, 768), (1920, 1080)]
COUNT_TONES = """
window.__tones = 0;
if (window.AudioContext) {
  const create = window.AudioContext.prototype.createOscillator;
  window.AudioContext.prototype.createOscillator = function () { window.__tones += 1; return create.apply(this, arguments); };
}
"""
# Signs each user in with Django's test client in the server's database and raises three critical
# alerts for them through the alert service (after acknowledging what the demo seed raised, so that the
# pill counts exactly these three).
SETUP = """
import json
from django.conf import settings
from django.test import Client
from cases.models import Pregnancy
from notifications.models import Alert
from notifications.recipients import to_user
from notifications.services import alert_acknowledge, alert_raise
from organisations.models import User
out = {"cookie": settings.SESSION_COOKIE_NAME, "sessions": {}, "alerts": {}}
for name in %(users)r:
    user = User.objects.get(username=name)
    for alert in Alert.objects.filter(recipient=user, acknowledged_at__isnull=True):
        alert_acknowledge(alert_id=alert.pk, by=user)
    client = Client()
    client.force_login(user)
    out["sessions"][name] = client.cookies[settings.SESSION_COOKIE_NAME].value
    out["alerts"][name] = [str(a.pk) for i in range(3) for a in alert_raise(
        kind="roster.gap", title="Nobody is on duty at %%(institution)s", priority="critical",
        params={"institution": "测试医院%%d" %% (i + 1)}, to=[to_user(user)])]
out["pregnancy"] = str(Pregnancy.objects.filter(booking_institution__name="闽侯县医院",
                                                status=Pregnancy.Status.ONGOING).order_by("booking_date").first().pk)
print(json.dumps(out))
"""
USERS = ["gulou_duty", "minhou_mch", "minhou_obstetrician"]


@pytest.fixture(scope="module")
def server() -> Iterator[LiveAsgiServer]:
    if chromium_path() is None:
        pytest.skip("No Chromium installed (apt-get install chromium): browser tests skipped.")
    live = LiveAsgiServer()
    try:
        live.migrate()
        live.manage("seed_demo", "--first-look")  # the board needs referrals, the register cases
        live.start()
        yield live
    finally:
        live.close()


@pytest.fixture(scope="module")
def setup(server: LiveAsgiServer) -> dict:
    return json.loads(server.manage("shell", "-c", SETUP % {"users": USERS}).strip().splitlines()[-1])


def shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    folder = os.environ.get("ANMU_SCREENSHOTS")
    if folder:
        os.makedirs(folder, exist_ok=True)
        page.screenshot(path=os.path.join(folder, f"{name}.png"))


def open_page(browser, server: LiveAsgiServer, setup: dict, username: str, path: str, size: tuple[int, int],  # type: ignore[no-untyped-def]
              *, init_script: str = ""):
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai",
                                  viewport={"width": size[0], "height": size[1]})
    context.add_cookies([{"name": setup["cookie"], "value": setup["sessions"][username], "url": server.url}])
    if init_script:
        context.add_init_script(init_script)
    page = context.new_page()
    page.goto(f"{server.url}{path}")
    return context, page


def boxes_meet(a: dict, b: dict) -> bool:
    return not (a["x"] + a["width"] <= b["x"] or b["x"] + b["width"] <= a["x"]
                or a["y"] + a["height"] <= b["y"] or b["y"] + b["height"] <= a["y"])


def assert_reachable(page, selector: str) -> int:  # type: ignore[no-untyped-def]
    """Every element matching ``selector`` is the element under its own centre once scrolled into view
    (nothing lies over it), a trial click succeeds, and the toast rail's box does not meet it."""
    controls = page.locator(selector)
    count = controls.count()
    assert count > 0, selector
    rail = page.locator("#anmu-toasts")
    for index in range(count):
        control = controls.nth(index)
        control.scroll_into_view_if_needed()
        on_top = control.evaluate("""el => {
            const r = el.getBoundingClientRect();
            const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
            return hit !== null && (hit === el || el.contains(hit));
        }""")
        assert on_top, f"{selector} #{index} is covered"
        control.click(trial=True, timeout=3000)
        if page.evaluate("document.documentElement.classList.contains('anmu-rail-open')"):
            rail_box, box = rail.bounding_box(), control.bounding_box()
            assert rail_box and box and not boxes_meet(rail_box, box), f"the toast rail meets {selector} #{index}"
    return count


def critical_toasts(page):  # type: ignore[no-untyped-def]
    return page.locator("[data-testid=alert-toast][data-priority=critical]")


def check_page(page, setup: dict, username: str, controls: list[str], name: str | None) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    bell = page.locator("[data-testid=alert-bell]")
    expect(bell).to_have_attribute("data-status", "online", timeout=15000)
    pill = page.locator("[data-testid=alert-pill]")
    # Three critical alerts: beyond two they stack into the pill; the page is all the doctor's.
    expect(pill).to_be_visible()
    expect(pill.locator("[data-anmu-pill-label]")).to_have_text("3 条危急提醒")
    expect(pill).to_have_attribute("aria-expanded", "false")
    assert critical_toasts(page).count() == 3
    expect(critical_toasts(page).first).to_be_hidden()
    assert critical_toasts(page).locator("visible=true").count() == 0
    for selector in controls:
        assert_reachable(page, selector)
    if name:
        shot(page, f"{name}-stacked")

    # The pill expands into the rail, and the page makes room for it.
    pill.click()
    expect(critical_toasts(page).locator("visible=true")).to_have_count(3)
    expect(pill).to_be_hidden()
    assert page.evaluate("document.documentElement.classList.contains('anmu-rail-open')")
    for selector in controls:
        assert_reachable(page, selector)
    for toast in critical_toasts(page).all():
        expect(toast.locator("[data-testid=toast-minimise]")).to_have_text("收起")
    if name:
        shot(page, f"{name}-expanded")

    # Minimising one: it leaves the rail for the pill, unacknowledged.
    first = critical_toasts(page).first
    first_id = first.get_attribute("data-alert-id")
    first.locator("[data-testid=toast-minimise]").click()
    expect(first).to_be_hidden()
    expect(pill.locator("[data-anmu-pill-label]")).to_have_text("1 条危急提醒")
    expect(critical_toasts(page).locator("visible=true")).to_have_count(2)
    assert first_id in setup["alerts"][username]
    assert int(bell.get_attribute("data-unread") or 0) >= 3

    # Minimise all: the rail closes and the page has its full width back.
    page.locator("[data-testid=toasts-minimise-all]").click()
    expect(pill.locator("[data-anmu-pill-label]")).to_have_text("3 条危急提醒")
    assert critical_toasts(page).locator("visible=true").count() == 0
    assert not page.evaluate("document.documentElement.classList.contains('anmu-rail-open')")
    for selector in controls:
        assert_reachable(page, selector)


PAGES = [
    ("gulou_duty", "/referrals/", ["[data-testid=countdown]", "[data-testid=board-rows] a"], "board"),
    ("minhou_mch", "/highrisk/register/",
     ["[data-testid=register-filters] select", "[data-testid=register-filters] input:not([type=hidden])",
      "[data-testid=filter]", "[data-testid=export]"], "register"),
    ("minhou_obstetrician", "/referrals/new/?pregnancy={pregnancy}", ["[data-testid=send-referral]"], "form"),
]


@pytest.mark.parametrize("size", VIEWPORTS, ids=lambda size: f"{size[0]}px")
@pytest.mark.parametrize(("username", "path", "controls", "name"), PAGES, ids=[p[3] for p in PAGES])
def test_critical_toasts_never_cover_the_controls(server, browser, setup, size, username, path, controls, name):
    context, page = open_page(browser, server, setup, username, path.format(**setup), size)
    try:
        check_page(page, setup, username, controls, f"{name}-{size[0]}" if size[0] == 1366 else None)
    finally:
        context.close()
    # Minimising touched nothing on the server: the three alerts are open, in the bell and the inbox.
    ids = [alert_id.replace("-", "") for alert_id in setup["alerts"][username]]
    open_ids = {row[0] for row in server.query(
        "SELECT id FROM notifications_alert WHERE acknowledged_at IS NULL AND recipient_id = "
        "(SELECT id FROM organisations_user WHERE username = ?)", (username,))}
    assert set(ids) <= open_ids


def test_minimised_toasts_keep_the_alarm_and_survive_a_reload(server, browser, setup):
    from playwright.sync_api import expect

    context, page = open_page(browser, server, setup, "minhou_mch", "/highrisk/register/", VIEWPORTS[0],
                              init_script=COUNT_TONES)
    try:
        pill = page.locator("[data-testid=alert-pill]")
        expect(pill.locator("[data-anmu-pill-label]")).to_have_text("3 条危急提醒", timeout=15000)
        page.click("[data-testid=alert-sound]")  # a gesture turns the sound on
        pill.click()
        critical_toasts(page).first.locator("[data-testid=toast-minimise]").click()
        expect(pill.locator("[data-anmu-pill-label]")).to_have_text("1 条危急提醒")

        # A full reload of the tab keeps what was minimised and expanded (sessionStorage).
        page.reload()
        expect(page.locator("[data-testid=alert-bell]")).to_have_attribute("data-status", "online", timeout=15000)
        expect(pill.locator("[data-anmu-pill-label]")).to_have_text("1 条危急提醒")
        expect(critical_toasts(page).locator("visible=true")).to_have_count(2)

        # Everything minimised: the alarm's reminder rule still counts them (a minute since the last alarm).
        page.locator("[data-testid=toasts-minimise-all]").click()
        expect(pill.locator("[data-anmu-pill-label]")).to_have_text("3 条危急提醒")
        page.evaluate("window.__tones = 0; window.AnmuAlerts.state.lastAlarm = Date.now() - 120000")
        wait_until(page, "window.__tones > 0", 15000)

        # The pill's label is in zh-hans like the rest of the toolbar.
        assert page.locator("[data-testid=alert-pill]").get_attribute("title") == "展开危急提醒"
    finally:
        context.close()
