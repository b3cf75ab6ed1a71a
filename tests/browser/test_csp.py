"""The Content-Security-Policy in a real browser: the main pages of every role, the admin and the API
docs load under the policy with no violation (no inline script, handler or unsigned <style>), on a
real uvicorn server (tests/asgi_live.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.asgi_live import LiveAsgiServer
from tests.browser import chromium_path

pytestmark = pytest.mark.browser

URLS = """
import json
from django.urls import reverse
from workflows.demo import seed_referrals
from cases.models import Assessment, Pregnancy, Referral
from organisations.models import Institution, User
from workflows.screening.services import assessment_record
hospital = Institution.objects.get(name="闽侯县医院")
p = Pregnancy.objects.filter(booking_institution=hospital).order_by("booking_date").last()
assessment_record(pregnancy=p, institution=hospital, by=User.objects.get(username="minhou_obstetrician"),
                  stage=Assessment.Stage.FIRST, inputs={"pa_pressure_mmhg": 61})
case = Pregnancy.objects.get(pk=p.pk).highrisk_case
seed_referrals()
referral = Referral.objects.order_by("requested_at").first()
print(json.dumps({
    "obstetrician": ["/", reverse("cases:index"), reverse("cases:woman_detail", args=[p.woman_id]),
                     reverse("cases:pregnancy_detail", args=[p.pk]), reverse("cases:assess", args=[p.pk]),
                     reverse("cases:screen", args=[p.pk]), reverse("highrisk:index"),
                     reverse("highrisk:case_detail", args=[case.pk]), reverse("referral:sent"),
                     reverse("referral:new") + f"?pregnancy={p.pk}", reverse("alerts:index"), "/profile/",
                     "/history/cases.pregnancy/%s/" % p.pk, "/api/docs/"],
    "duty": [reverse("referral:index"), reverse("referral:detail", args=[referral.pk]),
             reverse("referral:print", args=[referral.pk]), reverse("roster:index")],
    "mch": [reverse("highrisk:register"), reverse("organisations:access_log")],
}))
"""

VIOLATIONS = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push(e.violatedDirective + " " + e.blockedURI + " " + (e.sourceFile || "") + ":" + e.lineNumber);
});
"""


@pytest.fixture(scope="module")
def server() -> Iterator[LiveAsgiServer]:
    if chromium_path() is None:
        pytest.skip("No Chromium installed (apt-get install chromium): browser tests skipped.")
    live = LiveAsgiServer()
    try:
        live.prepare()
        live.manage("seed_demo", "--women", "24")
        live.urls = json.loads(live.manage("shell", "-c", URLS).strip().splitlines()[-1])  # type: ignore[attr-defined]
        live.start()
        yield live
    finally:
        live.close()


def visit_all(browser, server, username, urls):  # type: ignore[no-untyped-def]
    context = browser.new_context(locale="zh-CN")
    context.add_init_script(VIOLATIONS)
    page = context.new_page()
    console: list[str] = []
    page.on("console", lambda msg: console.append(msg.text) if "Content Security Policy" in msg.text else None)
    page.on("pageerror", lambda exc: console.append(f"pageerror: {exc}"))
    found: dict[str, list[str]] = {}
    headers: dict[str, str] = {}
    if username:
        server.sign_in(context, username)
    for url in urls:
        response = page.goto(server.url + url)
        assert response is not None and response.status == 200, (url, response and response.status)
        headers[url] = response.headers.get("content-security-policy", "")
        page.wait_for_load_state("networkidle")
        violations = page.evaluate("window.__csp") + console
        console.clear()
        if violations:
            found[url] = violations
    context.close()
    return found, headers


@pytest.mark.parametrize("role", ["obstetrician", "duty", "mch", "admin", "anonymous"])
def test_main_pages_load_under_the_policy_without_a_violation(server, browser, role):
    username = {"obstetrician": "minhou_obstetrician", "duty": "gulou_duty", "mch": "minhou_mch",
                "admin": "minhou_admin", "anonymous": None}[role]
    urls = {"admin": ["/admin/", "/admin/organisations/user/"],
            "anonymous": ["/accounts/login/"]}.get(role) or server.urls[role]
    found, headers = visit_all(browser, server, username, urls)
    assert all("default-src 'self'" in policy for policy in headers.values()), headers
    assert found == {}, json.dumps(found, indent=1, ensure_ascii=False)
