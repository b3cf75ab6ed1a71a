"""The xlsx export of death reports and conclusions: scoped, de-identified on request, logged."""

from __future__ import annotations

import io

import pytest
from django.test import Client
from openpyxl import load_workbook

from organisations.models import AccessLog
from tests.workflows.death.helpers import CONCLUSION, died_on_case, investigated, reviewers
from workflows.death import services as ds

pytestmark = pytest.mark.django_db


def export(user, query=""):  # type: ignore[no-untyped-def]
    c = Client()
    c.force_login(user)
    response = c.get(f"/death/export/{query}")
    assert response.status_code == 200, response.content[:300]
    book = load_workbook(io.BytesIO(response.content), read_only=True)
    return {sheet.title: [list(row) for row in sheet.iter_rows(values_only=True)] for sheet in book.worksheets}


def test_the_export_holds_the_reports_and_conclusions_the_officer_may_see(personas):
    report = investigated(personas)
    report.residence_address = "闽侯县甘蔗街道1号"
    report.save(update_fields=["residence_address"])
    ds.death_report_conclude(report=report, by=reviewers(personas).county, **CONCLUSION)
    sheets = export(personas.users.mch_a)
    reports, conclusions = sheets["死亡报告"], sheets["评审结论"]
    assert len(reports) == 2 and len(conclusions) == 2
    header, row = reports
    cells = dict(zip(header, row, strict=True))
    assert cells["姓名"] == report.woman.name and cells["证件号码"] == report.woman.id_number_masked
    assert report.woman.id_number not in str(row)  # never the whole number, even identified
    assert cells["现住址"] == "闽侯县甘蔗街道1号" and cells["根本死因"] == "产后出血"
    assert cells["状态"] == "待市级评审" and cells["上报及时"] == "是"
    assert conclusions[1][2] == "县级评审" and conclusions[1][3] == "可避免"
    assert AccessLog.objects.filter(user=personas.users.mch_a, action=AccessLog.Action.EXPORT,
                                    object_type="cases.deathreport").exists()
    assert export(personas.users.mch_b)["死亡报告"][1:] == []  # county B sees none of county A's deaths


def test_the_deidentified_export_carries_no_name_number_or_address(personas):
    report = investigated(personas)
    report.residence_address, report.card_number = "闽侯县甘蔗街道1号", "FJ-0001"
    report.save(update_fields=["residence_address", "card_number"])
    sheets = export(personas.users.mch_a, "?deidentified=1")
    text = str(sheets)
    woman = report.woman
    for personal in (woman.name, woman.id_number, woman.id_number_masked, "闽侯县甘蔗街道1号", "FJ-0001"):
        assert personal not in text
    report.refresh_from_db()
    assert sheets["死亡报告"][1][0] == report.review_number
    log = AccessLog.objects.get(user=personas.users.mch_a, object_type="cases.deathreport")
    assert "去标识" in log.summary and woman.name not in log.summary
    expert = reviewers(personas).county  # reads the packet: her export is de-identified even when not asked
    assert woman.name not in str(export(expert))


def test_a_clinician_exports_her_institutions_reports_and_formulas_are_defused(personas):
    report = died_on_case(personas)
    report.cause_a = "=HYPERLINK(\"http://x\")"
    report.save(update_fields=["cause_a"])
    rows = export(personas.users.obstetrician_a)["死亡报告"]
    assert len(rows) == 2 and any(str(v).startswith("'=HYPERLINK") for v in rows[1])
    assert export(personas.users.obstetrician_b)["死亡报告"][1:] == []
    c = Client()
    c.force_login(personas.users.outsider)
    assert c.get("/death/export/").status_code == 403
