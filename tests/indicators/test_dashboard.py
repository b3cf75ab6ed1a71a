"""The dashboard (指标): who opens it and which areas (never above or beside her own), the drill-down links,
tiles with target and change, the statistical year as a province setting, the exports, the print view and
the live change stamp. Figures on the hand-made 2025 data set (tests/indicators/conftest.py)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.test import Client
from openpyxl import load_workbook

from cases.models import DeathReport, Delivery, ProvinceSettings
from indicators.models import Indicator, IndicatorTarget
from organisations.models import AccessLog
from tests.indicators import factories as f

YEAR = {"period": "year", "year": "2025"}


def client_for(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


def tile(data, code):  # type: ignore[no-untyped-def]
    return next(t for t in data["tiles"] if t["code"] == code)


@pytest.fixture
def target(dataset):  # type: ignore[no-untyped-def]
    """Fujian's target for the systematic management rate (≥ 95 %)."""
    return IndicatorTarget.objects.create(province=dataset.personas.regions.fujian, comparison="gte",
                                          indicator=Indicator.objects.get(code="system_management_rate"),
                                          value=Decimal("95"), source_note="测试目标")


# --- Who opens which area ----------------------------------------------------------------------------


def test_the_county_mch_officer_opens_her_county(dataset):  # type: ignore[no-untyped-def]
    client = client_for(dataset.personas.users.mch_a)
    response = client.get("/indicators/", YEAR)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="indicators-title">闽侯县' in html
    assert "2025年" in html and "活产数" in html and "孕产妇系统管理率" in html
    assert 'href="/indicators/350100/' not in html  # no way up to the city
    # A county's sub-areas are its institutions, each a link to its own figures.
    hospital = dataset.personas.inst.hospital_a
    assert 'href="/indicators/350121/?period=year&amp;year=2025&amp;indicator=' in html
    assert f"institution={hospital.code}" in html


def test_the_city_bureau_officer_drills_down_to_a_county_and_an_institution(dataset):  # type: ignore[no-untyped-def]
    client = client_for(dataset.personas.users.bureau_city)
    city = client.get("/indicators/", {**YEAR, "indicator": "live_births"})
    assert city.status_code == 200
    data = city.context["data"]
    assert data["region"]["code"] == "350100"
    rows = {row["key"]: row for row in data["areas"]["rows"]}
    assert (rows["350121"]["numerator"], rows["350102"]["numerator"]) == (5, 1)
    assert rows["350121"]["url"] == "/indicators/350121/?period=year&year=2025&indicator=live_births"
    assert data["areas"]["total"]["numerator"] == 6
    html = city.content.decode()
    assert 'href="/indicators/350121/?period=year&amp;year=2025&amp;indicator=live_births"' in html
    assert 'href="/indicators/350000/' not in html  # never above her city

    county = client.get(rows["350121"]["url"])
    assert county.status_code == 200
    crumbs = county.context["breadcrumb"]
    assert [c["name"] for c in crumbs] == ["福州市", "闽侯县"]
    assert crumbs[0]["url"] == "/indicators/350100/?period=year&year=2025&indicator=live_births"
    institutions = {row["name"]: row for row in county.context["data"]["areas"]["rows"]}
    hospital = institutions["闽侯县医院"]
    assert hospital["numerator"] == 3  # twins and a singleton delivered there (the stillbirth has no live birth)
    assert "闽侯县妇幼保健院" not in institutions  # no record there in 2025

    page = client.get(hospital["url"])
    assert page.status_code == 200
    assert page.context["data"]["institution"]["name"] == "闽侯县医院"
    assert tile(page.context["data"], "live_births")["value"] == 3
    assert page.context["data"]["areas"] is None
    assert [c["name"] for c in page.context["breadcrumb"]] == ["福州市", "闽侯县", "闽侯县医院"]


def test_a_clinician_is_refused(dataset):  # type: ignore[no-untyped-def]
    client = client_for(dataset.personas.users.obstetrician_a)
    for url in ("/indicators/", "/indicators/350121/", "/indicators/350121/data.json", "/indicators/350121/live.json",
                "/indicators/350121/export/summary.csv", "/indicators/350121/print/"):
        assert client.get(url).status_code == 403, url
    assert 'href="/indicators/"' not in client.get("/").content.decode()  # no menu entry
    assert 'href="/indicators/"' in client_for(dataset.personas.users.mch_a).get("/").content.decode()


