"""The routine records' pages on the pregnancy hub: the section, record and correct a visit and the delivery,
the high-risk case's delivery form, refusals (403) and scoping (404)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.models import Assessment, Delivery, HighRiskCase, Pregnancy, Visit
from tests.personas import PregnancyFactory, WomanFactory
from workflows.routine import services as rs
from workflows.routine.services import BabyData
from workflows.screening.services import assessment_record


@pytest.fixture
def pregnancy(personas):  # type: ignore[no-untyped-def]
    hospital = personas.inst.hospital_a
    woman = WomanFactory(residence_region=hospital.region, registered_by=hospital)
    return PregnancyFactory(woman=woman, booking_institution=hospital,
                            lmp=timezone.localdate() - dt.timedelta(days=275),
                            booking_date=timezone.localdate() - dt.timedelta(days=200))


def local(moment: dt.datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def test_the_section_lists_visits_delivery_and_postpartum(client, personas, pregnancy):
    doctor, hospital = personas.users.obstetrician_a, personas.inst.hospital_a
    rs.visit_record(pregnancy=pregnancy, by=doctor, kind="antenatal", institution=hospital,
                    date=pregnancy.lmp + dt.timedelta(days=84))
    rs.delivery_record(pregnancy=pregnancy, by=doctor, delivered_at=timezone.now() - dt.timedelta(days=50),
                       place="institution", institution=hospital, mode="spontaneous",
                       babies=[BabyData("live", "female", 3150)])
    delivered_on = Delivery.objects.get().delivered_on
    rs.visit_record(pregnancy=pregnancy, by=doctor, kind="postpartum", institution=hospital,
                    date=delivered_on + dt.timedelta(days=7))
    client.force_login(doctor)
    page = client.get(reverse("cases:pregnancy_detail", args=[pregnancy.pk]))
    body = page.content.decode()
    assert page.context["routine_antenatal"][0]["ga"] == (12, 0)
    assert page.context["routine_postpartum"][0]["day"] == 7
    assert 'data-testid="routine"' in body and 'data-testid="antenatal-visits"' in body
    assert "3150 g" in body and 'data-testid="day42-missing"' in body
    assert 'data-testid="record-visit"' in body and 'data-testid="correct-delivery"' in body
    assert 'data-testid="record-delivery"' not in body and body.count('data-testid="correct-visit"') == 2


@pytest.mark.parametrize(("persona", "status"), [("mch_a", 403), ("duty_a", 403), ("obstetrician_b", 404)])
def test_denied_personas_cannot_open_the_visit_form(client, personas, pregnancy, persona, status):
    client.force_login(getattr(personas.users, persona))
    assert client.get(reverse("cases:visit_new", args=[pregnancy.pk])).status_code == status
    assert client.post(reverse("cases:visit_new", args=[pregnancy.pk]), {
        "kind": "antenatal", "date": timezone.localdate().isoformat(),
        "institution": personas.inst.hospital_a.pk}).status_code == status
    assert not Visit.objects.exists()


def test_record_and_correct_a_visit_through_the_pages(client, personas, pregnancy):
    client.force_login(personas.users.obstetrician_a)
    url = reverse("cases:visit_new", args=[pregnancy.pk])
    assert client.get(url).status_code == 200
    future = client.post(url, {"kind": "antenatal", "date": (timezone.localdate() + dt.timedelta(days=2)).isoformat(),
                               "institution": personas.inst.hospital_a.pk})
    assert future.status_code == 200 and future.context["form"].errors["date"]
    done = client.post(url, {"kind": "antenatal", "date": timezone.localdate().isoformat(),
                             "institution": personas.inst.hospital_a.pk, "note": "血压正常"})
    assert done.status_code == 302
    visit = Visit.objects.get()
    correct = reverse("cases:visit_correct", args=[pregnancy.pk, visit.pk])
    no_reason = client.post(correct, {"kind": "antenatal", "date": timezone.localdate().isoformat(),
                                      "institution": personas.inst.hospital_a.pk})
    assert no_reason.status_code == 200 and no_reason.context["form"].errors["reason"]
    assert client.post(correct, {"kind": "antenatal", "date": (timezone.localdate() - dt.timedelta(days=1)).isoformat(),
                                 "institution": personas.inst.hospital_a.pk, "reason": "日期录错"}).status_code == 302
    assert Visit.objects.get().date == timezone.localdate() - dt.timedelta(days=1)
    client.force_login(personas.users.primary_a)
    assert client.get(correct).status_code == 404  # not her pregnancy
    client.force_login(personas.users.obstetrician_a)
    assert client.post(reverse("cases:visit_void", args=[pregnancy.pk, visit.pk]), {"reason": "重复"}).status_code == 302
    assert not Visit.objects.exists()


def test_record_and_correct_the_delivery_through_the_pages(client, personas, pregnancy):
    client.force_login(personas.users.obstetrician_a)
    url = reverse("cases:delivery", args=[pregnancy.pk])
    assert client.get(url).status_code == 200
    form = {"delivered_at": local(timezone.now() - dt.timedelta(hours=5)), "place": "institution",
            "institution": personas.inst.hospital_a.pk, "mode": "caesarean", "gestational_weeks": 39,
            "gestational_days": 2, "baby1_outcome": "live", "baby1_sex": "female", "baby1_weight_g": 3300,
            "baby2_outcome": "live", "baby2_sex": "male", "baby2_weight_g": 3000}
    no_indication = client.post(url, form)
    assert no_indication.status_code == 200 and no_indication.context["form"].errors["caesarean_indication"]
    assert client.post(url, {**form, "caesarean_indication": "双胎臀位"}).status_code == 302
    delivery = Delivery.objects.get()
    assert delivery.live_births == 2 and delivery.babies.count() == 2
    assert Pregnancy.objects.get(pk=pregnancy.pk).status == "delivered"
    page = client.get(url)
    assert page.status_code == 200 and page.context["form"].initial["mode"] == "caesarean"
    assert client.post(url, {**form, "caesarean_indication": "双胎臀位", "baby2_outcome": "stillborn",
                             "reason": "二胎为死产"}).status_code == 302
    assert Delivery.objects.get().stillbirths == 1


@pytest.mark.parametrize(("persona", "status"), [("mch_a", 403), ("primary_a", 404), ("obstetrician_b", 404)])
def test_denied_personas_cannot_record_the_delivery(client, personas, pregnancy, persona, status):
    client.force_login(getattr(personas.users, persona))
    assert client.get(reverse("cases:delivery", args=[pregnancy.pk])).status_code == status
    assert not Delivery.objects.exists()


def test_the_case_delivery_form_records_the_pregnancy_delivery(client, personas, pregnancy):
    assessment_record(pregnancy=pregnancy, institution=personas.inst.hospital_a, by=personas.users.obstetrician_a,
                      stage=Assessment.Stage.FIRST, inputs={"age_years": 41})
    case = HighRiskCase.objects.get(pregnancy=pregnancy)
    client.force_login(personas.users.obstetrician_a)
    url = reverse("highrisk:case_action", args=[case.pk, "delivery"])
    assert client.get(url).status_code == 200
    response = client.post(url, {"delivered_at": local(timezone.now() - dt.timedelta(hours=2)),
                                 "place": "institution", "institution": personas.inst.hospital_a.pk,
                                 "mode": "spontaneous", "baby1_outcome": "live", "baby1_sex": "male",
                                 "outcome": "母婴平安"})
    assert response.status_code == 302
    assert HighRiskCase.objects.get(pk=case.pk).state == "delivered"
    assert Delivery.objects.get(pregnancy=pregnancy).outcome == "母婴平安"
    body = client.get(reverse("highrisk:case_detail", args=[case.pk])).content.decode()
    assert 'data-testid="case-delivery"' in body
