"""The death-report pages: the report page with its countdowns and open steps, the lists, the forms."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from cases.models import DeathReport, Pregnancy
from tests.personas import book_woman, make_id_number
from tests.workflows.death.helpers import CONCLUSION, died_on_case, investigated, reviewers

pytestmark = pytest.mark.django_db


def client(user):  # type: ignore[no-untyped-def]
    c = Client()
    c.force_login(user)
    return c


def test_the_report_page_shows_the_clocks_counting_down_and_the_steps_open(personas):
    report = died_on_case(personas)
    page = client(personas.users.obstetrician_a).get(f"/death/{report.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="countdown"' in html and report.woman.id_number not in html
    assert 'data-step="card"' in html and 'data-step="report"' in html
    assert "未娩" in html  # the card reads in the page's language
    officer = client(personas.users.mch_a).get(f"/death/{report.pk}/").content.decode()
    assert 'data-step="exclude"' in officer and 'data-step="report"' not in officer
    assert client(personas.users.mch_b).get(f"/death/{report.pk}/").status_code == 404
    assert client(personas.users.obstetrician_b).get(f"/death/{report.pk}/").status_code == 404
    refused = client(personas.users.mch_a).get(f"/death/{report.pk}/verify/")
    assert refused.status_code == 403
    from organisations.models import AccessLog

    printed = client(personas.users.mch_a).get(f"/death/{report.pk}/print/")
    assert printed.status_code == 200 and report.woman.id_number in printed.content.decode()
    assert AccessLog.objects.filter(action=AccessLog.Action.EXPORT, user=personas.users.mch_a).exists()
    assert client(personas.users.mch_b).get(f"/death/{report.pk}/print/").status_code == 404


def test_card_form_and_report_step_through_the_pages(personas):
    report = died_on_case(personas)
    c = client(personas.users.obstetrician_a)
    assert c.get(f"/death/{report.pk}/card/").status_code == 200
    died = timezone.localtime(report.died_at).strftime("%Y-%m-%dT%H:%M")
    form = {"died_at": died, "death_place": "county_hospital", "delivery_mode": "undelivered", "cause_a": "羊水栓塞",
            "diagnosis_basis": "clinical", "underlying_cause": "羊水栓塞", "icd10": "O88.1", "cause_class": "direct",
            "icd_mm_group": "5", "age_years": "33", "gravidity": "1", "parity": "0"}
    bad = c.post(f"/death/{report.pk}/card/", {**form, "icd10": "X00"})
    assert bad.status_code == 422
    assert c.post(f"/death/{report.pk}/card/", form).status_code == 302
    assert c.post(f"/death/{report.pk}/report/").status_code == 302
    assert DeathReport.objects.get(pk=report.pk).state == DeathReport.State.REPORTED
    assert client(personas.users.mch_a).post(f"/death/{report.pk}/return/", {"reason": ""}).status_code == 422


def test_lists_by_clock_and_the_reviewers_worklist(personas):
    r = reviewers(personas)
    report = investigated(personas)
    listing = client(personas.users.mch_a).get("/death/reports/?clock=on_time").content.decode()
    assert f'data-report="{report.pk}"' in listing
    assert f'data-report="{report.pk}"' not in client(personas.users.mch_b).get(
        "/death/reports/?clock=on_time").content.decode()
    work = client(r.county).get("/death/reviews/").content.decode()
    assert f'data-report="{report.pk}"' in work
    assert f'data-report="{report.pk}"' not in client(r.city).get("/death/reviews/").content.decode()
    page = client(r.county).post(f"/death/{report.pk}/conclude/", {**CONCLUSION, "icd_mm_group": "3"})
    assert page.status_code == 302
    assert f'data-report="{report.pk}"' in client(r.city).get("/death/reviews/").content.decode()
    assert client(personas.users.outsider).get("/death/reports/").status_code == 403


def test_record_a_death_on_a_pregnancy_and_a_hand_made_report(personas):
    woman = book_woman(at=personas.inst.hospital_a)
    pregnancy = Pregnancy.objects.get(woman=woman)
    c = client(personas.users.obstetrician_a)
    assert c.get(f"/death/pregnancy/{pregnancy.pk}/").status_code == 200
    assert client(personas.users.obstetrician_b).get(f"/death/pregnancy/{pregnancy.pk}/").status_code == 404
    at = (timezone.localtime() - dt.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    done = c.post(f"/death/pregnancy/{pregnancy.pk}/", {"institution": personas.inst.hospital_a.pk, "died_at": at,
                                                        "note": "家中死亡"})
    assert done.status_code == 302 and DeathReport.objects.filter(pregnancy=pregnancy).exists()
    number = make_id_number("350121", dt.date(1991, 7, 1), 40)
    form = {"institution": personas.inst.hospital_a.pk, "name": "陈美玲", "id_type": "resident_id",
            "id_number": number, "phone": "", "residence_region": "350121", "died_at": at}
    assert c.post("/death/new/", form).status_code == 302
    assert DeathReport.objects.filter(woman__id_number=number, origin="manual").count() == 1
    # The same document number with another name is refused, never a second woman.
    again = c.post("/death/new/", {**form, "name": "别人"})
    assert again.status_code == 422


def test_officers_home_page_counts_their_areas_death_reports_by_clock(client, personas):
    """The county MCH officer watches the legal deadlines from her home page; another county's officer
    counts none of hers, and a clinician's home page has no such panel."""
    import re

    from django.urls import reverse

    died_on_case(personas, hours_ago=30)  # the 24-hour report deadline has passed

    def counts(user):  # type: ignore[no-untyped-def]
        client.force_login(user)
        body = client.get(reverse("index")).content.decode()
        section = re.search(r'data-testid="home-deaths".*?</section>', body, re.S)
        if section is None:
            return None
        return {name: int(n) for name, n in re.findall(r'data-count="(\w+)"[^>]*>(\d+)<', section.group(0))}

    assert counts(personas.users.mch_a) == {"overdue": 1, "due_soon": 0, "on_time": 0}
    assert counts(personas.users.mch_b) == {"overdue": 0, "due_soon": 0, "on_time": 0}
    assert counts(personas.users.obstetrician_a) is None
    client.force_login(personas.users.mch_a)
    listed = client.get(reverse("death:list"), {"clock": "overdue"}).content.decode()
    assert "anmu-overdue" in client.get(reverse("index")).content.decode() and "闽侯县医院" in listed
