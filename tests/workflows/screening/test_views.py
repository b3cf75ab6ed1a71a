"""The screening pages over HTTP: forms, errors as messages, refusals, scoping."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from cases.models import Assessment, HighRiskCase, Pregnancy, Screening, Woman
from cases.rules import screening_items, settings_for
from tests.personas import make_id_number

NUMBER = make_id_number("350121", dt.date(1990, 6, 1), 42)


def register_via_page(client, **extra):  # type: ignore[no-untyped-def]
    data = {"name": "陈丽", "id_type": "resident_id", "id_number": NUMBER, "phone": "13912340000",
            "residence_region": "350121", **extra}
    return client.post(reverse("cases:woman_register"), data)


@pytest.fixture
def booked(client, personas):
    client.force_login(personas.users.obstetrician_a)
    register_via_page(client, institution=personas.inst.hospital_a.pk)
    woman = Woman.objects.get()
    client.post(reverse("cases:pregnancy_book", args=[woman.pk]), {
        "institution": personas.inst.hospital_a.pk, "lmp": "2026-09-01", "booking_date": "2026-11-20",
        "gravidity": 1, "parity": 0})
    return Pregnancy.objects.get()


def test_register_book_screen_assess_through_the_pages(client, personas, booked):
    page = client.get(reverse("cases:pregnancy_detail", args=[booked.pk]))
    assert page.status_code == 200 and "陈丽" in page.content.decode()
    items = screening_items(settings_for(personas.inst.hospital_a))
    answers = {f"item_{item.code}": "no" for item in items if item.required}
    answers["item_1.1"] = "yes"
    response = client.post(reverse("cases:screen", args=[booked.pk]), {**answers, "institution": personas.inst.hospital_a.pk})
    assert response.status_code == 302
    assert Screening.objects.get().positive_items == ["1.1"]

    form = client.get(reverse("cases:assess", args=[booked.pk])).content.decode()
    assert "data-evaluate-url" in form and "R1.1.1" in form
    response = client.post(reverse("cases:assess", args=[booked.pk]), {
        "institution": personas.inst.hospital_a.pk, "stage": "first", "age_years": 36, "pa_pressure_mmhg": 55,
        "findings": ["P2"]})
    assert response.status_code == 302
    assessment = Assessment.objects.get()
    assert assessment.label == "purple+red"
    detail = client.get(reverse("cases:pregnancy_detail", args=[booked.pk])).content.decode()
    assert 'data-testid="colour-timeline"' in detail and "R1.1.1" in detail and 'data-testid="case"' in detail
    assert HighRiskCase.objects.get().colour == "red"
    # The case is reported from the page.
    case = HighRiskCase.objects.get()
    assert client.post(reverse("cases:case_report", args=[case.pk])).status_code == 302
    assert HighRiskCase.objects.get().state == "reported"


def test_bad_input_comes_back_as_form_errors(client, personas, booked):
    response = client.post(reverse("cases:assess", args=[booked.pk]), {
        "institution": personas.inst.hospital_a.pk, "stage": "first", "age_years": 36, "hb_g_l": 500,
        "colour": "green"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "hb_g_l" in body or "20" in body
    assert not Assessment.objects.exists()
    bad_id = register_via_page(client, institution=personas.inst.hospital_a.pk, id_number="350121199006010000")
    assert bad_id.status_code == 200 and "校验" in bad_id.content.decode()


def test_second_institution_finds_the_woman_through_the_page(client, personas, booked):
    client.force_login(personas.users.obstetrician_b)
    woman = Woman.objects.get()
    assert client.get(reverse("cases:woman_detail", args=[woman.pk])).status_code == 404
    response = register_via_page(client, institution=personas.inst.hospital_b.pk, residence_region="350212")
    assert response.status_code == 302 and str(woman.pk) in response["Location"]
    assert Woman.objects.count() == 1
    assert client.get(reverse("cases:woman_detail", args=[woman.pk])).status_code == 200
    # Her pregnancy booked at hospital A stays out of sight for hospital B.
    assert client.get(reverse("cases:pregnancy_detail", args=[booked.pk])).status_code == 404


@pytest.mark.parametrize(("persona", "status"), [
    ("obstetrician_b", 404), ("mch_b", 404), ("bureau_gd", 404), ("outsider", 403),
])
def test_others_cannot_open_or_assess(client, personas, booked, persona, status):
    client.force_login(getattr(personas.users, persona))
    assert client.get(reverse("cases:pregnancy_detail", args=[booked.pk])).status_code == status
    assert client.post(reverse("cases:assess", args=[booked.pk]), {"stage": "first"}).status_code == status
    assert not Assessment.objects.exists()


def test_mch_officer_reads_but_may_not_assess(client, personas, booked):
    client.force_login(personas.users.mch_a)
    assert client.get(reverse("cases:pregnancy_detail", args=[booked.pk])).status_code == 200
    response = client.get(reverse("cases:assess", args=[booked.pk]))
    assert response.status_code == 403 and "评估" in response.content.decode()


def test_worklist_shows_overdue_first(client, personas):
    from workflows.screening.services import pregnancy_book, screening_record, woman_register

    women = []
    for index in range(2):
        woman, _ = woman_register(by=personas.users.primary_a, institution=personas.inst.primary_a,
                                  name=f"候评{index}", id_type="resident_id",
                                  id_number=make_id_number("350121", dt.date(1991, 1, 1), 100 + 2 * index),
                                  residence_region=personas.regions.county_a)
        pregnancy = pregnancy_book(woman=woman, institution=personas.inst.primary_a, by=personas.users.primary_a,
                                   lmp=dt.date(2026, 9, 1), booking_date=dt.date(2026, 11, 20), gravidity=1, parity=0)
        answers = {item.code: False for item in screening_items(settings_for(personas.inst.primary_a)) if item.required}
        answers["2.2"] = True
        screening_record(pregnancy=pregnancy, institution=personas.inst.primary_a, by=personas.users.primary_a,
                         answers=answers, refer_to=personas.inst.hospital_a)
        women.append(woman)
    from django.utils import timezone

    from cases.models import AssessmentReferral

    AssessmentReferral.objects.filter(pregnancy__woman=women[1]).update(due_at=timezone.now() - dt.timedelta(days=1))
    client.force_login(personas.users.obstetrician_a)
    body = client.get(reverse("cases:worklist")).content.decode()
    assert body.index("候评1") < body.index("候评0")
    client.force_login(personas.users.obstetrician_b)
    assert "候评" not in client.get(reverse("cases:worklist")).content.decode()


def test_mch_officer_merges_a_duplicate_through_the_page(client, personas):
    import datetime as dt

    from workflows.screening.services import pregnancy_book, woman_register

    kept, _ = woman_register(by=personas.users.obstetrician_a, institution=personas.inst.hospital_a, name="重复者",
                             id_type="resident_id", id_number=NUMBER, residence_region=personas.regions.county_a)
    duplicate, _ = woman_register(by=personas.users.obstetrician_a, institution=personas.inst.hospital_a,
                                  name="重复者", id_type="none", no_id_reason="当时未带证件",
                                  date_of_birth=dt.date(1990, 6, 1), residence_region=personas.regions.county_a)
    pregnancy = pregnancy_book(woman=duplicate, institution=personas.inst.hospital_a, by=personas.users.obstetrician_a,
                               lmp=dt.date(2026, 9, 1), booking_date=dt.date(2026, 11, 1), gravidity=1, parity=0)
    client.force_login(personas.users.obstetrician_a)
    assert client.get(reverse("cases:woman_merge", args=[kept.pk])).status_code == 403
    client.force_login(personas.users.mch_a)
    page = client.get(reverse("cases:woman_merge", args=[kept.pk])).content.decode()
    assert str(duplicate.pk) in page
    missing_reason = client.post(reverse("cases:woman_merge", args=[kept.pk]), {"duplicate": duplicate.pk})
    assert missing_reason.status_code == 200
    done = client.post(reverse("cases:woman_merge", args=[kept.pk]), {"duplicate": duplicate.pk, "reason": "同一人"})
    assert done.status_code == 302
    assert Pregnancy.objects.get(pk=pregnancy.pk).woman_id == kept.pk
    client.force_login(personas.users.mch_b)
    assert client.get(reverse("cases:woman_merge", args=[kept.pk])).status_code == 404


def _refer_to_options(body: str) -> list[str]:
    import re

    select = re.search(r'<select name="refer_to".*?</select>', body, re.S)
    assert select is not None
    return re.findall(r'<option value="[0-9a-f-]+"[^>]*>([^<]+)</option>', select.group(0))


def test_referral_for_assessment_lists_the_nearest_institutions_first(client, personas):
    """A primary-care centre in 同安区 (厦门市) sees its own county, then 厦门市, then Fuzhou's and the province's."""
    from organisations.models import Institution, Role
    from tests.personas import InstitutionFactory, _member, book_woman

    K = Institution.Kind
    primary_b = InstitutionFactory(name="同安区大同街道社区卫生服务中心", kind=K.PRIMARY_CARE, level=1,
                                   region=personas.regions.county_b)
    siming = personas.regions.county_b.__class__.objects.create(code="350203", name="思明区", level="county",
                                                                parent=personas.regions.xiamen)
    InstitutionFactory(name="厦门市思明区医院", kind=K.MIDWIFERY_HOSPITAL, level=2, region=siming)
    InstitutionFactory(name="厦门市妇幼保健院", kind=K.MCH_INSTITUTE, level=3, region=personas.regions.xiamen)
    doctor = _member("primary_b", primary_b, Role.PRIMARY_CARE)
    pregnancy = Pregnancy.objects.get(woman=book_woman(at=primary_b))
    client.force_login(doctor)
    options = _refer_to_options(client.get(reverse("cases:screen", args=[pregnancy.pk])).content.decode())
    assert options[:4] == [
        "厦门市第三医院", "同安区妇幼保健院",  # the same county: level 3 before level 2
        "厦门市妇幼保健院", "厦门市思明区医院",  # the same city
    ]
    # Then the rest of the province (not Guangdong's), the level-3 ones first.
    assert set(options[4:6]) == {"福州市妇幼保健院", "福建省妇幼保健院"}
    assert set(options[6:]) == {"闽侯县医院", "闽侯县妇幼保健院", "鼓楼区医院"}
