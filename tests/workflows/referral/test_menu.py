"""Issue 11 items 7 and 8: every menu entry opens for the persona it is shown to, each role lands on its
own referral page, officers get the area's referrals, and a named expert opens and answers the
consultation she was alerted to."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from cases.models import Consultation, Pregnancy, Referral
from notifications.models import Alert
from organisations.models import Role
from tests.notifications.helpers import move_deadlines_into_past
from tests.personas import book_woman
from tests.workflows.referral.helpers import member, refer, rescue_staff
from workflows.deadlines import deadlines_sweep
from workflows.models import Deadline
from workflows.referral import services as rs

MENU_LINK = re.compile(r'class="mdc-list-item[^"]*vf-page__menu-list-item" href="([^"]+)"')


@pytest.fixture
def staff(personas):  # type: ignore[no-untyped-def]
    return rescue_staff(personas)


def test_every_menu_entry_opens_for_every_persona(client, personas):
    """Follow every menu link from every page the menus reach: none answers 403 (or anything but 200)."""
    for name, user in vars(personas.users).items():
        client.force_login(user)
        seen: dict[str, int] = {}
        todo = ["/"]
        while todo:
            link = todo.pop()
            if link in seen:
                continue
            response = client.get(link, follow=True)
            seen[link] = response.status_code
            if response.status_code == 200 and response["Content-Type"].startswith("text/html"):
                todo += [x for x in MENU_LINK.findall(response.content.decode()) if x not in seen]
        refused = {link: status for link, status in seen.items() if status != 200}
        assert not refused, (name, refused)
        if name != "outsider":
            assert "/organisations/" in seen, name
    # What each role's 机构 and 转诊救治 open.
    client.force_login(personas.users.obstetrician_a)
    assert client.get("/organisations/").url == reverse("organisations:institution:index")


@pytest.mark.parametrize(("persona", "landing"), [
    ("obstetrician_a", "referral:sent"), ("primary_a", "referral:sent"), ("mch_a", "referral:area"),
    ("bureau_a", "referral:area"), ("bureau_city", "referral:area"), ("reviewer_province", "referral:consultations"),
])
def test_each_role_lands_on_its_own_referral_page(client, personas, persona, landing):
    client.force_login(getattr(personas.users, persona))
    response = client.get(reverse("referral:index"))
    assert (response.status_code, response.url) == (302, reverse(landing))
    assert client.get(response.url).status_code == 200
    # Opened anyway, the sent page of a user who sends nothing has no dangling "·".
    html = client.get(reverse("referral:sent")).content.decode()
    assert "·</h2>" not in html and "· </h2>" not in html


def test_the_obstetrician_lands_on_what_her_hospital_sent_and_the_duty_doctor_on_the_board(client, personas):
    referral = refer(personas)  # sent by 闽侯县医院, which also hosts the county centre
    client.force_login(personas.users.obstetrician_a)
    sent = client.get(reverse("referral:index"), follow=True)
    assert sent.redirect_chain[-1][0] == reverse("referral:sent")
    html = sent.content.decode()
    assert 'data-testid="sent-board"' in html and str(referral.pk) in html and "闽侯县医院" in html
    # Her centre's board stays one menu entry away.
    assert reverse("referral:board") in html and client.get(reverse("referral:board")).status_code == 200
    client.force_login(personas.users.duty_a)
    board = client.get(reverse("referral:index"))
    assert board.status_code == 200 and 'data-testid="board"' in board.content.decode()
    client.force_login(personas.users.primary_a)
    menu = client.get(reverse("referral:sent")).content.decode()
    assert reverse("referral:board") not in menu and reverse("referral:caesareans") not in menu
    assert client.get(reverse("referral:caesareans")).status_code == 403


def _referral_from_county_b(personas):  # type: ignore[no-untyped-def]
    """厦门市第三医院 (county B, itself a county centre) refers to the provincial centre."""
    pregnancy = Pregnancy.objects.get(woman=book_woman(at=personas.inst.hospital_b))
    return rs.referral_request(pregnancy=pregnancy, by=personas.users.obstetrician_b,
                               from_institution=personas.inst.hospital_b, to_centre=personas.centres.province,
                               urgency="urgent", reason="重度子痫前期", diagnosis="重度子痫前期")


def test_the_area_view_lists_only_the_officers_area(client, personas, staff):
    mine = refer(personas)  # 闽侯县医院 (county A) → 福州市妇幼保健院
    theirs = _referral_from_county_b(personas)  # 厦门市第三医院 (county B) → the provincial centre
    client.force_login(personas.users.bureau_a)
    html = client.get(reverse("referral:area")).content.decode()
    assert str(mine.pk) in html and str(theirs.pk) not in html
    assert reverse("referral:detail", args=[mine.pk]) in html
    # She opens the referral read-only; the other county's is out of scope (404, like missing).
    detail = client.get(reverse("referral:detail", args=[mine.pk]))
    assert detail.status_code == 200 and "data-step=" not in detail.content.decode()
    assert client.get(reverse("referral:detail", args=[theirs.pk])).status_code == 404
    client.force_login(personas.users.mch_b)
    html = client.get(reverse("referral:area")).content.decode()
    assert str(theirs.pk) in html and str(mine.pk) not in html
    # The province's bureau sees both; another province's neither.
    client.force_login(personas.users.bureau_province)
    html = client.get(reverse("referral:area")).content.decode()
    assert str(mine.pk) in html and str(theirs.pk) in html
    client.force_login(personas.users.bureau_gd)
    html = client.get(reverse("referral:area") + "?show=all").content.decode()
    assert str(mine.pk) not in html and str(theirs.pk) not in html
    # A clinician has no area view.
    client.force_login(personas.users.obstetrician_a)
    assert client.get(reverse("referral:area")).status_code == 403


def test_the_area_view_filters_late_and_by_centre_with_counts(client, personas, staff):
    late = refer(personas)
    on_time = refer(personas, urgency="planned")
    rs.referral_accept(referral=on_time, by=staff.city1, team="产科")
    to_province = refer(personas, centre=personas.centres.province, off_suggestion_reason="需省级 ICU")
    answered = refer(personas)  # answered after its deadline passed: no longer late
    move_deadlines_into_past(Deadline.objects.filter(kind=rs.RESPONSE_DUE, subject_id__in=[str(late.pk),
                                                                                          str(answered.pk)]))
    deadlines_sweep()
    rs.referral_accept(referral=answered, by=staff.city1, team="产科")
    client.force_login(personas.users.mch_a)
    html = client.get(reverse("referral:area") + "?show=late").content.decode()
    rows = html[html.index('data-testid="area-rows"'):]
    assert str(late.pk) in rows and all(str(r.pk) not in rows for r in (on_time, to_province, answered))
    assert 'data-testid="count-late">1<' in html and 'data-testid="count-open">4<' in html
    open_html = client.get(reverse("referral:area")).content.decode()
    flagged = re.findall(r'data-referral="([0-9a-f-]+)" data-state="\w+" class="anmu-overdue" data-late="1"', open_html)
    assert flagged == [str(late.pk)]
    city = personas.centres.city
    centres = html[html.index('data-testid="area-centres"'):html.index('data-testid="area-rows"')]
    assert f'data-centre="{city.pk}"' in centres and f'data-centre="{personas.centres.province.pk}"' in centres
    by_centre = client.get(reverse("referral:area") + f"?show=open&centre={personas.centres.province.pk}")
    rows = by_centre.content.decode()[by_centre.content.decode().index('data-testid="area-rows"'):]
    assert str(to_province.pk) in rows and str(late.pk) not in rows and str(on_time.pk) not in rows
    # A centre outside the officer's area filters nothing in: the parameter only narrows her own list.
    theirs = _referral_from_county_b(personas)
    other = client.get(reverse("referral:area") + f"?show=all&centre={personas.centres.province.pk}")
    assert str(theirs.pk) not in other.content.decode() and Referral.objects.filter(pk=theirs.pk).exists()


def test_a_named_expert_opens_the_consultation_from_her_alert_and_answers(client, personas, staff):
    expert = personas.users.reviewer_province
    pregnancy = Pregnancy.objects.get(woman=book_woman(at=personas.inst.hospital_a))
    consultation = rs.consultation_request(pregnancy=pregnancy, by=personas.users.obstetrician_a,
                                           from_institution=personas.inst.hospital_a, mode="remote",
                                           urgency="urgent", question="重度子痫前期，是否终止妊娠？",
                                           to_expert=expert)
    alert = Alert.objects.get(kind="consultation.requested", recipient=expert)
    client.force_login(expert)
    opened = client.get(alert.link)
    assert opened.status_code == 200
    html = opened.content.decode()
    assert "重度子痫前期，是否终止妊娠？" in html
    answer_url = reverse("referral:consultation_action", args=[consultation.pk, "answer"])
    assert answer_url in html
    assert client.get(answer_url).status_code == 200
    assert client.post(answer_url, {"answer": "建议 34 周后终止妊娠"}).status_code == 302
    consultation.refresh_from_db()
    assert (consultation.state, consultation.answered_by) == (Consultation.State.ANSWERED, expert)
    # Referral pages stay closed to her role.
    assert client.get(reverse("referral:board")).status_code == 403
    assert client.get(reverse("referral:detail", args=[refer(personas).pk])).status_code == 403


def test_an_expert_not_asked_cannot_answer_and_one_elsewhere_cannot_see(client, personas, staff):
    asked = personas.users.reviewer_province
    pregnancy = Pregnancy.objects.get(woman=book_woman(at=personas.inst.hospital_a))
    consultation = rs.consultation_request(pregnancy=pregnancy, by=personas.users.obstetrician_a,
                                           from_institution=personas.inst.hospital_a, mode="remote",
                                           urgency="urgent", question="是否需要转诊？", to_expert=asked)
    url = reverse("referral:consultation", args=[consultation.pk])
    answer_url = reverse("referral:consultation_action", args=[consultation.pk, "answer"])
    colleague = member("reviewer_province2", personas.inst.mch_province, Role.EXPERT_REVIEWER)
    client.force_login(colleague)
    page = client.get(url)
    assert page.status_code == 200 and answer_url not in page.content.decode()
    assert client.post(answer_url, {"answer": "我来答"}).status_code == 403
    elsewhere = member("reviewer_gd", personas.inst.hospital_gd, Role.EXPERT_REVIEWER)
    client.force_login(elsewhere)
    assert client.get(url).status_code == 404
    assert client.post(answer_url, {"answer": "我来答"}).status_code == 404
    assert Consultation.objects.get(pk=consultation.pk).state == Consultation.State.REQUESTED


def test_the_consultation_form_names_each_expert_with_institution_and_role(client, personas, staff):
    pregnancy = Pregnancy.objects.get(woman=book_woman(at=personas.inst.hospital_a))
    client.force_login(personas.users.obstetrician_a)
    html = client.get(reverse("referral:consultation_new") + f"?pregnancy={pregnancy.pk}").content.decode()
    select = html[html.index('name="to_expert"'):]
    select = select[:select.index("</select>")]
    expert = personas.users.reviewer_province
    assert f"{expert.name}（福建省妇幼保健院 · 评审专家）" in select or \
        f"{expert.name}（福建省妇幼保健院 · Expert reviewer）" in select
    assert f"{personas.users.duty_b.name}（厦门市第三医院 · " in select
    assert "广东省" not in select  # another province's staff are not offered