def test_another_countys_officer_finds_no_such_region(dataset):  # type: ignore[no-untyped-def]
    users, inst = dataset.personas.users, dataset.personas.inst
    client = client_for(users.mch_b)
    for url in ("/indicators/350121/", "/indicators/350121/data.json", "/indicators/350121/live.json",
                "/indicators/350121/export/areas.xlsx", "/indicators/350121/print/", "/indicators/350100/",
                "/indicators/999999/", "/indicators/abc/"):
        assert client.get(url, YEAR).status_code == 404, url
    # Nor above her own county, nor an institution of another county named on hers.
    county_a = client_for(users.mch_a)
    assert county_a.get("/indicators/350100/").status_code == 404
    assert county_a.get("/indicators/350102/").status_code == 404
    assert county_a.get("/indicators/350121/", {"institution": inst.hospital_b.code}).status_code == 404
    assert county_a.get("/indicators/350121/", {"institution": inst.hospital_a.code}).status_code == 200


# --- Figures, targets, change ------------------------------------------------------------------------


def test_tiles_give_value_target_and_change_from_the_previous_year(dataset, target):  # type: ignore[no-untyped-def]
    client = client_for(dataset.personas.users.mch_a)
    data = client.get("/indicators/350121/data.json", YEAR).json()
    assert data["period"] == {"kind": "year", "label": "2025年", "from": "2025-01-01", "to": "2025-12-31"}
    assert data["previous"]["from"] == "2024-01-01"
    births = tile(data, "live_births")
    assert (births["value"], births["previous"]["value"]) == (5, 1)  # one delivery on 2024-12-31
    assert births["change"] == {"diff": 4.0, "direction": "up", "better": None, "display": "▲ 4"}
    managed = tile(data, "system_management_rate")
    assert (managed["numerator"], managed["denominator"], managed["value"]) == (2, 5, 40.0)  # D1 and D4
    assert managed["target"]["display"] == "≥ 95.00 %" and managed["met"] is False
    assert managed["previous"]["value"] == 0.0  # the 2024 delivery had no visit
    assert managed["change"] == {"diff": 40.0, "direction": "up", "better": True, "display": "▲ 40.00"}
    assert tile(data, "mmr")["unit_suffix"] == "/10万"
    assert data["indicator"]["code"] == "system_management_rate"  # the first rate with a target
    html = client.get("/indicators/350121/", YEAR).content.decode()
    assert 'class="anmu-ind-tile is-unmet is-chosen"' in html
    assert "目标 ≥ 95.00 % · 未达标" in html


def test_names_follow_the_language(dataset):  # type: ignore[no-untyped-def]
    client = client_for(dataset.personas.users.mch_a)
    data = client.get("/indicators/350121/data.json", YEAR, HTTP_ACCEPT_LANGUAGE="en").json()
    assert tile(data, "mmr")["name"] == "Maternal mortality ratio"
    assert tile(client.get("/indicators/350121/data.json", YEAR).json(), "mmr")["name"] == "孕产妇死亡率"


def test_the_month_chart_covers_twelve_months_ending_with_a_quarter(dataset):  # type: ignore[no-untyped-def]
    client = client_for(dataset.personas.users.mch_a)
    response = client.get("/indicators/350121/", {"period": "quarter", "year": "2025", "quarter": "4",
                                                  "indicator": "live_births"})
    assert response.status_code == 200
    months = response.context["data"]["months"]["rows"]
    assert [m["key"] for m in months][:2] == ["2025-01", "2025-02"] and months[-1]["key"] == "2025-12"
    assert {m["key"]: m["value"] for m in months}["2025-10"] == 3.0  # twins on 1 Oct, a stillbirth, D4 on 10 Oct
    chart = response.context["chart"]
    assert chart["months"][-1] == {"name": "2025-12", "value": 0.0}
    assert b'id="indicators-chart-data" type="application/json"' in response.content


