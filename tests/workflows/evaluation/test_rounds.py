"""An evaluation round from the self-evaluation to de-listing and restoration: who may act at each step, what
is refused, an override keeping the computed value, the on-site sample, scoping and the deadlines."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from cases.models import EvaluationRound, EvaluationSubmission, SelfInspectionReport
from cases.selectors import visible_evaluation_rounds, visible_evaluation_submissions
from notifications.models import Alert
from organisations.http import ActionDenied, TransitionConflict
from organisations.models import RescueCentre, Role
from organisations.selectors import referral_centre_choices
from tests.personas import _member
from workflows.deadlines import deadlines_for, deadlines_sweep
from workflows.evaluation import services as svc
from workflows.interview import services as interview

YEAR = 2025
S = EvaluationSubmission.State


@pytest.fixture
def county_round(personas):  # type: ignore[no-untyped-def]
    return svc.round_open(by=personas.users.bureau_province, province=personas.regions.fujian, year=YEAR,
                          level="county")


@pytest.fixture
def head_a(personas):  # type: ignore[no-untyped-def]
    return _member("head_a", personas.inst.hospital_a, Role.HEAD)


def centre_submission(round_, centre):  # type: ignore[no-untyped-def]
    return round_.submissions.get(subject="centre", centre=centre)


def system_submission(round_, region):  # type: ignore[no-untyped-def]
    return round_.submissions.get(subject="system", region=region)


def fill_entered(submission, by, value="1"):  # type: ignore[no-untyped-def]
    for score in submission.scores.select_related("indicator"):
        if score.indicator.value_source == "entered" and score.indicator.target_type != "not_captured":
            svc.score_enter(score=score, by=by, value=value, evidence="年报表第3页")


def test_a_round_opens_one_submission_per_county_and_county_centre(personas, county_round):  # type: ignore[no-untyped-def]
    r, c = personas.regions, personas.centres
    systems = {s.region_id: s for s in county_round.submissions.filter(subject="system")}
    assert set(systems) == {"350121", "350102", "350212"}  # Fujian's counties, not Guangdong's
    assert systems["350121"].evaluator_id == "350100" and systems["350212"].evaluator_id == "350200"
    centres = {s.centre_id: s for s in county_round.submissions.filter(subject="centre")}
    assert set(centres) == {c.a.pk, c.b.pk}
    assert centres[c.a.pk].evaluator_id == r.county_a.pk and centres[c.a.pk].on_site
    # Fujian's timetable: the counties by the end of February, the cities (evaluating them) by the end of April.
    assert systems["350121"].self_due_on == dt.date(2026, 2, 28)
    assert systems["350121"].evaluation_due_on == dt.date(2026, 4, 30)
    assert centres[c.a.pk].self_due_on == dt.date(2026, 1, 29) and centres[c.a.pk].evaluation_due_on == dt.date(2026, 2, 28)
    # The centre rules for a centre, the system rules for a system.
    assert {s.indicator.number for s in centres[c.a.pk].scores.select_related("indicator")} == {"16", "17", "18"}
    assert {s.indicator.number for s in systems["350121"].scores.select_related("indicator")} == {"?", "4", "5"}
    assert all(s.process_id for s in county_round.submissions.all())
    assert deadlines_for(systems["350121"], kind=svc.SELF_DUE).count() == 1
    assert Alert.objects.filter(kind="evaluation.opened", recipient=personas.users.mch_a).exists()
    with pytest.raises(ValidationError):
        svc.round_open(by=personas.users.bureau_province, province=r.fujian, year=YEAR, level="county")


def test_only_the_province_opens_its_rounds(personas):  # type: ignore[no-untyped-def]
    u, r = personas.users, personas.regions
    for user in (u.bureau_city, u.bureau_a, u.mch_a, u.bureau_gd, u.outsider):
        with pytest.raises(ActionDenied):
            svc.round_open(by=user, province=r.fujian, year=YEAR, level="county")
    with pytest.raises(ValidationError) as refused:
        svc.round_open(by=u.bureau_province, province=r.fujian, year=timezone.localdate().year, level="county")
    assert "year" in refused.value.message_dict
    assert not EvaluationRound.objects.exists()


def test_a_centre_from_self_evaluation_to_delisting_and_restoration(personas, county_round, head_a):  # type: ignore[no-untyped-def]
    u, c = personas.users, personas.centres
    submission = centre_submission(county_round, c.a)
    threshold = submission.scores.get(indicator__number="17")
    with pytest.raises(ActionDenied):  # the county's MCH officer evaluates the centre, she does not fill it in
        svc.score_enter(score=threshold, by=u.mch_a, value="0.4", evidence="年报表")
    with pytest.raises(ValidationError) as no_evidence:
        svc.score_enter(score=threshold, by=head_a, value="0.4", evidence="")
    assert "evidence" in no_evidence.value.message_dict
    with pytest.raises(ValidationError) as missing:
        svc.submission_submit(submission=submission, by=head_a, summary="自评小结")
    assert "scores" in missing.value.message_dict
    svc.score_enter(score=threshold, by=head_a, value="0.25", evidence="执业报告卡")
    svc.submission_submit(submission=submission, by=head_a, summary="全年救治危重孕产妇12例。")
    submission.refresh_from_db()
    assert submission.state == S.SUBMITTED and submission.submitted_by == head_a
    deliveries = submission.scores.get(indicator__number="18")
    assert deliveries.computed_value == Decimal("0")  # computed from Anmu's records at submission
    with pytest.raises(TransitionConflict):
        svc.submission_submit(submission=submission, by=head_a, summary="again")

    # The county's MCH officer evaluates on site: an override keeps the computed value, with the reason.
    with pytest.raises(ValidationError) as no_reason:
        svc.score_evaluate(score=deliveries, by=u.mch_a, value="1200")
    assert "override_reason" in no_reason.value.message_dict
    svc.score_evaluate(score=deliveries, by=u.mch_a, value="1200", reason="分娩记录未全部录入，以医院年报为准")
    deliveries.refresh_from_db()
    assert (deliveries.computed_value, deliveries.evaluator_value, deliveries.value) == (
        Decimal("0"), Decimal("1200"), Decimal("1200"))
    # Rising or kept against the previous year's count from the records (none: 0).
    assert deliveries.overridden and deliveries.previous_value == Decimal("0") and deliveries.met is True
    assert deliveries.history.first().history_change_reason.startswith("evaluator's value: 分娩记录")
    with pytest.raises(ActionDenied):
        svc.score_evaluate(score=deliveries, by=u.mch_b, value="1")
    with pytest.raises(ValidationError) as no_visit:
        svc.submission_decide(submission=submission, by=u.mch_a, passed=False, reason="医师床位比不足")
    assert "visits" in no_visit.value.message_dict
    visit = svc.visit_record(submission=submission, by=u.mch_a, visited_on=timezone.localdate(), unannounced=True,
                             evaluators="王主任、李医生", findings="夜间值班产科医师仅1人。")
    assert visit.unannounced
    with pytest.raises(ValidationError) as against_mark:  # 0.25 < 1:3 → not met → the mark says fail
        svc.submission_decide(submission=submission, by=u.mch_a, passed=True)
    assert "reason" in against_mark.value.message_dict
    svc.submission_decide(submission=submission, by=u.mch_a, passed=False, reason="产科医师床位比未达1:3")
    submission.refresh_from_db()
    assert submission.state == S.FAILED and submission.suggested_pass is False
    assert (submission.met_count, submission.judged_count) == (1, 2)
    assert Alert.objects.filter(kind="evaluation.result", recipient=head_a).exists()

    # Rectification through the interview's steps, convened by the county bureau.
    svc.submission_rectify(submission=submission, by=u.mch_a, requirements="增配产科医师至床位比1:3")
    submission.refresh_from_db()
    rectification = submission.rectification
    assert submission.state == S.RECTIFYING and rectification.origin == "evaluation"
    assert rectification.bureau == personas.inst.bureau_a
    party = rectification.parties.get()
    assert party.institution == personas.inst.hospital_a and party.state == "plan_due"
    with pytest.raises(ValidationError):  # not before the rectification is verified
        svc.submission_reevaluate(submission=submission, by=u.mch_a, passed=False, findings="仍不足")
    interview.interview_plan_submit(party=party, by=head_a, plan="招聘产科医师2名")
    interview.interview_plan_accept(party=party, by=u.bureau_a)
    interview.interview_report_submit(party=party, by=head_a, report="已招聘1名")
    interview.interview_verify(party=party, by=u.bureau_a, passed=False, method="onsite", findings="仍不足",
                               escalation="摘牌")

    assert c.a in [choice.centre for choice in referral_centre_choices(institution=personas.inst.primary_a)]
    svc.submission_reevaluate(submission=submission, by=u.mch_a, passed=False, findings="复评仍未达标")
    submission.refresh_from_db()
    centre = RescueCentre.objects.get(pk=c.a.pk)
    assert submission.state == S.DELISTED and not centre.is_active
    assert centre.history.first().history_change_reason == f"de-listed after the {YEAR} evaluation"
    assert c.a not in [choice.centre for choice in referral_centre_choices(institution=personas.inst.primary_a)]

    svc.submission_restore(submission=submission, by=u.mch_a, reason="2026年复评合格")
    submission.refresh_from_db()
    assert submission.state == S.RESTORED and RescueCentre.objects.get(pk=c.a.pk).is_active
    assert c.a in [choice.centre for choice in referral_centre_choices(institution=personas.inst.primary_a)]
    assert [h.state for h in submission.history.order_by("history_date")][-4:] == [
        "failed", "rectifying", "delisted", "restored"]


def test_a_county_system_needs_its_report_and_the_city_scores_it(personas, county_round):  # type: ignore[no-untyped-def]
    u, r = personas.users, personas.regions
    submission = system_submission(county_round, r.county_a)
    fill_entered(submission, u.bureau_a, value="1")
    svc.score_enter(score=submission.scores.get(indicator__number="4"), by=u.mch_a, value="100", evidence="批复文件")
    with pytest.raises(ValidationError) as no_report:
        svc.submission_submit(submission=submission, by=u.bureau_a, summary="自评小结")
    assert "report" in no_report.value.message_dict
    report = SelfInspectionReport.objects.create(region=r.county_a, year=YEAR, kind="self_evaluation",
                                                 state="finalised", created_by=u.mch_a, updated_by=u.mch_a)
    svc.submission_submit(submission=submission, by=u.bureau_a, summary="自评小结")
    submission.refresh_from_db()
    assert submission.report == report and deadlines_for(submission, kind=svc.EVALUATION_DUE).count() == 1
    assert Alert.objects.filter(kind="evaluation.submitted", recipient=u.bureau_city).exists()
    with pytest.raises(ActionDenied):  # the county does not evaluate itself
        svc.submission_decide(submission=submission, by=u.bureau_a, passed=True)
    svc.submission_return(submission=submission, by=u.bureau_city, reason="人员库截图缺失")
    submission.refresh_from_db()
    assert submission.state == S.DRAFT and submission.returned_reason == "人员库截图缺失"
    svc.submission_submit(submission=submission, by=u.bureau_a, summary="补充了截图")
    svc.submission_decide(submission=submission, by=u.bureau_city, passed=True)
    submission.refresh_from_db()
    assert submission.state == S.PASSED and submission.suggested_pass is True
    assert (submission.met_count, submission.judged_count) == (2, 2)  # 5 is not captured: not judged
    ranked = svc.ranking(county_round.submissions.all())
    assert [row["submission"] for row in ranked] == [submission]


def test_the_city_sample_marks_its_counties_for_the_on_site_recheck(personas, county_round):  # type: ignore[no-untyped-def]
    u, r = personas.users, personas.regions
    with pytest.raises(ActionDenied):
        svc.sample_draw(round_=county_round, evaluator=r.fuzhou, by=u.bureau_a)
    sample = svc.sample_draw(round_=county_round, evaluator=r.fuzhou, by=u.bureau_city)
    assert len(sample.drawn) == 1 and sample.share == 30 and sample.coverage_years == 4  # ⌈30 % of 2⌉
    drawn = system_submission(county_round, sample.drawn[0]["region"])
    assert drawn.on_site and drawn.region.city_id == "350100"
    with pytest.raises(ValidationError):
        svc.sample_draw(round_=county_round, evaluator=r.fuzhou, by=u.bureau_city)


def test_a_county_never_sees_another_countys_round_a_city_sees_its_counties(personas, county_round, head_a):  # type: ignore[no-untyped-def]
    u, c = personas.users, personas.centres

    def seen(user):  # type: ignore[no-untyped-def]
        return {(s.subject, s.region_id, s.centre_id) for s in visible_evaluation_submissions(user)}

    county_a = {("system", "350121", None), ("centre", "350121", c.a.pk)}
    assert seen(u.mch_a) == county_a and seen(u.bureau_a) == county_a
    assert seen(u.mch_b) == {("system", "350212", None), ("centre", "350212", c.b.pk)}
    assert seen(u.bureau_city) == county_a | {("system", "350102", None)}
    assert seen(head_a) == {("centre", "350121", c.a.pk)}
    for nobody in (u.obstetrician_a, u.duty_a, u.bureau_gd, u.outsider):
        assert seen(nobody) == set()
    assert list(visible_evaluation_rounds(u.bureau_gd)) == []
    assert list(visible_evaluation_rounds(u.mch_a)) == [county_round]
    assert len(seen(u.bureau_province)) == 5


def test_a_late_self_evaluation_alerts_both_sides(personas, county_round):  # type: ignore[no-untyped-def]
    u, r = personas.users, personas.regions
    late = system_submission(county_round, r.county_a)
    deadlines_sweep(now=dt.datetime(2026, 3, 1, 9, tzinfo=svc.CHINA))
    alerts = Alert.objects.filter(kind=svc.SELF_DUE, subject_id=str(late.pk))
    assert alerts.filter(recipient=u.mch_a, priority="critical").exists()
    assert alerts.filter(recipient=u.bureau_city).exists()
    assert not Alert.objects.filter(kind=svc.SELF_DUE, recipient=u.bureau_gd).exists()
    count = Alert.objects.filter(kind=svc.SELF_DUE).count()
    deadlines_sweep(now=dt.datetime(2026, 3, 2, 9, tzinfo=svc.CHINA))
    assert Alert.objects.filter(kind=svc.SELF_DUE).count() == count


def test_the_province_closes_a_round_once_every_result_is_returned(personas, county_round, django_user_model):  # type: ignore[no-untyped-def]
    u = personas.users
    with pytest.raises(ValidationError) as waiting:
        svc.round_close(round_=county_round, by=u.bureau_province)
    assert "5" in waiting.value.message_dict["round"][0]  # five subjects are still without a result
    root = django_user_model.objects.create_superuser(username="root", password="x")
    for submission in county_round.submissions.select_related("region"):
        fill_entered(submission, root)
        if submission.subject == "system":
            SelfInspectionReport.objects.get_or_create(region=submission.region, year=YEAR, kind="self_evaluation",
                                                       defaults={"state": "finalised", "created_by": root,
                                                                 "updated_by": root})
        svc.submission_submit(submission=submission, by=root, summary="自评小结")
        if submission.on_site:
            svc.visit_record(submission=submission, by=root, visited_on=timezone.localdate(), unannounced=True,
                             evaluators="王主任", findings="到岗")
        svc.submission_decide(submission=submission, by=root, passed=True, reason="抽查合格")
    for user in (u.bureau_city, u.bureau_a, u.reviewer_province, u.bureau_gd):
        with pytest.raises(ActionDenied):
            svc.round_close(round_=county_round, by=user)
    closed = svc.round_close(round_=county_round, by=u.bureau_province)
    assert closed.state == EvaluationRound.State.CLOSED and closed.closed_at is not None
    assert closed.history.first().history_change_reason == "round closed"
    with pytest.raises(TransitionConflict):
        svc.round_close(round_=county_round, by=u.bureau_province)
    with pytest.raises(TransitionConflict):  # no sample once the results are final
        svc.sample_draw(round_=county_round, evaluator=personas.regions.fuzhou, by=u.bureau_city)


def test_a_province_round_closes_with_its_own_system_submitted_for_the_national_level(personas, django_user_model):  # type: ignore[no-untyped-def]
    u, r = personas.users, personas.regions
    round_ = svc.round_open(by=u.bureau_province, province=r.fujian, year=YEAR, level="province")
    root = django_user_model.objects.create_superuser(username="root", password="x")
    own = round_.submissions.get(subject="system", region=r.fujian)
    assert own.evaluator_id is None  # evaluated by the national level, outside Anmu
    for submission in round_.submissions.select_related("region"):
        fill_entered(submission, root)
        if submission.subject == "system":
            SelfInspectionReport.objects.get_or_create(region=submission.region, year=YEAR, kind="self_evaluation",
                                                       defaults={"state": "finalised", "created_by": root,
                                                                 "updated_by": root})
        svc.submission_submit(submission=submission, by=root, summary="自评小结")
    with pytest.raises(ValidationError):  # the centres are still to be evaluated by the province
        svc.round_close(round_=round_, by=u.bureau_province)
    for submission in round_.submissions.exclude(pk=own.pk):
        if submission.on_site:
            svc.visit_record(submission=submission, by=root, visited_on=timezone.localdate(), unannounced=True,
                             evaluators="王主任", findings="到岗")
        svc.submission_decide(submission=submission, by=root, passed=True, reason="抽查合格")
    closed = svc.round_close(round_=round_, by=u.bureau_province)
    assert closed.state == EvaluationRound.State.CLOSED
    own.refresh_from_db()
    assert own.state == S.SUBMITTED  # its result comes from the national level
