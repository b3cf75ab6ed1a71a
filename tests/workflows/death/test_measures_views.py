"""The improvement-measure pages: the officers' list by institution (scoped to the area), "our measures", a
measure's page and its steps, and the report page's section with "add a measure"."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from cases.models import ImprovementMeasure
from organisations.models import Institution, Role
from tests.personas import InstitutionFactory
from tests.workflows.death.helpers import investigated
from tests.workflows.referral.helpers import member
from workflows.death import services as ds

pytestmark = pytest.mark.django_db


def client_for(client, user):  # type: ignore[no-untyped-def]
    client.force_login(user)
    return client


def measure_on(personas, report=None, *, owner=None):  # type: ignore[no-untyped-def]
    return ds.death_measure_set(report=report or investigated(personas), by=personas.users.mch_a,
                                text="建立产后出血快速输血通道", owner_institution=owner or personas.inst.hospital_a,
                                due_on=timezone.localdate() + dt.timedelta(days=20))


def test_the_report_page_lists_measures_and_offers_add_to_a_reviewer(client, personas):
    measure = measure_on(personas)
    page = client_for(client, personas.users.mch_a).get(f"/death/{measure.report_id}/")
    html = page.content.decode()
    assert page.status_code == 200 and 'data-testid="death-measures"' in html
    assert f'data-measure="{measure.pk}"' in html and 'data-testid="add-measure"' in html
    page = client_for(client, personas.users.obstetrician_a).get(f"/death/{measure.report_id}/")
    assert f'data-measure="{measure.pk}"' in page.content.decode()
    assert 'data-testid="add-measure"' not in page.content.decode()


def test_a_reviewer_adds_a_measure_through_the_form(client, personas):
    report = investigated(personas)
    c = client_for(client, personas.users.mch_a)
    assert c.get(f"/death/{report.pk}/measures/new/").status_code == 200
    bad = c.post(f"/death/{report.pk}/measures/new/", {"text": "", "owner_institution": personas.inst.hospital_a.pk,
                                                       "due_on": "2020-01-01"})
    assert bad.status_code == 422 and not ImprovementMeasure.objects.exists()
    done = c.post(f"/death/{report.pk}/measures/new/", {
        "text": "完善危重孕产妇转诊流程", "owner_institution": personas.inst.hospital_a.pk,
        "due_on": (timezone.localdate() + dt.timedelta(days=60)).isoformat()})
    assert done.status_code == 302
    assert ImprovementMeasure.objects.get().owner_institution == personas.inst.hospital_a
    assert client_for(client, personas.users.obstetrician_a).get(f"/death/{report.pk}/measures/new/").status_code == 403


def test_the_owner_records_it_done_and_the_bureau_verifies_on_the_pages(client, personas):
    measure = measure_on(personas)
    c = client_for(client, personas.users.obstetrician_a)
    page = c.get(f"/death/measures/{measure.pk}/").content.decode()
    assert 'data-step="done"' in page and 'data-step="verify"' not in page
    assert c.get(f"/death/measures/{measure.pk}/verify/").status_code == 403
    assert c.post(f"/death/measures/{measure.pk}/done/", {"evidence": ""}).status_code == 422
    assert c.post(f"/death/measures/{measure.pk}/done/", {"evidence": "已完成"}).status_code == 302
    c = client_for(client, personas.users.bureau_a)
    assert 'data-step="verify"' in c.get(f"/death/measures/{measure.pk}/").content.decode()
    assert c.post(f"/death/measures/{measure.pk}/verify/", {"note": ""}).status_code == 302
    assert ImprovementMeasure.objects.get(pk=measure.pk).state == "verified"
    history = c.get(f"/history/cases.improvementmeasure/{measure.pk}/")
    assert history.status_code == 200


def test_the_owner_institution_sees_its_measure_but_never_the_woman(client, personas):
    report = investigated(personas)
    measure = measure_on(personas, report, owner=personas.inst.hospital_a2)
    gulou = member("obstetrician_gulou", personas.inst.hospital_a2, Role.OBSTETRICIAN)
    c = client_for(client, gulou)
    for path in (f"/death/measures/{measure.pk}/", "/death/measures/ours/?tab=open",
                 f"/history/cases.improvementmeasure/{measure.pk}/"):
        page = c.get(path)
        assert page.status_code == 200, path
        html = page.content.decode()
        at = html.find(report.woman.name)
        assert at < 0, (path, html[max(0, at - 300):at + 100])
        assert measure.reference in html, path
    assert 'data-testid="measure-report-link"' not in c.get(f"/death/measures/{measure.pk}/").content.decode()
    assert c.get(f"/death/{report.pk}/").status_code == 404
    assert c.get("/death/measures/").status_code == 302  # no area to oversee: her institution's list


def test_the_bureau_list_is_scoped_to_its_area(client, personas):
    measure = measure_on(personas)
    bureau_b = member("bureau_b", InstitutionFactory(name="同安区卫生健康局", kind=Institution.Kind.HEALTH_BUREAU,
                                                     level=None, region=personas.regions.county_b), Role.BUREAU_OFFICER)
    mine = client_for(client, personas.users.bureau_a).get("/death/measures/?tab=open").content.decode()
    assert f'data-measure="{measure.pk}"' in mine and "闽侯县医院" in mine
    other = client_for(client, bureau_b).get("/death/measures/?tab=open").content.decode()
    assert 'data-measure=' not in other and "闽侯县医院" not in other
    assert client_for(client, bureau_b).get(f"/death/measures/{measure.pk}/").status_code == 404