def test_the_statistical_year_starts_in_the_provinces_month(dataset):  # type: ignore[no-untyped-def]
    client = client_for(dataset.personas.users.mch_a)
    page = client.get("/indicators/350121/", {"period": "stat_year", "year": "2026", "indicator": "live_births"})
    assert page.context["period"].date_from == dt.date(2025, 10, 1)
    assert page.context["period"].date_to == dt.date(2026, 9, 30)
    # Oct–Dec 2025: D1 (twins), D2 (stillbirth), D3, D4, D5 (2026-01-01 is county A's too).
    assert tile(page.context["data"], "live_births")["value"] == 6
    ProvinceSettings.objects.create(province=dataset.personas.regions.fujian, effective_from=dt.date(2000, 1, 1),
                                    statistical_year_start_month=1)
    page = client.get("/indicators/350121/", {"period": "stat_year", "year": "2025"})
    assert (page.context["period"].date_from, page.context["period"].date_to) == (dt.date(2025, 1, 1),
                                                                                  dt.date(2025, 12, 31))
    assert ProvinceSettings._meta.get_field("statistical_year_start_month").default == 10


def test_bad_period_is_a_form_error_not_a_500(dataset):  # type: ignore[no-untyped-def]
    client = client_for(dataset.personas.users.mch_a)
    page = client.get("/indicators/350121/", {"period": "custom", "from": "2025-05-01", "to": "2025-01-01"})
    assert page.status_code == 400
    assert "在开始之前" in page.content.decode() or page.context["form"].errors["to"]
    answer = client.get("/indicators/350121/data.json", {"period": "month", "month": "2025-13"})
    assert answer.status_code == 400
    assert list(answer.json()["errors"]) == ["month"]
    assert client.get("/indicators/350121/export/summary.csv", {"period": "quarter", "quarter": "9"}).status_code == 400


# --- Exports and print ---------------------------------------------------------------------------------


def test_the_sub_area_table_exports_as_xlsx_and_csv(dataset):  # type: ignore[no-untyped-def]
    users = dataset.personas.users
    client = client_for(users.bureau_city)
    query = {**YEAR, "indicator": "live_births"}
    shown = client.get("/indicators/350100/", query).context["tables"]["areas"]
    response = client.get("/indicators/350100/export/areas.xlsx", query)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="indicators-350100-areas-20250101-20251231')
    book = load_workbook(io.BytesIO(response.content))
    sheet = book.worksheets[0]
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert rows[0] == shown["header"] == ["地区", "分子", "分母", "数值", "是否达标"]
    assert rows[1:] == [["鼓楼区", 1, None, 1, None], ["闽侯县", 5, None, 5, None], ["合计：福州市", 6, None, 6, None]]
    assert len(rows) - 1 == len(shown["rows"])
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)
    assert AccessLog.objects.filter(user=users.bureau_city, action="export", object_type="indicators.figures").exists()

    response = client.get("/indicators/350100/export/areas.csv", query)
    assert response.status_code == 200 and response["Content-Type"] == "text/csv; charset=utf-8"
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    table = list(csv.reader(io.StringIO(text[1:])))
    assert table[0] == ["地区", "分子", "分母", "数值", "是否达标"]
    assert table[1:] == [["鼓楼区", "1", "", "1", ""], ["闽侯县", "5", "", "5", ""], ["合计：福州市", "6", "", "6", ""]]


