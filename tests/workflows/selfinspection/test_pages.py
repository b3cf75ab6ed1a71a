"""The pages: the list and a new draft, the report page and its narrative form, finalising, the print view and the
.docx (opened with python-docx), allowed and refused personas."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from django.utils.translation import gettext

from cases.models import SelfInspectionReport
from organisations.models import AccessLog
from workflows.selfinspection import services as svc
from workflows.selfinspection.kinds import kind_of

from .conftest import YEAR

NARRATIVE = {"measures": "开展产科急救演练4次。\n培训助产人员120人次。", "problems": "转诊应答超时，值班不到位。",
             "next_steps": "落实24小时值班制度。"}


@pytest.fixture
def report(seeded):  # type: ignore[no-untyped-def]
    p = seeded.personas
    made = svc.selfinspection_create(by=p.users.mch_a, region=p.regions.county_a, year=YEAR)
    return svc.selfinspection_update(report=made, by=p.users.mch_a, **NARRATIVE)


def title(report):  # type: ignore[no-untyped-def]
    return kind_of(report.kind).title_for(region=report.region, year=report.year)


def signed_in(client, user):  # type: ignore[no-untyped-def]
    client.force_login(user)
    return client


def test_an_officer_drafts_from_the_list(client, personas):  # type: ignore[no-untyped-def]
    signed_in(client, personas.users.mch_a)
    page = client.get(reverse("selfinspection:index"))
    assert page.status_code == 200 and b'data-testid="new-report-form"' in page.content
    answer = client.post(reverse("selfinspection:new"), {"kind": "self_inspection", "region": "350121", "year": YEAR})
    report = SelfInspectionReport.objects.get()
    assert answer.status_code == 302 and answer["Location"] == reverse("selfinspection:detail", args=[report.pk])
    again = client.post(reverse("selfinspection:new"), {"kind": "self_inspection", "region": "350121", "year": YEAR})
    assert again.status_code == 422 and b'errorlist' in again.content
    other = client.post(reverse("selfinspection:new"), {"kind": "self_inspection", "region": "350212", "year": YEAR})
    assert other.status_code == 422  # another county is not a choice: a form error
    bad = client.post(reverse("selfinspection:new"), {"kind": "self_inspection", "region": "350121", "year": "x"})
    assert bad.status_code == 422
    assert SelfInspectionReport.objects.count() == 1


def test_the_report_page_shows_figures_problems_and_the_form(client, report):  # type: ignore[no-untyped-def]
    signed_in(client, report.created_by)
    page = client.get(reverse("selfinspection:detail", args=[report.pk]))
    text = page.content.decode()
    assert page.status_code == 200
    assert 'data-testid="figures-screening"' in text and 'data-key="screenings"' in text
    assert 'data-kind="late_death_reports"' in text and 'data-testid="narrative-form"' in text
    assert "开展产科急救演练4次。" in text and 'data-testid="finalise"' in text


def test_saving_and_finalising_from_the_page(client, report):  # type: ignore[no-untyped-def]
    signed_in(client, report.created_by)
    saved = client.post(reverse("selfinspection:edit", args=[report.pk]), {**NARRATIVE, "next_steps": "每月督导。"})
    assert saved.status_code == 302
    assert SelfInspectionReport.objects.get(pk=report.pk).next_steps == "每月督导。"
    too_long = client.post(reverse("selfinspection:edit", args=[report.pk]), {**NARRATIVE, "problems": "长" * 10_001})
    assert too_long.status_code == 422
    refused = client.post(reverse("selfinspection:finalise", args=[report.pk]), {**NARRATIVE, "problems": "长" * 10_001})
    assert refused.status_code == 422 and SelfInspectionReport.objects.get(pk=report.pk).state == "draft"
    # The page's second button: the narrative as typed is saved, then the report finalised.
    done = client.post(reverse("selfinspection:finalise", args=[report.pk]), {**NARRATIVE, "next_steps": "每季度督导一次。"})
    assert done.status_code == 302
    final = SelfInspectionReport.objects.get(pk=report.pk)
    assert final.state == "finalised" and final.snapshot["sections"]
    page = client.get(reverse("selfinspection:detail", args=[report.pk])).content.decode()
    assert 'data-testid="narrative-form"' not in page and "每季度督导一次。" in page
    refused = client.post(reverse("selfinspection:edit", args=[report.pk]), NARRATIVE)
    assert refused.status_code == 403
    assert SelfInspectionReport.objects.get(pk=report.pk).next_steps == "每季度督导一次。"


def test_finalising_an_unwritten_report_is_a_form_error(client, personas):  # type: ignore[no-untyped-def]
    made = svc.selfinspection_create(by=personas.users.mch_a, region=personas.regions.county_a, year=YEAR)
    signed_in(client, personas.users.mch_a)
    answer = client.post(reverse("selfinspection:finalise", args=[made.pk]))
    assert answer.status_code == 422
    assert gettext("Write this section before finalising.") in answer.content.decode()
    assert SelfInspectionReport.objects.get(pk=made.pk).state == "draft"


def test_the_print_view(client, report):  # type: ignore[no-untyped-def]
    signed_in(client, report.created_by)
    page = client.get(reverse("selfinspection:print", args=[report.pk]))
    text = page.content.decode()
    assert page.status_code == 200 and 'data-testid="selfinspection-print"' in text
    assert title(report) in text and 'lang="zh-hans"' in text
    assert 'data-key="referral_answer_in_time_rate"' in text and "开展产科急救演练4次。" in text
    assert AccessLog.objects.filter(user=report.created_by, action=AccessLog.Action.EXPORT,
                                    object_id=str(report.pk)).exists()


def test_the_docx_opens_and_holds_the_figures_and_the_narrative(client, report):  # type: ignore[no-untyped-def]
    from docx import Document
    from docx.oxml.ns import qn

    signed_in(client, report.created_by)
    answer = client.get(reverse("selfinspection:docx", args=[report.pk]))
    assert answer.status_code == 200
    assert answer["Content-Type"] == "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    assert 'filename="selfinspection-350121-2025.docx"' in answer["Content-Disposition"]
    document = Document(io.BytesIO(answer.content))
    paragraphs = [p.text for p in document.paragraphs]
    assert paragraphs[0] == title(report)
    assert "开展产科急救演练4次。" in paragraphs and "培训助产人员120人次。" in paragraphs
    assert "落实24小时值班制度。" in paragraphs
    assert any(p.startswith("一、") for p in paragraphs)
    assert len(document.tables) == 5  # one per system
    cells = {row.cells[0].text: [c.text for c in row.cells] for table in document.tables for row in table.rows}
    assert cells[gettext("Screenings at booking")][1] == "3"
    assert cells["转诊及时应答率"][1:] == ["50.00 %", "1 / 2", f"≥ 90.00 %（{gettext('not met')}）"]
    assert any("闽侯县医院" in p for p in paragraphs)  # the problems list
    normal = document.styles["Normal"].element.rPr.rFonts
    assert normal.get(qn("w:eastAsia")) == "宋体"


def test_another_county_sees_nothing(client, report, personas):  # type: ignore[no-untyped-def]
    signed_in(client, personas.users.mch_b)
    for name in ("detail", "print", "docx"):
        assert client.get(reverse(f"selfinspection:{name}", args=[report.pk])).status_code == 404
    assert client.post(reverse("selfinspection:edit", args=[report.pk]), NARRATIVE).status_code == 404
    assert client.post(reverse("selfinspection:finalise", args=[report.pk])).status_code == 404
    listing = client.get(reverse("selfinspection:index")).content.decode()
    assert str(report.pk) not in listing
    assert SelfInspectionReport.objects.get(pk=report.pk).measures == NARRATIVE["measures"]


def test_the_city_reads_but_does_not_change_a_county_report(client, report, personas):  # type: ignore[no-untyped-def]
    signed_in(client, personas.users.bureau_city)
    page = client.get(reverse("selfinspection:detail", args=[report.pk])).content.decode()
    assert 'data-testid="narrative-form"' not in page and "开展产科急救演练4次。" in page
    assert client.post(reverse("selfinspection:edit", args=[report.pk]), NARRATIVE | {"measures": "改"}
                       ).status_code == 403
    assert client.post(reverse("selfinspection:finalise", args=[report.pk])).status_code == 403
    assert SelfInspectionReport.objects.get(pk=report.pk).state == "draft"


def test_clinicians_are_refused_the_application(client, report, personas):  # type: ignore[no-untyped-def]
    signed_in(client, personas.users.obstetrician_a)
    answer = client.get(reverse("selfinspection:index"))
    assert answer.status_code == 403
    assert client.get(reverse("selfinspection:detail", args=[report.pk])).status_code in (403, 404)
    client.logout()
    assert client.get(reverse("selfinspection:index")).status_code == 302
