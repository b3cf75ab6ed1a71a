"""Prenatal QC rates up the area (indicators/prenatal.py) and on the 指标 page: sums of numerators and
denominators over the submitted reports of the institutions in a region; per sub-area and per institution;
scoped like every figure; exported."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.test import Client
from openpyxl import load_workbook

from indicators.prenatal import prenatal_figures, rate
from tests.workflows.prenatal.helpers import license_institutions, submitted
from workflows.prenatal import services as svc

pytestmark = pytest.mark.django_db
YEAR = {"period": "year", "year": "2025"}
A = {"screened": 400, "screen_positive": 20, "women_delivered": 500, "diagnosed": 30, "confirmed": 6}
A2 = {"screened": 100, "screen_positive": 10, "women_delivered": 100}
B = {"screened": 50, "screen_positive": 50, "women_delivered": 10}


@pytest.fixture
def figures(personas):  # type: ignore[no-untyped-def]
    """Fuzhou: 闽侯县医院 (county A) and 鼓楼区医院 (county A2) submitted 2025 Q1; 闽侯县医院's 2025 Q2 is still open;
    Xiamen: 厦门市第三医院 submitted."""
    from tests.personas import MembershipFactory, UserFactory

    license_institutions(personas)
    inst, users = personas.inst, personas.users
    doctor_a2 = UserFactory(username="obstetrician_a2")
    MembershipFactory(user=doctor_a2, institution=inst.hospital_a2, role="obstetrician")
    submitted(inst.hospital_a, A, by=users.obstetrician_a)
    submitted(inst.hospital_a2, A2, by=doctor_a2)
    submitted(inst.hospital_b, B, by=users.obstetrician_b)
    svc.prenatal_values_save(institution=inst.hospital_a, period=("quarter", dt.date(2025, 4, 1), dt.date(2025, 6, 30)),
                             values={"screened": 1000, "screen_positive": 999}, by=users.obstetrician_a)
    return personas


def values(found, code):  # type: ignore[no-untyped-def]
    figure = found["figures"][code]
    return figure["numerator"], figure["denominator"], figure["value"]


def test_the_city_sums_numerators_and_denominators_over_its_counties(figures):
    r = figures.regions
    city = prenatal_figures(region=r.fuzhou, date_from=dt.date(2025, 1, 1), date_to=dt.date(2025, 12, 31))
    assert values(city, "screening_rate") == (500, 600, 83.33)
    assert values(city, "screen_positive_rate") == (30, 500, 6.0)  # not the mean of 5 % and 10 %
    assert values(city, "diagnosis_confirmed_rate") == (6, 30, 20.0)
    assert (city["licensed"], city["reporting"], city["by"]) == (2, 2, "area")
    rows = {row["key"]: row for row in city["rows"]}
    assert set(rows) == {"350121", "350102"}
    assert rows["350102"]["name"] == "鼓楼区" and rows["350102"]["figures"]["screen_positive_rate"]["value"] == 10.0
    assert rows["350121"]["figures"]["screen_positive_rate"]["value"] == 5.0


def test_the_province_groups_by_city_and_the_county_by_institution(figures):
    r, inst = figures.regions, figures.inst
    province = prenatal_figures(region=r.fujian, date_from=dt.date(2025, 1, 1), date_to=dt.date(2025, 12, 31))
    assert values(province, "screen_positive_rate") == (80, 550, 14.55)
    by_city = {row["key"]: row["figures"]["screen_positive_rate"]["value"] for row in province["rows"]}
    assert by_city == {"350100": 6.0, "350200": 100.0}
    county = prenatal_figures(region=r.county_a, date_from=dt.date(2025, 1, 1), date_to=dt.date(2025, 12, 31))
    assert county["by"] == "institution"
    assert [(row["name"], row["code"]) for row in county["rows"]] == [("闽侯县医院", inst.hospital_a.code)]
    one = prenatal_figures(region=r.fuzhou, date_from=dt.date(2025, 1, 1), date_to=dt.date(2025, 12, 31),
                           institution=inst.hospital_a2)
    assert values(one, "screening_rate") == (100, 100, 100.0) and one["rows"] == []


def test_only_submitted_reports_of_periods_inside_the_span_count(figures):
    r = figures.regions
    q2 = prenatal_figures(region=r.county_a, date_from=dt.date(2025, 4, 1), date_to=dt.date(2025, 6, 30))
    assert values(q2, "screen_positive_rate") == (None, None, None)  # Q2 is still open
    january = prenatal_figures(region=r.fuzhou, date_from=dt.date(2025, 1, 1), date_to=dt.date(2025, 1, 31))
    assert values(january, "screening_rate") == (None, None, None)  # a quarter is not inside a month
    assert (q2["licensed"], q2["reporting"]) == (1, 0)


def test_rates_round_half_up_and_need_a_denominator():
    assert rate(1, 3, 100) == 33.33 and rate(2, 3, 100) == 66.67 and rate(1, 8, 1000) == 125.0
    assert rate(5, 0, 100) is None and rate(None, 5, 100) is None


def client_for(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


def test_the_indicators_page_shows_the_prenatal_section_and_exports_it(figures):
    client = client_for(figures.users.bureau_city)
    page = client.get("/indicators/350100/", YEAR)
    assert page.status_code == 200
    body = page.content.decode()
    assert 'data-testid="panel-prenatal"' in body and "产前筛查阳性率" in body and "83.33" in body
    prenatal = page.context["data"]["prenatal"]
    assert {i["code"]: i["origin"] for i in prenatal["indicators"]} == {
        "screening_rate": "national_read", "screen_positive_rate": "national_read",
        "diagnosis_confirmed_rate": "national_read"}
    response = client.get("/indicators/350100/export/prenatal_areas.xlsx", YEAR)
    assert response.status_code == 200
    rows = list(load_workbook(io.BytesIO(response.content)).worksheets[0].iter_rows(values_only=True))
    assert len(rows[0]) == 3 + 3  # area, licensed, reporting, then each rate
    assert [row[0] for row in rows[1:-1]] == ["鼓楼区", "闽侯县"]  # by region code
    total = rows[-1]
    assert total[1:3] == (2, 2) and 83.33 in total and 6.0 in total
    definitions = list(load_workbook(io.BytesIO(
        client.get("/indicators/350100/export/prenatal.xlsx", YEAR).content)).worksheets[0].iter_rows(values_only=True))
    assert ("产前筛查阳性率", "阳性人数", 30, "筛查人数", 500, 6.0) in [row[:6] for row in definitions[1:]]


def test_another_countys_officer_cannot_read_the_citys_prenatal_figures(figures):
    client = client_for(figures.users.mch_b)
    assert client.get("/indicators/350100/", YEAR).status_code == 404
    assert client.get("/indicators/350100/export/prenatal_areas.xlsx", YEAR).status_code == 404
    own = client.get("/indicators/350212/", YEAR).context["data"]["prenatal"]
    assert own["figures"]["screen_positive_rate"]["value"] == 100.0  # her county's own: 厦门市第三医院
    assert client_for(figures.users.obstetrician_a).get("/indicators/350121/", YEAR).status_code == 403


def test_a_provincial_admin_adds_her_provinces_indicator_and_cannot_change_a_national_one(client, personas):
    from django.urls import reverse

    from cases.models import PrenatalDataElement, PrenatalIndicator
    from organisations.roles import roles_sync
    from tests.personas import MembershipFactory, UserFactory

    roles_sync()
    admin_fj = UserFactory(username="admin_fj", is_staff=True)
    MembershipFactory(user=admin_fj, institution=personas.inst.bureau_province, role="system_admin")
    client.force_login(admin_fj)
    screened, positive = (PrenatalDataElement.objects.get(code=c) for c in ("screened", "screen_positive"))
    data = {"code": "fj_positive_share", "province": "350000", "name_zh": "省级阳性率", "name_en": "Fujian positives",
            "definition": "阳性人数 / 筛查人数", "licence": "screening", "origin": "province", "source_url": "",
            "source_note": "福建省方案", "order": 90, "active": "on", "numerator": positive.pk,
            "denominator": screened.pk, "numerator_label": "阳性人数", "denominator_label": "筛查人数",
            "explanation": "", "unit": "percent", "numerator_within_denominator": "on", "change_reason": "省级方案"}
    response = client.post(reverse("admin:cases_prenatalindicator_add"), {**data, "origin": "national_read"})
    assert response.status_code == 200 and not PrenatalIndicator.objects.filter(code="fj_positive_share").exists()
    response = client.post(reverse("admin:cases_prenatalindicator_add"), data)
    assert response.status_code == 302, response.content.decode()[:1500]
    assert PrenatalIndicator.objects.get(code="fj_positive_share").origin == "province"
    national = PrenatalIndicator.objects.get(code="screen_positive_rate")
    response = client.post(reverse("admin:cases_prenatalindicator_change", args=[national.pk]),
                           {**data, "code": national.code, "province": "", "origin": "national_read"})
    assert response.status_code == 403
    assert PrenatalIndicator.objects.get(pk=national.pk).name_zh == "产前筛查阳性率"