def test_the_summary_and_month_tables_export_exact_figures(dataset, target):  # type: ignore[no-untyped-def]
    client = client_for(dataset.personas.users.mch_a)
    response = client.get("/indicators/350121/export/summary.csv", YEAR)
    table = list(csv.reader(io.StringIO(response.content.decode("utf-8")[1:])))
    assert table[0] == ["指标", "数值", "单位", "分子", "分母", "目标", "是否达标", "上一期", "较上期变化"]
    rows = {row[0]: row for row in table[1:]}
    assert rows["孕产妇系统管理率"][1:7] == ["40.0", "%", "2", "5", "≥ 95.00 %", "未达标"]
    assert rows["孕产妇死亡率"][1:5] == ["40000.0", "/10万", "2", "5"]
    assert len(table) - 1 == Indicator.objects.filter(active=True, province__isnull=True).count()
    months = client.get("/indicators/350121/export/months.xlsx", {**YEAR, "indicator": "live_births"})
    sheet = load_workbook(io.BytesIO(months.content)).worksheets[0]
    values = {row[0]: row[1] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert values["2025-10"] == 3 and values["2025-11"] == 2 and len(values) == 12
    assert client.get("/indicators/350121/export/nothing.csv", YEAR).status_code == 404
    assert client.get("/indicators/350121/export/summary.pdf", YEAR).status_code == 404


def test_an_institution_name_cannot_run_as_a_formula(dataset):  # type: ignore[no-untyped-def]
    hospital = dataset.personas.inst.hospital_a
    hospital.name = '=HYPERLINK("http://x")'
    hospital.save()
    client = client_for(dataset.personas.users.mch_a)
    text = client.get("/indicators/350121/export/areas.csv", YEAR).content.decode("utf-8")
    assert "'=HYPERLINK(\"\"http://x\"\")" in text
    sheet = load_workbook(io.BytesIO(client.get("/indicators/350121/export/areas.xlsx", YEAR).content)).worksheets[0]
    assert sheet.cell(row=2, column=1).value == "'=HYPERLINK(\"http://x\")"


def test_the_print_view(dataset):  # type: ignore[no-untyped-def]
    client = client_for(dataset.personas.users.bureau_city)
    response = client.get("/indicators/350100/print/", YEAR)
    assert response.status_code == 200
    html = response.content.decode()
    assert "anmu/print.css" in html and 'data-testid="indicators-print"' in html
    assert 'data-testid="table-summary"' in html and 'data-testid="table-areas"' in html
    assert "<script>" not in html  # the chart data is JSON, drawn by a static file


# --- Live -------------------------------------------------------------------------------------------------


def test_a_new_delivery_changes_the_stamp_and_the_figures(dataset):  # type: ignore[no-untyped-def]
    personas = dataset.personas
    client = client_for(personas.users.mch_a)
    stamp = client.get("/indicators/350121/live.json").json()["stamp"]
    before = client.get("/indicators/350121/data.json", YEAR).json()
    assert before["stamp"] == stamp
    assert client.get("/indicators/350121/live.json").json()["stamp"] == stamp  # nothing changed

    # Another county's delivery is not this county's change.
    other = f.pregnancy(region=personas.regions.county_b, booked_at=personas.inst.hospital_b, lmp=dt.date(2025, 3, 1))
    f.deliver(other, on=dt.date(2025, 12, 1), institution=personas.inst.hospital_b)
    assert client.get("/indicators/350121/live.json").json()["stamp"] == stamp

    p = f.pregnancy(region=personas.regions.county_a, booked_at=personas.inst.hospital_a, lmp=dt.date(2025, 3, 1))
    f.deliver(p, on=dt.date(2025, 12, 2), institution=personas.inst.hospital_a)
    changed = client.get("/indicators/350121/live.json").json()["stamp"]
    assert changed != stamp
    after = client.get("/indicators/350121/data.json", YEAR).json()
    assert tile(after, "live_births")["value"] == tile(before, "live_births")["value"] + 1
    assert after["stamp"] == changed
    # The city's page sees it too; the body the page swaps in carries the new stamp.
    city = client_for(personas.users.bureau_city)
    body = city.get("/indicators/350100/", {**YEAR, "fragment": "body"})
    assert body.status_code == 200 and b"<html" not in body.content
    assert f'data-stamp="{city.get("/indicators/350100/live.json").json()["stamp"]}"'.encode() in body.content

    # A removed delivery and a new death report change it as well.
    Delivery.objects.filter(pregnancy=p).delete()
    current = client.get("/indicators/350121/live.json").json()["stamp"]
    assert current != changed
    assert current == stamp  # the records are as they were: so are the figures
    died = f.pregnancy(region=personas.regions.county_a, booked_at=personas.inst.hospital_a, lmp=dt.date(2025, 3, 1))
    f.death(died, died=f.at(dt.date(2025, 12, 3)), by=personas.users.obstetrician_a,
            institution=personas.inst.hospital_a, state=DeathReport.State.DRAFTED)
    assert client.get("/indicators/350121/live.json").json()["stamp"] != current
