"""Prenatal QC pages: the entry grid (allowed, refused 403, out of scope 404), its form errors (400, nothing
saved), submit and return through the page, the list with completeness, and the xlsx export."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from cases.models import PrenatalReport, PrenatalValue
from organisations.models import AccessLog
from tests.workflows.prenatal.helpers import FULL, license_institutions, submitted

pytestmark = pytest.mark.django_db
KEY = "2025-Q1"


@pytest.fixture
def licensed(personas):  # type: ignore[no-untyped-def]
    license_institutions(personas)
    return personas


def url(institution, key: str = KEY) -> str:  # type: ignore[no-untyped-def]
    return reverse("prenatal:entry", args=[institution.pk, key])


def test_the_obstetrician_sees_the_grid_and_the_rates(client, licensed):
    hospital = licensed.inst.hospital_a
    submitted(hospital, FULL, by=licensed.users.obstetrician_a)
    client.force_login(licensed.users.obstetrician_a)
    page = client.get(url(hospital))
    assert page.status_code == 200
    body = page.content.decode()
    for code in ("screened", "screen_positive", "women_delivered", "diagnosed", "confirmed"):
        assert f'data-testid="element-{code}"' in body
    rates = {r["code"]: r["value"] for r in page.context["rates"]}
    assert rates == {"screening_rate": 80.0, "screen_positive_rate": 5.0, "diagnosis_confirmed_rate": 20.0}
    assert "产前筛查阳性率" in body and 'data-testid="prenatal-save"' not in body  # submitted: read-only


def test_another_countys_institution_is_not_found(client, licensed):
    hospital = licensed.inst.hospital_a
    for who in ("obstetrician_b", "mch_b"):
        client.force_login(getattr(licensed.users, who))
        assert client.get(url(hospital)).status_code == 404
        assert client.post(url(hospital), {"action": "save", "screened": "1"}).status_code == 404
    client.force_login(licensed.users.obstetrician_a)
    assert client.get(url(licensed.inst.mch_a)).status_code == 404  # not licensed
    assert client.get(url(hospital, "2025-13")).status_code == 404
    assert not PrenatalReport.objects.exists()


def test_a_reader_who_does_not_enter_is_refused(client, licensed):
    client.force_login(licensed.users.mch_a)  # reads her county's figures, enters none of a hospital's
    page = client.get(url(licensed.inst.hospital_a))
    assert page.status_code == 200 and 'data-testid="prenatal-save"' not in page.content.decode()
    assert client.post(url(licensed.inst.hospital_a), {"action": "save", "screened": "1"}).status_code == 403
    client.force_login(licensed.users.primary_a)  # no role in prenatal QC at all
    assert client.get(reverse("prenatal:index")).status_code == 403
    assert not PrenatalReport.objects.exists()


def test_a_wrong_entry_comes_back_with_its_errors(client, licensed):
    client.force_login(licensed.users.obstetrician_a)
    page = client.post(url(licensed.inst.hospital_a), {"action": "save", "screened": "10", "screen_positive": "11",
                                                       "women_delivered": "-3", "diagnosed": "1.5"})
    assert page.status_code == 400
    form = page.context["form"]
    assert set(form.errors) == {"women_delivered", "diagnosed"}  # the pair is checked once each value is valid
    page = client.post(url(licensed.inst.hospital_a), {"action": "save", "screened": "10", "screen_positive": "11"})
    assert page.status_code == 400
    assert "screen_positive" in page.context["form"].errors
    assert 'data-testid="error-screen_positive"' in page.content.decode()
    assert not PrenatalValue.objects.exists()


def test_save_and_submit_then_the_county_officer_returns_it(client, licensed):
    hospital, doctor, officer = licensed.inst.hospital_a, licensed.users.obstetrician_a, licensed.users.mch_a
    client.force_login(doctor)
    partial = {"action": "submit", "screened": "400"}
    page = client.post(url(hospital), partial)
    assert page.status_code == 400 and "women_delivered" in page.context["form"].errors
    assert PrenatalReport.objects.get().state == "open"  # what was typed is kept
    response = client.post(url(hospital), {"action": "submit", **{k: str(v) for k, v in FULL.items()}})
    assert response.status_code == 302
    report = PrenatalReport.objects.get()
    assert report.state == "submitted"
    client.force_login(officer)
    page = client.post(url(hospital), {"action": "return", "reason": ""})
    assert page.status_code == 400 and page.context["return_form"].errors
    assert client.post(url(hospital), {"action": "return", "reason": "阳性人数请核对"}).status_code == 302
    assert PrenatalReport.objects.get().state == "returned"
    client.force_login(doctor)
    body = client.get(url(hospital)).content.decode()
    assert "阳性人数请核对" in body and 'data-testid="prenatal-submit"' in body


def test_the_list_shows_each_institution_and_period_with_its_completeness(client, licensed):
    hospital = licensed.inst.hospital_a
    from workflows.prenatal import services as svc

    svc.prenatal_values_save(institution=hospital, period=("quarter", *_current_quarter()),
                             values={"screened": 5, "screen_positive": 1}, by=licensed.users.obstetrician_a)
    client.force_login(licensed.users.mch_a)
    page = client.get(reverse("prenatal:index"))
    assert page.status_code == 200
    rows = page.context["rows"]
    assert [row["institution"].name for row in rows] == ["闽侯县医院"]  # her county only
    assert rows[0]["cells"][0]["entered"] == 2 and rows[0]["cells"][0]["required"] == 5
    client.force_login(licensed.users.bureau_city)
    names = {row["institution"].name for row in client.get(reverse("prenatal:index")).context["rows"]}
    assert names == {"闽侯县医院", "鼓楼区医院"}


def _current_quarter():  # type: ignore[no-untyped-def]
    from django.utils import timezone

    from cases.models import period_bounds

    return period_bounds("quarter", timezone.localdate())


def test_the_export_opens_with_openpyxl(client, licensed):
    from django.utils import timezone

    hospital = licensed.inst.hospital_a
    start, end = _current_quarter()
    submitted(hospital, FULL, by=licensed.users.obstetrician_a, period=("quarter", start, end))
    client.force_login(licensed.users.mch_a)
    response = client.get(reverse("prenatal:export"))
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(response.content))
    sheet = workbook.worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    header, first = rows[0], rows[1]
    assert len(header) == 5 + 5 + 3  # institution, code, region, period, state; each element; each rate
    assert first[0] == "闽侯县医院" and first[3].startswith(str(timezone.localdate().year))
    assert 400 in first and 80.0 in first and 5.0 in first
    definitions = list(workbook.worksheets[1].iter_rows(values_only=True))
    assert any(row[0] == "screen_positive_rate" and row[7].startswith("https://") for row in definitions[1:])
    assert AccessLog.objects.filter(user=licensed.users.mch_a, action="export",
                                    object_type="cases.prenatalreport").exists()
    client.force_login(licensed.users.primary_a)
    assert client.get(reverse("prenatal:export")).status_code == 403
