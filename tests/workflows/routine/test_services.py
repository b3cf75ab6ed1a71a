"""Routine records through their services: who may record, every validation, history with user and reason,
the pregnancy's state, and the high-risk case moved on by a delivery recorded anywhere."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from cases.models import Assessment, Baby, Delivery, HighRiskCase, Pregnancy, ProvinceSettings, Visit
from organisations.http import ActionDenied, TransitionConflict
from tests.personas import PregnancyFactory, WomanFactory
from workflows.highrisk import services as hr
from workflows.routine import services as rs
from workflows.routine.services import BabyData
from workflows.screening.services import assessment_record

TODAY = dt.date.today()  # noqa: DTZ011  (the tests' calendar; services use timezone.localdate())


def pregnancy_at(institution, *, days_pregnant: int = 270) -> Pregnancy:  # type: ignore[no-untyped-def]
    woman = WomanFactory(residence_region=institution.region, registered_by=institution)
    return PregnancyFactory(woman=woman, booking_institution=institution,
                            lmp=timezone.localdate() - dt.timedelta(days=days_pregnant),
                            booking_date=timezone.localdate() - dt.timedelta(days=days_pregnant - 60))


def deliver(pregnancy, by, **extra):  # type: ignore[no-untyped-def]
    args = {"delivered_at": timezone.now() - dt.timedelta(days=3), "place": "institution",
            "institution": by.memberships.first().institution, "mode": "spontaneous",
            "babies": [BabyData("live", "female", 3200)], **extra}
    return rs.delivery_record(pregnancy=pregnancy, by=by, **args)


def errors_of(exc: pytest.ExceptionInfo) -> dict:  # type: ignore[type-arg]
    return exc.value.message_dict


# --- Visits ---

def test_antenatal_visit_recorded_with_history(personas):
    pregnancy = pregnancy_at(personas.inst.hospital_a)
    doctor = personas.users.obstetrician_a
    visit = rs.visit_record(pregnancy=pregnancy, by=doctor, kind="antenatal",
                            date=timezone.localdate() - dt.timedelta(days=5), institution=personas.inst.hospital_a)
    assert visit.recorded_by == doctor
    row = visit.history.get()
    assert row.history_user == doctor and row.history_change_reason == "visit recorded"
    assert Pregnancy.objects.get(pk=pregnancy.pk).status == "ongoing"


@pytest.mark.parametrize("persona", ["primary_a"])
def test_primary_care_records_visits_of_what_it_booked(personas, persona):
    pregnancy = pregnancy_at(personas.inst.primary_a)
    visit = rs.visit_record(pregnancy=pregnancy, by=getattr(personas.users, persona), kind="antenatal",
                            date=timezone.localdate(), institution=personas.inst.primary_a)
    assert Visit.objects.filter(pk=visit.pk).exists()


@pytest.mark.parametrize("persona", ["obstetrician_b", "mch_a", "bureau_a", "outsider", "duty_a"])
def test_denied_personas_cannot_record_a_visit(personas, persona):
    pregnancy = pregnancy_at(personas.inst.hospital_a)
    with pytest.raises(ActionDenied):
        rs.visit_record(pregnancy=pregnancy, by=getattr(personas.users, persona), kind="antenatal",
                        date=timezone.localdate(), institution=personas.inst.hospital_a)
    assert not Visit.objects.exists()


def test_the_visit_institution_must_be_in_her_scope(personas):
    pregnancy = pregnancy_at(personas.inst.hospital_a)
    with pytest.raises(ActionDenied):
        rs.visit_record(pregnancy=pregnancy, by=personas.users.obstetrician_a, kind="antenatal",
                        date=timezone.localdate(), institution=personas.inst.hospital_b)


def test_visit_validation(personas):
    pregnancy = pregnancy_at(personas.inst.hospital_a)
    doctor, hospital = personas.users.obstetrician_a, personas.inst.hospital_a
    today = timezone.localdate()

    def refused(**kw):  # type: ignore[no-untyped-def]
        with pytest.raises(ValidationError) as exc:
            rs.visit_record(pregnancy=pregnancy, by=doctor, institution=hospital, **kw)
        return errors_of(exc)

    assert "date" in refused(kind="antenatal", date=today + dt.timedelta(days=1))  # the future
    assert "date" in refused(kind="antenatal", date=pregnancy.lmp - dt.timedelta(days=1))  # before the LMP
    assert "kind" in refused(kind="postpartum", date=today)  # no delivery yet
    assert "kind" in refused(kind="home", date=today)
    deliver(pregnancy, doctor, delivered_at=timezone.now() - dt.timedelta(days=50))
    delivered_on = Delivery.objects.get(pregnancy=pregnancy).delivered_on
    assert "date" in refused(kind="antenatal", date=delivered_on + dt.timedelta(days=1))  # after the delivery
    assert "date" in refused(kind="postpartum", date=delivered_on - dt.timedelta(days=1))  # before it
    assert "date" in refused(kind="postpartum_42d", date=delivered_on + dt.timedelta(days=20))  # too early
    rs.visit_record(pregnancy=pregnancy, by=doctor, institution=hospital, kind="antenatal", date=delivered_on)
    rs.visit_record(pregnancy=pregnancy, by=doctor, institution=hospital, kind="postpartum", date=delivered_on)
    rs.visit_record(pregnancy=pregnancy, by=doctor, institution=hospital, kind="postpartum_42d",
                    date=delivered_on + dt.timedelta(days=42))
    assert Visit.objects.filter(pregnancy=pregnancy).count() == 3


def test_the_42_day_window_is_a_province_setting(personas):
    ProvinceSettings.objects.create(province=personas.regions.fujian, effective_from=TODAY - dt.timedelta(days=400),
                                    postpartum_42d_from_days=10, postpartum_42d_to_days=60)
    pregnancy = pregnancy_at(personas.inst.hospital_a)
    deliver(pregnancy, personas.users.obstetrician_a, delivered_at=timezone.now() - dt.timedelta(days=20))
    delivered_on = Delivery.objects.get(pregnancy=pregnancy).delivered_on
    rs.visit_record(pregnancy=pregnancy, by=personas.users.obstetrician_a, institution=personas.inst.hospital_a,
                    kind="postpartum_42d", date=delivered_on + dt.timedelta(days=12))
    assert Visit.objects.filter(kind="postpartum_42d").exists()


def test_pure_visit_errors_need_no_database(personas):
    pregnancy = Pregnancy(lmp=TODAY - dt.timedelta(days=100), booking_date=TODAY)
    rules = ProvinceSettings(effective_from=TODAY)
    ok = rs.visit_errors(pregnancy=pregnancy, kind="antenatal", date=TODAY, delivered_on=None, today=TODAY,
                         rules=rules)
    late = rs.visit_errors(pregnancy=pregnancy, kind="postpartum", date=TODAY, delivered_on=TODAY - dt.timedelta(
        days=rules.postpartum_42d_to_days + 1), today=TODAY, rules=rules)
    assert ok == {} and list(late) == ["date"]


def test_visit_correct_and_void_keep_history(personas):
    pregnancy = pregnancy_at(personas.inst.hospital_a)
    doctor = personas.users.obstetrician_a
    visit = rs.visit_record(pregnancy=pregnancy, by=doctor, kind="antenatal", institution=personas.inst.hospital_a,
                            date=timezone.localdate() - dt.timedelta(days=9))
    with pytest.raises(ValidationError) as exc:
        rs.visit_correct(visit=visit, by=doctor, reason=" ", date=timezone.localdate())
    assert "reason" in errors_of(exc)
    with pytest.raises(ActionDenied):
        rs.visit_correct(visit=visit, by=personas.users.obstetrician_b, reason="录错日期", date=timezone.localdate())
    rs.visit_correct(visit=visit, by=doctor, reason="录错日期", date=timezone.localdate() - dt.timedelta(days=8))
    assert Visit.objects.get(pk=visit.pk).date == timezone.localdate() - dt.timedelta(days=8)
    assert visit.history.latest().history_change_reason == "visit corrected: 录错日期"
    rs.visit_void(visit=visit, by=doctor, reason="误录他人")
    assert not Visit.objects.filter(pk=visit.pk).exists()
    gone = Visit.history.filter(id=visit.pk).latest()
    assert gone.history_type == "-" and gone.history_user == doctor and gone.history_change_reason == "visit voided: 误录他人"


def test_external_ids_are_unique(personas):
    pregnancy = pregnancy_at(personas.inst.hospital_a)
    rs.visit_record(pregnancy=pregnancy, by=personas.users.obstetrician_a, kind="antenatal",
                    date=timezone.localdate(), institution=personas.inst.hospital_a, external_id="MCH-1")
    with pytest.raises(ValidationError) as exc:
        rs.visit_record(pregnancy=pregnancy, by=personas.users.obstetrician_a, kind="antenatal",
                        date=timezone.localdate(), institution=personas.inst.hospital_a, external_id="MCH-1")
    assert "external_id" in errors_of(exc)


# --- The delivery ---

def test_delivery_closes_the_antenatal_part(personas):
    pregnancy = pregnancy_at(personas.inst.hospital_a)
    doctor = personas.users.obstetrician_a
    at = dt.datetime(2026, 1, 1, 23, 30, tzinfo=dt.UTC)  # 07:30 on 2 January in China
    pregnancy.lmp = dt.date(2025, 4, 1)
    pregnancy.save()
    delivery = deliver(pregnancy, doctor, delivered_at=at, mode="caesarean", caesarean_indication="瘢痕子宫",
                       gestational_weeks=39, gestational_days=2,
                       babies=[BabyData("live", "male", 3100), BabyData("stillborn", "female", 900)])
    assert delivery.delivered_on == dt.date(2026, 1, 2)
    assert (delivery.live_births, delivery.stillbirths) == (1, 1)
    assert list(Baby.objects.filter(delivery=delivery).values_list("order", "outcome")) == [(1, "live"), (2, "stillborn")]
    pregnancy = Pregnancy.objects.get(pk=pregnancy.pk)
    assert pregnancy.status == "delivered"
    assert pregnancy.history.latest().history_change_reason == "delivered"
    row = delivery.history.get()
    assert row.history_user == doctor and row.history_change_reason == "delivery recorded"
    with pytest.raises(TransitionConflict):
        deliver(pregnancy, doctor)


@pytest.mark.parametrize("persona", ["obstetrician_a", "duty_a"])
def test_hospital_doctors_record_the_delivery(personas, persona):
    pregnancy = pregnancy_at(personas.inst.hospital_a)
    deliver(pregnancy, getattr(personas.users, persona))
    assert Delivery.objects.filter(pregnancy=pregnancy).exists()


@pytest.mark.parametrize("persona", ["obstetrician_b", "duty_b", "mch_a", "bureau_city", "outsider"])
def test_denied_personas_cannot_record_a_delivery(personas, persona):
    pregnancy = pregnancy_at(personas.inst.hospital_a)
    with pytest.raises(ActionDenied):
        rs.delivery_record(pregnancy=pregnancy, by=getattr(personas.users, persona), delivered_at=timezone.now(),
                           place="home", institution=None, mode="spontaneous", live_births=1)
    assert Pregnancy.objects.get(pk=pregnancy.pk).status == "ongoing" and not Delivery.objects.exists()


def test_delivery_validation(personas):
    pregnancy = pregnancy_at(personas.inst.hospital_a)
    doctor, hospital = personas.users.obstetrician_a, personas.inst.hospital_a
    now = timezone.now()

    def refused(**kw):  # type: ignore[no-untyped-def]
        args = {"delivered_at": now - dt.timedelta(hours=1), "place": "institution", "institution": hospital,
                "mode": "spontaneous", "live_births": 1, **kw}
        with pytest.raises(ValidationError) as exc:
            rs.delivery_record(pregnancy=pregnancy, by=doctor, **args)
        return errors_of(exc)

    assert "delivered_at" in refused(delivered_at=now + dt.timedelta(hours=1))
    assert "delivered_at" in refused(delivered_at=timezone.make_aware(dt.datetime.combine(
        pregnancy.lmp - dt.timedelta(days=1), dt.time(12)), rs.CHINA))
    assert "caesarean_indication" in refused(mode="caesarean")
    assert "institution" in refused(institution=None)
    assert "institution" in refused(place="home")
    assert "place" in refused(place="car")
    assert "mode" in refused(mode="forceps")
    assert "babies" in refused(babies=[BabyData("live", "female")], live_births=2)
    assert "babies" in refused(babies=[BabyData("alive", "female")], live_births=None)
    assert "babies" in refused(babies=[BabyData("live", "female", 50)], live_births=None)
    assert "live_births" in refused(live_births=0, stillbirths=0)
    assert "live_births" in refused(live_births=None)
    assert "gestational_weeks" in refused(gestational_weeks=12)
    assert "gestational_days" in refused(gestational_weeks=39, gestational_days=7)
    rs.visit_record(pregnancy=pregnancy, by=doctor, kind="antenatal", date=timezone.localdate(), institution=hospital)
    assert "delivered_at" in refused(delivered_at=now - dt.timedelta(days=2))  # an antenatal visit after it
    assert Pregnancy.objects.get(pk=pregnancy.pk).status == "ongoing" and not Delivery.objects.exists()
    delivery = rs.delivery_record(pregnancy=pregnancy, by=doctor, delivered_at=now - dt.timedelta(minutes=5),
                                  place="home", institution=None, mode="spontaneous", live_births=2, stillbirths=0)
    assert delivery.institution is None and delivery.live_births == 2 and not delivery.babies.exists()


def test_delivery_correct(personas):
    pregnancy = pregnancy_at(personas.inst.hospital_a)
    doctor = personas.users.obstetrician_a
    delivery = deliver(pregnancy, doctor)
    with pytest.raises(ValidationError):
        rs.delivery_correct(delivery=delivery, by=doctor, reason="", mode="caesarean")
    with pytest.raises(ValidationError) as exc:
        rs.delivery_correct(delivery=delivery, by=doctor, reason="术式录错", mode="caesarean")
    assert "caesarean_indication" in errors_of(exc)
    with pytest.raises(ActionDenied):
        rs.delivery_correct(delivery=delivery, by=personas.users.obstetrician_b, reason="x", outcome="y")
    rs.delivery_correct(delivery=delivery, by=doctor, reason="术式录错", mode="caesarean",
                        caesarean_indication="胎儿窘迫",
                        babies=[BabyData("live", "female", 3200), BabyData("live", "male", 2900)])
    delivery = Delivery.objects.get(pk=delivery.pk)
    assert delivery.mode == "caesarean" and delivery.live_births == 2 and delivery.babies.count() == 2
    assert delivery.history.latest().history_change_reason == "delivery corrected: 术式录错"
    assert Baby.history.filter(history_type="-").count() == 1  # the old baby row, kept in history
    rs.delivery_correct(delivery=delivery, by=doctor, reason="在家分娩", place="home")
    assert Delivery.objects.get(pk=delivery.pk).institution is None
    assert Pregnancy.objects.get(pk=pregnancy.pk).status == "delivered"


def test_pure_delivery_errors_need_no_database():
    pregnancy = Pregnancy(lmp=TODAY - dt.timedelta(days=270), booking_date=TODAY)
    now = timezone.now()
    errors = rs.delivery_errors(pregnancy=pregnancy, delivered_at=now, place="institution", institution=None,
                                mode="caesarean", caesarean_indication="", gestational_weeks=None,
                                gestational_days=None, babies=None, live_births=1, stillbirths=0, now=now)
    assert set(errors) == {"institution", "caesarean_indication"}


# --- The high-risk case ---

def open_case(personas) -> HighRiskCase:  # type: ignore[no-untyped-def]
    pregnancy = pregnancy_at(personas.inst.hospital_a)
    assessment_record(pregnancy=pregnancy, institution=personas.inst.hospital_a, by=personas.users.obstetrician_a,
                      stage=Assessment.Stage.FIRST, inputs={"age_years": 41})
    return HighRiskCase.objects.get(pregnancy=pregnancy)


def test_the_case_delivery_step_records_the_one_delivery(personas):
    case = open_case(personas)
    doctor = personas.users.obstetrician_a
    hr.case_record_delivery(case=case, by=doctor, delivered_at=timezone.now() - dt.timedelta(hours=3),
                            place="institution", institution=personas.inst.hospital_a, mode="spontaneous",
                            babies=[BabyData("live", "male", 3300)], outcome="母婴平安")
    case.refresh_from_db()
    delivery = Delivery.objects.get(pregnancy=case.pregnancy)
    assert case.state == "delivered" and case.history.latest().history_change_reason == "delivered"
    assert delivery.outcome == "母婴平安" and delivery.recorded_by == doctor
    assert Pregnancy.objects.get(pk=case.pregnancy_id).status == "delivered"
    hr.case_start_postpartum(case=case, by=doctor)
    assert HighRiskCase.objects.get(pk=case.pk).state == "postpartum"


def test_a_delivery_on_the_pregnancy_page_moves_her_case_on(personas):
    case = open_case(personas)
    deliver(case.pregnancy, personas.users.duty_a)
    case.refresh_from_db()
    assert case.state == "delivered"
    assert case.history.latest().history_user == personas.users.duty_a


def test_a_refused_delivery_leaves_the_case_as_it_was(personas):
    case = open_case(personas)
    with pytest.raises(ValidationError):
        hr.case_record_delivery(case=case, by=personas.users.obstetrician_a, delivered_at=timezone.now(),
                                place="institution", institution=personas.inst.hospital_a, mode="caesarean",
                                live_births=1)
    case.refresh_from_db()
    assert case.state == "opened" and not Delivery.objects.exists()


def test_the_death_card_is_prefilled_from_the_delivery(personas):
    from cases.models import DeathReport
    from workflows.death import services as ds

    pregnancy = pregnancy_at(personas.inst.hospital_a)
    delivery = deliver(pregnancy, personas.users.obstetrician_a, mode="caesarean", caesarean_indication="胎盘早剥")
    report = ds.pregnancy_record_death(pregnancy=pregnancy, by=personas.users.obstetrician_a,
                                       institution=personas.inst.hospital_a,
                                       died_at=timezone.now() - dt.timedelta(hours=1), note="产后出血")
    report = DeathReport.objects.get(pk=report.pk)
    assert report.delivered_at == delivery.delivered_at and report.delivery_mode == "caesarean"
    assert report.delivery_institution == personas.inst.hospital_a and report.delivery_place == "county_hospital"
