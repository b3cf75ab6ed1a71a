"""Circulars (通报): four eyes, distribution and read receipts with the reminder fired by the sweep, frozen
rankings, scoping, and the API's 400/403/404/409 contract."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from cases.models import Circular, CircularRecipient
from cases.selectors import visible_circulars
from notifications.models import Alert
from organisations.http import ActionDenied, TransitionConflict
from organisations.models import Institution, Role
from tests.notifications.helpers import move_deadlines_into_past
from tests.personas import InstitutionFactory
from tests.workflows.death.helpers import died_on_case
from tests.workflows.referral.helpers import member
from workflows.deadlines import deadlines_for, deadlines_sweep
from workflows.interview import services as cs

pytestmark = pytest.mark.django_db
LIST = "/api/circulars/"


@pytest.fixture
def world(personas: Any) -> SimpleNamespace:
    inst, users = personas.inst, personas.users
    bureau_xm = InstitutionFactory(name="厦门市卫生健康委员会", kind=Institution.Kind.HEALTH_BUREAU, level=None,
                                   region=personas.regions.xiamen)
    return SimpleNamespace(
        p=personas, inst=inst, users=users, bureau_xm=bureau_xm,
        deputy=member("bureau_city2", inst.bureau_city, Role.BUREAU_OFFICER),
        officer_xm=member("bureau_xm", bureau_xm, Role.BUREAU_OFFICER),
        head_a=member("head_a", inst.hospital_a, Role.HEAD),
        head_a2=member("head_a2", inst.hospital_a2, Role.HEAD),
        head_b=member("head_b", inst.hospital_b, Role.HEAD),
    )


def draft(w: SimpleNamespace, **overrides: Any) -> Circular:
    data: dict[str, Any] = {"issuer": w.inst.bureau_city, "by": w.users.bureau_city, "kind": Circular.Kind.CRITICISE,
                            "title": "关于危重孕产妇转诊响应超时的通报", "number": "榕卫妇幼通〔2026〕3号",
                            "body": "经查，部分机构转诊响应超时。"}
    data.update(overrides)
    return cs.circular_create(**data)


def published(w: SimpleNamespace, **overrides: Any) -> Circular:
    circular = draft(w, **overrides)
    cs.circular_submit(circular=circular, by=w.users.bureau_city)
    return cs.circular_approve(circular=circular, by=w.deputy)


def alerted(kind: str, **filters: Any) -> set[str]:
    return set(Alert.objects.filter(kind=kind, **filters).values_list("recipient__username", flat=True))


# --- Four eyes ----------------------------------------------------------------------------------------------

def test_the_drafter_cannot_approve_another_officer_of_the_bureau_can_one_of_another_bureau_cannot(world):
    w = world
    circular = draft(w)
    cs.circular_submit(circular=circular, by=w.users.bureau_city)
    assert alerted("circular.submitted") == {"bureau_city2"}
    with pytest.raises(ActionDenied, match="Four eyes|四眼|另一"):
        cs.circular_approve(circular=circular, by=w.users.bureau_city)
    with pytest.raises(ActionDenied):
        cs.circular_approve(circular=circular, by=w.officer_xm)
    with pytest.raises(ActionDenied):
        cs.circular_approve(circular=circular, by=w.users.bureau_province)  # a superior is not the same bureau
    cs.circular_approve(circular=circular, by=w.deputy)
    fresh = Circular.objects.get(pk=circular.pk)
    assert fresh.state == Circular.State.PUBLISHED and fresh.approved_by == w.deputy and fresh.published_at
    last = fresh.history.first()
    assert last.history_user == w.deputy and last.history_change_reason == "approved and published"
    assert not Alert.objects.filter(kind="circular.submitted", acknowledged_at__isnull=True).exists()
    with pytest.raises(TransitionConflict):
        cs.circular_approve(circular=circular, by=w.deputy)


def test_return_needs_a_reason_and_another_officer_and_goes_back_to_the_draft(world):
    w = world
    circular = draft(w)
    cs.circular_submit(circular=circular, by=w.users.bureau_city)
    with pytest.raises(ActionDenied):
        cs.circular_return(circular=circular, by=w.users.bureau_city, reason="自己退回")
    with pytest.raises(ValidationError):
        cs.circular_return(circular=circular, by=w.deputy, reason=" ")
    cs.circular_return(circular=circular, by=w.deputy, reason="文号有误")
    fresh = Circular.objects.get(pk=circular.pk)
    assert fresh.state == Circular.State.DRAFTED and fresh.return_reason == "文号有误"
    assert fresh.history.first().history_user == w.deputy
    assert alerted("circular.returned") == {"bureau_city"}


def test_the_number_is_unique_per_bureau_and_only_drafts_change(world):
    w = world
    circular = draft(w)
    with pytest.raises(ValidationError) as exc:
        draft(w, title="另一份")
    assert "number" in exc.value.message_dict
    other = cs.circular_create(issuer=w.bureau_xm, by=w.officer_xm, kind=Circular.Kind.INFORM, title="厦门通报",
                               number=circular.number, body="正文")
    assert other.number == circular.number  # another bureau may use the same number
    with pytest.raises(ActionDenied):
        cs.circular_create(issuer=w.inst.bureau_city, by=w.officer_xm, kind="inform", title="x", number="y", body="z")
    cs.circular_update(circular=circular, by=w.deputy, data={"title": "新标题"})
    cs.circular_submit(circular=circular, by=w.users.bureau_city)
    with pytest.raises(TransitionConflict):
        cs.circular_update(circular=circular, by=w.users.bureau_city, data={"title": "再改"})


# --- Distribution, read receipts and the reminder ---------------------------------------------------------

def test_publication_fixes_the_recipients_tells_their_heads_and_the_first_open_marks_it_read(world):
    w = world
    circular = published(w)
    names = set(circular.recipients.values_list("institution__name", flat=True))
    assert {"闽侯县医院", "鼓楼区医院", "闽侯县卫生健康局", "福州市妇幼保健院"} <= names
    assert "福州市卫生健康委员会" not in names and "厦门市第三医院" not in names  # not itself, not outside
    urgent = Alert.objects.filter(kind="circular.published", priority=Alert.Priority.URGENT)
    assert {"head_a", "head_a2", "mch_a", "bureau_a"} <= set(urgent.values_list("recipient__username", flat=True))
    assert "head_b" not in alerted("circular.published")
    with pytest.raises(ActionDenied):
        cs.circular_mark_read(circular=circular, by=w.users.obstetrician_b)
    marked = cs.circular_mark_read(circular=circular, by=w.users.obstetrician_a)  # any member of the institution
    assert [r.institution for r in marked] == [w.inst.hospital_a]
    row = CircularRecipient.objects.get(circular=circular, institution=w.inst.hospital_a)
    assert row.read_by == w.users.obstetrician_a and row.read_at
    assert row.history.first().history_user == w.users.obstetrician_a
    assert not Alert.objects.filter(kind="circular.published", recipient=w.head_a, acknowledged_at__isnull=True).exists()
    assert Alert.objects.filter(kind="circular.published", recipient=w.head_a2, acknowledged_at__isnull=True).exists()
    assert cs.circular_mark_read(circular=circular, by=w.head_a) == []  # read once, by the first


def test_the_sweep_reminds_those_who_have_not_opened_it_not_those_who_read(world):
    w = world
    circular = published(w, kind=Circular.Kind.COMMEND)
    reminder = deadlines_for(circular, kind=cs.CIRCULAR_READ_REMINDER)
    assert reminder.count() == 1
    due = reminder.get().due_at - Circular.objects.get(pk=circular.pk).published_at
    assert due == dt.timedelta(days=3)  # ProvinceSettings.circular_read_reminder_days
    assert Alert.objects.filter(kind="circular.published", priority=Alert.Priority.ROUTINE).exists()
    cs.circular_mark_read(circular=circular, by=w.head_a)
    assert not alerted("circular.unread")
    move_deadlines_into_past(reminder)
    deadlines_sweep()
    reminded = alerted("circular.unread")
    assert "head_a2" in reminded and "mch_a" in reminded
    assert "head_a" not in reminded
    deadlines_sweep()
    assert Alert.objects.filter(kind="circular.unread", recipient=w.head_a2).count() == 1


def test_named_distribution_and_withdrawal_with_a_reason(world):
    w = world
    circular = draft(w, distribution=Circular.Distribution.NAMED, named_recipients=[w.inst.hospital_a])
    with pytest.raises(ValidationError):
        cs.circular_update(circular=circular, by=w.users.bureau_city,
                           data={"named_recipients": [w.inst.hospital_b]})  # outside Fuzhou
    cs.circular_submit(circular=circular, by=w.users.bureau_city)
    cs.circular_approve(circular=circular, by=w.deputy)
    assert list(circular.recipients.values_list("institution", flat=True)) == [w.inst.hospital_a.pk]
    with pytest.raises(ActionDenied):
        cs.circular_withdraw(circular=circular, by=w.users.bureau_a, reason="错发")
    cs.circular_withdraw(circular=circular, by=w.users.bureau_city, reason="数据有误，重新核实")
    fresh = Circular.objects.get(pk=circular.pk)
    assert fresh.state == Circular.State.WITHDRAWN and fresh.withdraw_reason == "数据有误，重新核实"
    assert not deadlines_for(circular, kind=cs.CIRCULAR_READ_REMINDER).exists()
    assert fresh in visible_circulars(w.head_a)  # kept, marked withdrawn


# --- Frozen ranking ---------------------------------------------------------------------------------------

def test_a_frozen_ranking_does_not_change_when_the_records_change(world):
    w = world
    died_on_case(w.p, hours_ago=30)  # reported past its 24-hour clock: county A
    circular = draft(w)
    today = timezone.localdate()
    with pytest.raises(ActionDenied):
        cs.circular_ranking_attach(circular=circular, by=w.officer_xm, figure="death_reports_late",
                                   period_from=today - dt.timedelta(days=30), period_to=today)
    ranking = cs.circular_ranking_attach(circular=circular, by=w.users.bureau_city, figure="death_reports_late",
                                         period_from=today - dt.timedelta(days=30), period_to=today)
    frozen = list(ranking.rows.values_list("rank", "name", "value"))
    assert frozen[0][1:] == ("闽侯县", 1) and ("鼓楼区" in [r[1] for r in frozen])
    died_on_case(w.p, hours_ago=40)
    preview = cs.circular_ranking_preview(circular=circular, figure="death_reports_late",
                                          period_from=today - dt.timedelta(days=30), period_to=today)
    assert preview[0][2] == 2  # the records changed ...
    cs.circular_submit(circular=circular, by=w.users.bureau_city)
    cs.circular_approve(circular=circular, by=w.deputy)
    assert list(ranking.rows.values_list("rank", "name", "value")) == frozen  # ... the circular did not


def test_a_draft_loses_a_ranking_on_the_page_and_the_api_a_submitted_circular_keeps_it(world):
    from cases.models import CircularRanking, CircularRankingRow

    w = world
    died_on_case(w.p, hours_ago=30)
    circular = draft(w)
    today = timezone.localdate()
    period = {"figure": "death_reports_late", "period_from": today - dt.timedelta(days=30), "period_to": today}
    first = cs.circular_ranking_attach(circular=circular, by=w.users.bureau_city, **period)
    second = cs.circular_ranking_attach(circular=circular, by=w.users.bureau_city, **period)
    with pytest.raises(ActionDenied):
        cs.circular_ranking_remove(ranking=first, by=w.officer_xm)
    page = Client()
    page.force_login(w.users.bureau_city)
    assert page.get(f"/interview/circulars/{circular.pk}/rankings/{first.pk}/remove/").status_code == 404
    response = page.post(f"/interview/circulars/{circular.pk}/rankings/{first.pk}/remove/")
    assert response.status_code == 302
    assert not CircularRanking.objects.filter(pk=first.pk).exists()
    assert not CircularRankingRow.objects.filter(ranking_id=first.pk).exists()
    gone = CircularRanking.history.filter(id=first.pk).latest()
    assert gone.history_type == "-" and gone.history_user == w.users.bureau_city
    api = APIClient()
    api.force_authenticate(w.users.bureau_city)
    cs.circular_submit(circular=circular, by=w.users.bureau_city)
    answer = api.post(f"{LIST}{circular.pk}/rankings/remove/", {"ranking": str(second.pk)}, format="json")
    assert answer.status_code == 409 and CircularRanking.objects.filter(pk=second.pk).exists()
    other = APIClient()
    other.force_authenticate(w.officer_xm)
    assert other.post(f"{LIST}{circular.pk}/rankings/remove/", {"ranking": str(second.pk)},
                      format="json").status_code == 404


def test_rank_ties_share_a_rank():
    from workflows.interview.figures import ranked

    a, b, c = SimpleNamespace(code="1", name="a"), SimpleNamespace(code="2", name="b"), SimpleNamespace(code="3", name="c")
    assert [(r, s.code) for r, s, _v in ranked([(a, 1), (b, 3), (c, 1)])] == [(1, "2"), (2, "1"), (2, "3")]


# --- Scoping ----------------------------------------------------------------------------------------------

def test_scoping_drafts_for_the_bureau_published_for_the_area_superiors_see_below(world):
    w = world
    county_only = cs.circular_create(issuer=w.inst.bureau_a, by=w.users.bureau_a, kind="inform",
                                     title="闽侯县通报", number="闽侯卫通〔2026〕1号", body="正文")
    assert county_only not in visible_circulars(w.head_a)  # a draft
    assert county_only not in visible_circulars(w.users.bureau_city)
    colleague = member("bureau_a2", w.inst.bureau_a, Role.BUREAU_OFFICER)
    cs.circular_submit(circular=county_only, by=w.users.bureau_a)
    cs.circular_approve(circular=county_only, by=colleague)
    assert county_only in visible_circulars(w.head_a)
    assert county_only in visible_circulars(w.users.obstetrician_a)
    assert county_only in visible_circulars(w.users.bureau_city)  # the superior
    assert county_only not in visible_circulars(w.head_b)  # county B
    assert county_only not in visible_circulars(w.users.obstetrician_b)
    assert county_only not in visible_circulars(w.head_a2)  # another county of the city
    assert county_only not in visible_circulars(w.users.outsider)


def test_a_bureau_names_subjects_only_of_its_area(world):
    w = world
    circular = cs.circular_create(issuer=w.bureau_xm, by=w.officer_xm, kind="criticise", title="厦门通报",
                                  number="厦卫通〔2026〕2号", body="正文")
    with pytest.raises(ValidationError) as exc:
        cs.circular_subject_add(circular=circular, by=w.officer_xm, institution=w.inst.hospital_a, reason="超时")
    assert "institution" in exc.value.message_dict
    with pytest.raises(ValidationError):
        cs.circular_subject_add(circular=circular, by=w.officer_xm, region=w.p.regions.county_a, reason="超时")
    subject = cs.circular_subject_add(circular=circular, by=w.officer_xm, institution=w.inst.hospital_b,
                                      reason="转诊响应超时", evidence="/referral/1/", requires_answer=True,
                                      answer_due_on=timezone.localdate() + dt.timedelta(days=15))
    assert subject.history.first().history_user == w.officer_xm
    with pytest.raises(ActionDenied):
        cs.circular_subject_add(circular=circular, by=w.users.bureau_city, institution=w.inst.hospital_b,
                                reason="x")
    with pytest.raises(ActionDenied):
        cs.circular_subject_remove(subject=subject, by=w.users.bureau_city)
    cs.circular_subject_remove(subject=subject, by=w.officer_xm)
    assert not circular.subjects.exists()


# --- Pages ------------------------------------------------------------------------------------------------

def page(user: Any, path: str) -> Any:
    client = Client()
    client.force_login(user)
    return client.get(path)


def test_pages_desk_inbox_circular_print_export_and_the_open_marks_read(world):
    w = world
    circular = published(w)
    desk = page(w.users.bureau_city, "/interview/")
    assert desk.status_code == 200 and circular.number in desk.content.decode()
    inbox = page(w.head_a, "/interview/")
    assert inbox.status_code == 200 and circular.number in inbox.content.decode()
    assert circular.number not in page(w.head_b, "/interview/").content.decode()
    detail = page(w.head_a, f"/interview/circulars/{circular.pk}/")
    assert detail.status_code == 200
    assert CircularRecipient.objects.get(circular=circular, institution=w.inst.hospital_a).read_by == w.head_a
    assert page(w.head_b, f"/interview/circulars/{circular.pk}/").status_code == 404
    assert page(w.users.bureau_city, f"/interview/circulars/{circular.pk}/print/").status_code == 200
    export = page(w.users.bureau_city, "/interview/circulars/export/")
    assert export.status_code == 200 and export["Content-Type"].startswith("application/vnd.openxml")
    assert page(w.head_a, "/interview/circulars/export/").status_code == 403
    new = page(w.users.bureau_city, "/interview/circulars/new/")
    assert new.status_code == 200
    assert page(w.head_a, "/interview/circulars/new/").status_code == 403


def test_drafting_by_the_form_and_four_eyes_by_the_step_pages(world):
    w = world
    client = Client()
    client.force_login(w.users.bureau_city)
    made = client.post("/interview/circulars/new/", {"kind": "criticise", "title": "表单通报", "number": "榕卫通〔2026〕9号",
                                                      "body": "正文", "distribution": "area"})
    assert made.status_code == 302
    circular = Circular.objects.get(number="榕卫通〔2026〕9号")
    assert client.post(f"/interview/circulars/{circular.pk}/subjects/", {
        "institution": str(w.inst.hospital_a.pk), "reason": "响应超时", "evidence": ""}).status_code == 302
    assert circular.subjects.count() == 1
    assert client.post(f"/interview/circulars/{circular.pk}/submit/", {}).status_code == 302
    assert client.get(f"/interview/circulars/{circular.pk}/approve/").status_code == 403
    deputy = Client()
    deputy.force_login(w.deputy)
    assert deputy.post(f"/interview/circulars/{circular.pk}/approve/", {}).status_code == 302
    assert Circular.objects.get(pk=circular.pk).state == Circular.State.PUBLISHED


# --- API ----------------------------------------------------------------------------------------------------

def api(user: Any) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def test_api_create_steps_and_the_400_403_404_409_contract(world):
    w = world
    body = {"issuer": str(w.inst.bureau_city.pk), "kind": "criticise", "title": "API 通报", "number": "榕卫通〔2026〕5号",
            "body": "正文"}
    assert api(w.head_a).post(LIST, body, format="json").status_code in (400, 403)
    created = api(w.users.bureau_city).post(LIST, body, format="json")
    assert created.status_code == 201, created.json()
    data = created.json()
    assert data["state"] == "drafted"
    pk = data["id"]
    again = api(w.users.bureau_city).post(LIST, body, format="json")
    assert again.status_code == 400 and "number" in again.json()
    assert api(w.users.bureau_city).post(f"{LIST}{pk}/", {"state": "published"}, format="json").status_code == 405
    subject = api(w.users.bureau_city).post(f"{LIST}{pk}/subjects/", {"institution": str(w.inst.hospital_b.pk),
                                                                      "reason": "x"}, format="json")
    assert subject.status_code == 400 and "institution" in subject.json()
    ok = api(w.users.bureau_city).post(f"{LIST}{pk}/subjects/", {"institution": str(w.inst.hospital_a.pk),
                                                                 "reason": "转诊响应超时"}, format="json")
    assert ok.status_code == 200 and len(ok.json()["subjects"]) == 1
    today = timezone.localdate().isoformat()
    ranking = api(w.users.bureau_city).post(f"{LIST}{pk}/ranking/", {"figure": "ddi_over_target",
                                                                     "period_from": today, "period_to": today},
                                            format="json")
    assert ranking.status_code == 200 and len(ranking.json()["rankings"]) == 1
    assert api(w.head_b).post(f"{LIST}{pk}/submit/").status_code == 404  # a draft: out of her scope
    assert api(w.users.bureau_city).post(f"{LIST}{pk}/submit/").status_code == 200
    denied = api(w.users.bureau_city).post(f"{LIST}{pk}/approve/")
    assert denied.status_code == 403 and denied.json()["detail"]
    assert api(w.deputy).post(f"{LIST}{pk}/return/", {}, format="json").status_code == 400
    assert api(w.deputy).post(f"{LIST}{pk}/approve/").json()["state"] == "published"
    assert api(w.deputy).post(f"{LIST}{pk}/approve/").status_code == 409
    read = api(w.head_a).post(f"{LIST}{pk}/read/")
    assert read.status_code == 200
    assert api(w.head_b).get(f"{LIST}{pk}/").status_code == 404
    listed = api(w.head_a).get(LIST)
    assert listed.status_code == 200 and [c["id"] for c in listed.json()["results"]] == [pk]
    assert api(w.head_b).get(LIST).json()["results"] == []
    assert api(w.users.bureau_city).get(f"{LIST}{pk}/").json()["recipients_read"] == 1


def test_the_demo_circular_is_published_with_a_frozen_ranking_partly_read_and_idempotent():
    from organisations.demo import seed_organisations
    from workflows.death.demo import seed_deaths
    from workflows.demo import seed_women
    from workflows.interview.demo import seed_circulars

    seed_organisations()
    seed_women(40)
    seed_deaths()
    assert seed_circulars() == 1
    circular = Circular.objects.get()
    assert circular.state == Circular.State.PUBLISHED and circular.kind == Circular.Kind.CRITICISE
    assert circular.issuer.name == "福州市卫生健康委员会" and circular.approved_by != circular.drafted_by
    counties = circular.rankings.get(figure="deaths_avoidable").rows.values_list("name", flat=True)
    assert set(counties) == {"鼓楼区", "闽侯县"}
    read = circular.recipients.filter(read_at__isnull=False).count()
    assert 0 < read < circular.recipients.count()
    assert seed_circulars() == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_officers_approving_at_once_one_publishes_the_other_is_refused(personas):
    from django.db import connection

    from tests.workflows.highrisk.test_concurrency import race

    if connection.vendor != "postgresql":
        pytest.skip("Concurrent transitions need PostgreSQL (the CI PostgreSQL leg runs this).")
    inst = personas.inst
    first = member("bureau_city2", inst.bureau_city, Role.BUREAU_OFFICER)
    second = member("bureau_city3", inst.bureau_city, Role.BUREAU_OFFICER)
    for n in range(3):
        circular = cs.circular_create(issuer=inst.bureau_city, by=personas.users.bureau_city, kind="inform",
                                      title="并发审核", number=f"榕卫通〔2026〕{100 + n}号", body="正文")
        cs.circular_submit(circular=circular, by=personas.users.bureau_city)
        results = race(lambda c=circular: cs.circular_approve(circular=c, by=first),
                       lambda c=circular: cs.circular_approve(circular=c, by=second))
        assert sorted(kind for kind, _value in results) == ["denied", "ok"], results
        assert Circular.objects.get(pk=circular.pk).state == Circular.State.PUBLISHED
        assert deadlines_for(circular, kind=cs.CIRCULAR_READ_REMINDER).count() == 1
        assert circular.recipients.count() == len(cs.circular_recipient_institutions(circular))
