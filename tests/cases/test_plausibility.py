"""Implausible data is refused and unusual data confirmed (issue 10, item 13); the look-up by document
number needs a second factor and tells the institutions that hold her record (item 7)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone, translation
from rest_framework.test import APIClient

from cases.identity import age_on
from cases.limits import NARRATIVE_MAX_CHARS, REASON_MAX_CHARS, text_limit
from cases.models import Pregnancy, ProvinceSettings, Referral, Screening, Woman, WomanLink
from cases.models.plausibility import NeedsConfirmation
from cases.rules import screening_items, settings_for
from notifications.models import Alert
from organisations.models import AccessLog
from tests.personas import book_woman, make_id_number
from workflows.screening.services import pregnancy_book, screening_record, woman_register

TODAY = timezone.localdate()
WOMAN_ID = make_id_number("350121", dt.date(1992, 3, 4), 8)  # even 17th digit: a woman
MAN_ID = make_id_number("350121", dt.date(1992, 3, 4), 7)  # odd 17th digit: GB 11643 gives it to men


def born_years_ago(years: int) -> dt.date:
    return TODAY.replace(year=TODAY.year - years) - dt.timedelta(days=30)


def register(personas, *, user="obstetrician_a", at="hospital_a", **kwargs):  # type: ignore[no-untyped-def]
    values = {"name": "林秀英", "id_type": Woman.IdType.RESIDENT_ID, "id_number": WOMAN_ID, **kwargs}
    return woman_register(by=getattr(personas.users, user), institution=getattr(personas.inst, at),
                          residence_region=personas.regions.county_a, **values)


def passport(personas, born, **kwargs):  # type: ignore[no-untyped-def]
    return register(personas, id_type=Woman.IdType.PASSPORT, id_number="E12345678", date_of_birth=born, **kwargs)


def book(personas, woman, **kwargs):  # type: ignore[no-untyped-def]
    values = {"lmp": TODAY - dt.timedelta(days=70), "booking_date": TODAY, "gravidity": 1, "parity": 0, **kwargs}
    return pregnancy_book(woman=woman, institution=personas.inst.hospital_a, by=personas.users.obstetrician_a,
                          **values)


# --- Item 13: the woman ---------------------------------------------------------------------------

@pytest.mark.parametrize("born", [dt.date(2099, 1, 1), dt.date(1800, 1, 1), born_years_ago(3)])
def test_impossible_birth_dates_are_refused(personas, born):
    with pytest.raises(ValidationError) as exc:
        passport(personas, born)
    assert "date_of_birth" in exc.value.message_dict
    assert not Woman.objects.exists()


def test_resident_id_of_a_man_asks_for_confirmation(personas):
    with pytest.raises(NeedsConfirmation) as exc:
        register(personas, id_number=MAN_ID)
    assert "id_number" in exc.value.message_dict and not Woman.objects.exists()
    woman, created = register(personas, id_number=MAN_ID, confirmed=True)
    assert created and woman.id_number == MAN_ID


def test_an_unusual_age_asks_for_confirmation_within_the_province_range(personas):
    thirteen = born_years_ago(13)
    with pytest.raises(NeedsConfirmation) as exc:
        passport(personas, thirteen)
    assert "date_of_birth" in exc.value.message_dict
    # The usual range is the province's: with a lower minimum she registers without a question.
    ProvinceSettings.objects.create(province_id="350000", effective_from=TODAY - dt.timedelta(days=1),
                                    mother_age_min_years=12)
    woman, created = passport(personas, thirteen)
    assert created and age_on(woman.date_of_birth, TODAY) == 13


def test_the_register_page_shows_the_warning_and_saves_when_confirmed(client, personas):
    client.force_login(personas.users.obstetrician_a)
    data = {"institution": personas.inst.hospital_a.pk, "name": "陈丽", "id_type": "resident_id",
            "id_number": MAN_ID, "residence_region": "350121"}
    page = client.post(reverse("cases:woman_register"), data)
    assert page.status_code == 200 and 'name="confirm"' in page.content.decode()
    assert "GB 11643" in page.content.decode() and not Woman.objects.exists()
    assert client.post(reverse("cases:woman_register"), {**data, "confirm": "on"}).status_code == 302
    assert Woman.objects.get().id_number == MAN_ID


# --- Item 13: the pregnancy ------------------------------------------------------------------------

@pytest.mark.parametrize(("values", "field"), [
    ({"lmp": dt.date(1900, 1, 1)}, "lmp"),
    ({"booking_date": TODAY + dt.timedelta(days=3), "lmp": TODAY - dt.timedelta(days=60)}, "booking_date"),
    ({"edd_ultrasound": TODAY - dt.timedelta(days=100)}, "edd_ultrasound"),
    ({"edd_ultrasound": TODAY + dt.timedelta(days=400)}, "edd_ultrasound"),
])
def test_impossible_pregnancy_dates_are_refused(personas, values, field):
    woman, _ = register(personas)
    with pytest.raises(ValidationError) as exc:
        book(personas, woman, **values)
    assert field in exc.value.message_dict
    assert not Pregnancy.objects.exists()


def test_latest_booking_week_is_a_province_setting(personas):
    woman, _ = register(personas)
    lmp = TODAY - dt.timedelta(weeks=40)
    ProvinceSettings.objects.create(province_id="350000", effective_from=TODAY - dt.timedelta(days=1),
                                    booking_max_gestation_weeks=36)
    with pytest.raises(ValidationError) as exc:
        book(personas, woman, lmp=lmp)
    assert "36" in exc.value.message_dict["lmp"][0]
    ProvinceSettings.objects.filter(province_id="350000").update(booking_max_gestation_weeks=42)
    assert book(personas, woman, lmp=lmp).lmp == lmp


def test_booking_an_unusually_old_mother_asks_for_confirmation(personas):
    woman = book_woman(at=personas.inst.hospital_a, date_of_birth=born_years_ago(52))
    Pregnancy.objects.filter(woman=woman).update(status=Pregnancy.Status.ENDED)
    with pytest.raises(NeedsConfirmation):
        book(personas, woman)
    assert book(personas, woman, confirmed=True).status == Pregnancy.Status.ONGOING


def test_the_booking_page_refuses_a_future_booking_date(client, personas):
    woman, _ = register(personas)
    client.force_login(personas.users.obstetrician_a)
    page = client.post(reverse("cases:pregnancy_book", args=[woman.pk]), {
        "institution": personas.inst.hospital_a.pk, "lmp": (TODAY - dt.timedelta(days=60)).isoformat(),
        "booking_date": (TODAY + dt.timedelta(days=5)).isoformat(), "gravidity": 1, "parity": 0})
    assert page.status_code == 200 and "建册日期晚于今天。" in page.content.decode()
    assert not Pregnancy.objects.exists()


# --- Item 13: blood pressure and text lengths -------------------------------------------------------

def referral_body(personas, pregnancy, **overrides):  # type: ignore[no-untyped-def]
    return {"pregnancy": str(pregnancy.pk), "from_institution": str(personas.inst.hospital_a.pk),
            "to_centre": str(personas.centres.city.pk), "urgency": "emergency", "reason": "产后出血",
            "diagnosis": "产后出血 1500 mL", "systolic_bp": 82, "diastolic_bp": 50, **overrides}


def api_post(user, body):  # type: ignore[no-untyped-def]
    client = APIClient()
    client.force_login(user)
    return client.post("/api/referrals/", body, format="json")


def test_diastolic_above_systolic_is_refused_on_the_page_and_the_api(client, personas):
    pregnancy = Pregnancy.objects.get(woman=book_woman(at=personas.inst.hospital_a))
    response = api_post(personas.users.obstetrician_a, referral_body(personas, pregnancy, systolic_bp=90,
                                                                     diastolic_bp=120))
    assert response.status_code == 400 and "diastolic_bp" in response.json(), response.content
    client.force_login(personas.users.obstetrician_a)
    page = client.post(f"{reverse('referral:new')}?pregnancy={pregnancy.pk}", {
        "from_institution": personas.inst.hospital_a.pk, "to_centre": personas.centres.city.pk,
        "urgency": "emergency", "reason": "产后出血", "diagnosis": "产后出血", "systolic_bp": 100,
        "diastolic_bp": 100})
    assert page.status_code in (200, 422) and "舒张压应低于收缩压" in page.content.decode()
    assert not Referral.objects.exists()


def test_a_100000_character_text_is_refused_by_the_api_and_the_service(personas):
    pregnancy = Pregnancy.objects.get(woman=book_woman(at=personas.inst.hospital_a))
    response = api_post(personas.users.obstetrician_a, referral_body(personas, pregnancy, reason="血" * 100_000))
    assert response.status_code == 400 and "reason" in response.json(), response.content
    answers = {item.code: False for item in screening_items(settings_for(personas.inst.hospital_a)) if item.required}
    with pytest.raises(ValidationError) as exc:
        screening_record(pregnancy=pregnancy, institution=personas.inst.hospital_a, by=personas.users.obstetrician_a,
                         answers=answers, note="x" * (REASON_MAX_CHARS + 1))
    assert "note" in exc.value.message_dict and not Screening.objects.exists()
    screening_record(pregnancy=pregnancy, institution=personas.inst.hospital_a, by=personas.users.obstetrician_a,
                     answers=answers, note="x" * REASON_MAX_CHARS)


def test_every_free_text_field_has_a_limit(personas):
    from django.apps import apps
    from django.db import models

    unlimited = [f"{model.__name__}.{field.name}" for model in apps.get_app_config("cases").get_models()
                 if not model.__name__.startswith("Historical")
                 for field in model._meta.concrete_fields
                 if isinstance(field, models.TextField) and text_limit(field) not in (REASON_MAX_CHARS,
                                                                                      NARRATIVE_MAX_CHARS)]
    assert unlimited == []


def test_forms_limit_their_text_fields():
    from django import forms

    from workflows.highrisk import forms as highrisk_forms
    from workflows.referral import forms as referral_forms
    from workflows.screening import forms as screening_forms

    unlimited = []
    for module in (screening_forms, highrisk_forms, referral_forms):
        for name in dir(module):
            form = getattr(module, name)
            if isinstance(form, type) and issubclass(form, forms.Form) and form is not forms.Form:
                unlimited += [f"{name}.{field}" for field, f in form.base_fields.items()
                              if type(f) is forms.CharField and not f.max_length]
    assert unlimited == []


# --- Item 7: the look-up by document number ---------------------------------------------------------

def test_look_up_needs_the_name_and_date_of_birth_and_logs_a_refusal(personas):
    woman, _ = passport(personas, dt.date(1990, 6, 1))
    for name, born in (("王芳", dt.date(1990, 6, 1)), ("林秀英", dt.date(1990, 6, 2)), ("林秀英", None)):
        with translation.override("en"), pytest.raises(ValidationError) as exc:  # the log is written in English
            passport(personas, born, name=name, user="obstetrician_b", at="hospital_b")
        # The same answer whichever detail differs.
        assert exc.value.messages == ["未找到符合这些信息的档案，或信息不一致：请核对证件号码、姓名和出生日期。"]
    assert not WomanLink.objects.filter(woman=woman, institution=personas.inst.hospital_b).exists()
    refused = AccessLog.objects.filter(user=personas.users.obstetrician_b, action="lookup", object_id=str(woman.pk))
    assert refused.count() == 3 and "refused: details do not match" in refused.first().summary
    assert not Alert.objects.filter(kind="screening.woman_found").exists()


def test_a_matching_look_up_grants_access_and_tells_the_record_holders(personas):
    woman, _ = register(personas)
    found, created = register(personas, name=" 林 秀英 ", user="obstetrician_b", at="hospital_b")
    assert (found.pk, created) == (woman.pk, False)
    assert WomanLink.objects.filter(woman=woman, institution=personas.inst.hospital_b).exists()
    alert = Alert.objects.get(kind="screening.woman_found")
    assert (alert.recipient, alert.institution, alert.priority, alert.escalation_level) == (
        personas.users.obstetrician_a, personas.inst.hospital_a, Alert.Priority.ROUTINE, 0)
    assert alert.params["institution"] == "厦门市第三医院" and "may read her record" in alert.body
    # Looking her up again from an institution that holds her record tells no one again.
    register(personas, user="obstetrician_b", at="hospital_b")
    assert Alert.objects.filter(kind="screening.woman_found").count() == 1
