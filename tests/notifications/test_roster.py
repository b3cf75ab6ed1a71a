"""The duty roster: who keeps it (duty doctors of the centre, MCH officers of its area), the alerts a
shift assignment and a handover raise, validation as form messages, and 404/403 for everyone else."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from notifications.models import Alert
from notifications.roster import shift_create, shift_handover
from organisations.forms import DATETIME_LOCAL
from organisations.http import ActionDenied
from organisations.models import DutyShift, Membership, Role
from organisations.selectors import duty_gaps, roster_institutions
from tests.notifications.helpers import put_on_roster
from tests.personas import UserFactory


def hours(n: float) -> dt.timedelta:
    return dt.timedelta(hours=n)


def local_input(value: dt.datetime) -> str:
    return timezone.localtime(value).strftime(DATETIME_LOCAL)


@pytest.fixture
def tomorrow_8am() -> dt.datetime:
    local = timezone.localtime(timezone.now()) + dt.timedelta(days=1)
    return local.replace(hour=8, minute=0, second=0, microsecond=0)


def add_shift(personas, by, *, user=None, start, length=24, kind=DutyShift.Kind.DUTY, institution=None):  # type: ignore[no-untyped-def]
    return shift_create(institution=institution or personas.inst.hospital_a, user=user or personas.users.duty_a,
                        kind=kind, starts_at=start, ends_at=start + hours(length), by=by, reason="排班测试")


# --- Services ----------------------------------------------------------------------------------------------


def test_mch_officer_assigns_a_shift_and_the_doctor_is_alerted_after_commit(
        personas, tomorrow_8am, django_capture_on_commit_callbacks):
    mch, duty = personas.users.mch_a, personas.users.duty_a
    with django_capture_on_commit_callbacks() as callbacks:
        shift = add_shift(personas, mch, start=tomorrow_8am)
    assert DutyShift.objects.get(pk=shift.pk).user == duty
    record = shift.history.latest()
    assert (record.history_user, record.history_change_reason, record.history_type) == (mch, "排班测试", "+")

    alert = Alert.objects.get(kind="roster.shift")
    assert alert.recipient == duty and alert.priority == Alert.Priority.ROUTINE
    assert alert.link == reverse("roster:detail", args=[personas.inst.hospital_a.pk])
    assert alert.subject_id == str(shift.pk)
    start = timezone.localtime(tomorrow_8am)
    assert alert.title_text == (f"您被排入闽侯县医院的值班：{start:%Y-%m-%d %H:%M} 至 "
                                f"{start + hours(24):%Y-%m-%d %H:%M}")
    assert str(mch) in alert.body_text
    assert len(callbacks) == 1  # the websocket push waits for the commit


def test_on_call_assignment_says_so(personas, tomorrow_8am):
    add_shift(personas, personas.users.mch_a, user=personas.users.obstetrician_a, kind=DutyShift.Kind.ON_CALL,
              start=tomorrow_8am)
    alert = Alert.objects.get(kind="roster.shift")
    assert alert.recipient == personas.users.obstetrician_a
    assert alert.title_text.startswith("您被排入闽侯县医院的二线备班")


def test_duty_doctor_keeps_the_roster_of_their_own_centre(personas, tomorrow_8am):
    duty = personas.users.duty_a
    add_shift(personas, duty, user=personas.users.obstetrician_a, start=tomorrow_8am)
    assert Alert.objects.get(kind="roster.shift").recipient == personas.users.obstetrician_a
    # Putting oneself on the roster alerts nobody.
    add_shift(personas, duty, user=duty, start=tomorrow_8am + hours(24))
    assert Alert.objects.filter(kind="roster.shift").count() == 1
    assert DutyShift.objects.count() == 2


@pytest.mark.parametrize("who", ["obstetrician_a", "bureau_a", "duty_b", "mch_b", "primary_a", "outsider"])
def test_others_may_not_change_the_roster(personas, tomorrow_8am, who):
    with pytest.raises(ActionDenied) as denied:
        add_shift(personas, getattr(personas.users, who), start=tomorrow_8am)
    assert "值班表" in denied.value.reason
    assert not DutyShift.objects.exists() and not Alert.objects.exists()


def test_mch_officer_of_another_area_may_not_change_a_centre_it_can_see(personas, tomorrow_8am):
    # County A's MCH officer sees the city centre (it serves county A) but does not keep its roster.
    with pytest.raises(ActionDenied):
        add_shift(personas, personas.users.mch_a, institution=personas.inst.mch_city, start=tomorrow_8am)


def test_a_role_without_the_roster_permission_is_refused(personas, tomorrow_8am):
    from django.contrib.auth.models import Group, Permission

    Group.objects.get(name=Role.MCH_OFFICER).permissions.remove(Permission.objects.get(codename="add_dutyshift"))
    with pytest.raises(ActionDenied):
        add_shift(personas, personas.users.mch_a, start=tomorrow_8am)


@pytest.mark.parametrize(("case", "field"), [
    ("not_staff", "user"), ("ends_before_start", "ends_at"), ("too_long", "ends_at"), ("over", "ends_at"),
    ("overlap", "starts_at"),
])
def test_invalid_shifts_are_refused_with_a_field_message(personas, tomorrow_8am, case, field):
    mch, duty = personas.users.mch_a, personas.users.duty_a
    add_shift(personas, mch, start=tomorrow_8am)
    Alert.objects.all().delete()
    start, end, user = tomorrow_8am + hours(48), tomorrow_8am + hours(72), duty
    if case == "not_staff":
        user = personas.users.duty_b
    elif case == "ends_before_start":
        end = start - hours(1)
    elif case == "too_long":
        end = start + hours(73)
    elif case == "over":
        start, end = timezone.now() - hours(10), timezone.now() - hours(2)
    elif case == "overlap":
        start, end = tomorrow_8am + hours(12), tomorrow_8am + hours(30)
    with pytest.raises(ValidationError) as invalid:
        shift_create(institution=personas.inst.hospital_a, user=user, kind=DutyShift.Kind.DUTY, starts_at=start,
                     ends_at=end, by=mch, reason="test")
    assert field in invalid.value.message_dict
    assert DutyShift.objects.count() == 1 and not Alert.objects.exists()


def test_handover_note_alerts_the_incoming_doctor(personas, django_capture_on_commit_callbacks):
    now = timezone.now()
    duty = personas.users.duty_a
    night = UserFactory(username="duty_a_night", name="夜班医生")
    Membership.objects.create(user=night, institution=personas.inst.hospital_a, role=Role.DUTY_DOCTOR)
    outgoing = put_on_roster(duty, personas.inst.hospital_a, start=now - hours(7), hours=8)
    put_on_roster(night, personas.inst.hospital_a, start=now + hours(1), hours=12)
    # A deputy shift starting at the same time is not "the next shift" of a duty shift.
    put_on_roster(personas.users.obstetrician_a, personas.inst.hospital_a, kind=DutyShift.Kind.ON_CALL,
                  start=now + hours(1), hours=12)

    with django_capture_on_commit_callbacks() as callbacks:
        shift = shift_handover(shift=outgoing, by=duty, note="3床 子痫前期，硫酸镁维持中。\n救护车转入一名产后出血。")
    assert shift.handover_at is not None and shift.handover_note.startswith("3床")
    record = shift.history.latest()
    assert (record.history_user, record.history_change_reason) == (duty, "handover")
    alert = Alert.objects.get(kind="roster.handover")
    assert alert.recipient == night and alert.priority == Alert.Priority.URGENT
    assert str(duty) in alert.title_text and "闽侯县医院" in alert.title_text
    assert "硫酸镁" in alert.body_text
    assert len(callbacks) == 1


def test_only_the_doctor_of_the_shift_writes_its_handover_in_time(personas):
    now = timezone.now()
    shift = put_on_roster(personas.users.duty_a, personas.inst.hospital_a, start=now - hours(7), hours=8)
    with pytest.raises(ActionDenied) as denied:
        shift_handover(shift=shift, by=personas.users.mch_a, note="x")
    assert "交班" in denied.value.reason
    with pytest.raises(ValidationError):
        shift_handover(shift=shift, by=personas.users.duty_a, note="   ")
    old = put_on_roster(personas.users.duty_a, personas.inst.hospital_a, start=now - hours(40), hours=8)
    with pytest.raises(ActionDenied):
        shift_handover(shift=old, by=personas.users.duty_a, note="too late")
    assert not DutyShift.objects.filter(handover_at__isnull=False).exists()
    assert not Alert.objects.exists()


def test_handover_with_nobody_next_alerts_nobody(personas):
    now = timezone.now()
    shift = put_on_roster(personas.users.duty_a, personas.inst.hospital_a, start=now - hours(7), hours=8)
    # The same doctor carrying on is no handover.
    put_on_roster(personas.users.duty_a, personas.inst.hospital_a, start=now + hours(1), hours=8)
    shift_handover(shift=shift, by=personas.users.duty_a, note="平稳")
    assert not Alert.objects.exists()


def test_duty_gaps_are_the_uncovered_stretches():
    start = timezone.now()
    shifts = [
        DutyShift(kind=DutyShift.Kind.DUTY, starts_at=start - hours(2), ends_at=start + hours(4)),
        DutyShift(kind=DutyShift.Kind.DUTY, starts_at=start + hours(3), ends_at=start + hours(6)),
        DutyShift(kind=DutyShift.Kind.ON_CALL, starts_at=start + hours(6), ends_at=start + hours(10)),
        DutyShift(kind=DutyShift.Kind.DUTY, starts_at=start + hours(8), ends_at=start + hours(30)),
    ]
    gaps = duty_gaps(shifts, start, start + hours(24))
    assert [(g.starts_at - start, g.ends_at - start) for g in gaps] == [(hours(6), hours(8))]
    assert [(g.starts_at, g.ends_at) for g in duty_gaps([], start, start + hours(1))] == [(start, start + hours(1))]


def test_who_reads_which_roster(personas):
    now = timezone.now()
    hospital_a = personas.inst.hospital_a
    assert set(roster_institutions(personas.users.mch_a)) == {hospital_a}
    assert set(roster_institutions(personas.users.duty_a)) == {hospital_a}
    assert set(roster_institutions(personas.users.duty_b)) == {personas.inst.hospital_b}
    assert not roster_institutions(personas.users.obstetrician_a).exists()
    assert not roster_institutions(personas.users.bureau_a).exists()
    # A doctor on the roster reads it, whatever their role.
    put_on_roster(personas.users.obstetrician_a, hospital_a, kind=DutyShift.Kind.ON_CALL, start=now + hours(2))
    assert set(roster_institutions(personas.users.obstetrician_a)) == {hospital_a}


# --- Pages -------------------------------------------------------------------------------------------------


def test_roster_page_shows_who_is_on_duty_and_the_gaps(client, personas):
    now = timezone.now()
    put_on_roster(personas.users.duty_a, personas.inst.hospital_a, start=now - hours(1), hours=8)
    put_on_roster(personas.users.obstetrician_a, personas.inst.hospital_a, kind=DutyShift.Kind.ON_CALL,
                  start=now - hours(1), hours=8)
    client.force_login(personas.users.mch_a)
    response = client.get(reverse("roster:detail", args=[personas.inst.hospital_a.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    now_card = body.split('data-testid="roster-now"')[1].split("</section>")[0]
    assert str(personas.users.duty_a) in now_card.split('data-testid="roster-on-call"')[0]
    assert str(personas.users.obstetrician_a) in now_card.split('data-testid="roster-on-call"')[1]
    assert "无人值班" in body and 'data-testid="roster-gap"' in body  # after 7 hours, nobody
    assert 'data-testid="roster-add"' in body
    # The form offers the centre's clinicians only.
    form = body.split('data-testid="roster-add"')[1]
    assert str(personas.users.duty_a) in form and str(personas.users.obstetrician_a) in form
    assert str(personas.users.mch_a) not in form and str(personas.users.duty_b) not in form


def test_roster_index_goes_straight_to_the_only_roster_and_lists_several(client, personas):
    client.force_login(personas.users.mch_a)
    response = client.get(reverse("roster:index"))
    assert response.status_code == 302
    assert response["Location"] == reverse("roster:detail", args=[personas.inst.hospital_a.pk])

    city_mch = UserFactory(username="mch_city")
    Membership.objects.create(user=city_mch, institution=personas.inst.mch_city, role=Role.MCH_OFFICER)
    client.force_login(city_mch)
    body = client.get(reverse("roster:index")).content.decode()
    assert "闽侯县医院" in body and "福州市妇幼保健院" in body and "厦门市第三医院" not in body


@pytest.mark.parametrize(("who", "status"), [
    ("mch_a", 200), ("duty_a", 200), ("obstetrician_a", 403), ("bureau_a", 403), ("duty_b", 404), ("mch_b", 404),
    # Without any role the roster application itself refuses, with its reason (like every other application).
    ("outsider", 403),
])
def test_roster_page_scoping(client, personas, who, status):
    client.force_login(getattr(personas.users, who))
    response = client.get(reverse("roster:detail", args=[personas.inst.hospital_a.pk]))
    assert response.status_code == status
    if status == 403:
        assert "值班表" in response.content.decode()


def test_roster_index_refuses_people_without_a_roster(client, personas):
    client.force_login(personas.users.obstetrician_a)
    response = client.get(reverse("roster:index"))
    assert response.status_code == 403 and "值班" in response.content.decode()
    client.logout()
    assert client.get(reverse("roster:index")).status_code == 302


def test_menu_shows_the_roster_to_its_keepers_only(client, personas):
    url = reverse("organisations:institution:index")
    client.force_login(personas.users.mch_a)
    assert 'data-testid="menu-roster"' in client.get(url).content.decode()
    client.force_login(personas.users.obstetrician_a)
    assert 'data-testid="menu-roster"' not in client.get(url).content.decode()


def test_adding_a_shift_through_the_page(client, personas, tomorrow_8am, django_capture_on_commit_callbacks):
    client.force_login(personas.users.mch_a)
    url = reverse("roster:shift_add", args=[personas.inst.hospital_a.pk])
    form = {"user": personas.users.duty_a.pk, "kind": "duty", "starts_at": local_input(tomorrow_8am),
            "ends_at": local_input(tomorrow_8am + hours(24)), "reason": ""}
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, form)
    assert response.status_code == 302
    shift = DutyShift.objects.get()
    assert shift.starts_at == tomorrow_8am and shift.history.latest().history_user == personas.users.mch_a
    assert Alert.objects.get(kind="roster.shift").recipient == personas.users.duty_a
    page = client.get(response["Location"]).content.decode()
    assert str(personas.users.duty_a) in page


@pytest.mark.parametrize("change", [
    {"ends_at": "bad"}, {"user": "0"}, {"ends_at": "earlier"}, {"starts_at": "overlap"},
])
def test_invalid_shift_form_shows_messages_not_a_500(client, personas, tomorrow_8am, change):
    put_on_roster(personas.users.duty_a, personas.inst.hospital_a, start=tomorrow_8am, hours=24)
    client.force_login(personas.users.mch_a)
    start = tomorrow_8am + hours(48)
    form = {"user": personas.users.duty_a.pk, "kind": "duty", "starts_at": local_input(start),
            "ends_at": local_input(start + hours(24))}
    if change.get("ends_at") == "bad":
        form["ends_at"] = "明天"
    elif change.get("ends_at") == "earlier":
        form["ends_at"] = local_input(start - hours(2))
    elif change.get("starts_at") == "overlap":
        form["starts_at"] = local_input(tomorrow_8am + hours(2))
    else:
        form.update(change)
    response = client.post(reverse("roster:shift_add", args=[personas.inst.hospital_a.pk]), form)
    assert response.status_code == 200
    assert 'class="anmu-field__error"' in response.content.decode()
    assert DutyShift.objects.count() == 1


def test_adding_a_shift_is_refused_to_others(client, personas, tomorrow_8am):
    form = {"user": personas.users.duty_a.pk, "kind": "duty", "starts_at": local_input(tomorrow_8am),
            "ends_at": local_input(tomorrow_8am + hours(24))}
    client.force_login(personas.users.obstetrician_a)
    url = reverse("roster:shift_add", args=[personas.inst.hospital_a.pk])
    response = client.post(url, form)
    assert response.status_code == 403 and "值班表" in response.content.decode()
    client.force_login(personas.users.mch_b)
    assert client.post(url, form).status_code == 404
    client.force_login(personas.users.mch_a)
    assert client.get(url).status_code == 405
    assert not DutyShift.objects.exists()


def test_handover_through_the_page_reaches_the_incoming_doctor(client, personas):
    now = timezone.now()
    duty = personas.users.duty_a
    night = UserFactory(username="duty_a_night", name="夜班医生")
    Membership.objects.create(user=night, institution=personas.inst.hospital_a, role=Role.DUTY_DOCTOR)
    outgoing = put_on_roster(duty, personas.inst.hospital_a, start=now - hours(7), hours=8)
    put_on_roster(night, personas.inst.hospital_a, start=now + hours(1), hours=12)
    detail = reverse("roster:detail", args=[personas.inst.hospital_a.pk])

    client.force_login(duty)
    page = client.get(detail).content.decode()
    assert 'data-testid="roster-handover-form"' in page and "夜班医生" in page
    response = client.post(reverse("roster:handover", args=[personas.inst.hospital_a.pk, outgoing.pk]),
                           {"note": "2床 前置胎盘，备血 4U。"})
    assert response.status_code == 302
    assert Alert.objects.get(kind="roster.handover").recipient == night

    client.force_login(night)
    page = client.get(detail).content.decode()
    handovers = page.split('data-testid="roster-handovers"')[1].split("</section>")[0]
    assert "2床 前置胎盘，备血 4U。" in handovers and str(duty) in handovers

    # Someone else's shift: refused with the reason.
    client.force_login(personas.users.mch_a)
    response = client.post(reverse("roster:handover", args=[personas.inst.hospital_a.pk, outgoing.pk]),
                           {"note": "x"})
    assert response.status_code == 403 and "交班" in response.content.decode()


def test_empty_handover_note_is_a_form_message(client, personas):
    now = timezone.now()
    shift = put_on_roster(personas.users.duty_a, personas.inst.hospital_a, start=now - hours(7), hours=8)
    client.force_login(personas.users.duty_a)
    response = client.post(reverse("roster:handover", args=[personas.inst.hospital_a.pk, shift.pk]),
                           {"note": ""})
    assert response.status_code == 200 and 'class="anmu-field__error"' in response.content.decode()


def test_putting_someone_on_duty_now_resolves_the_nobody_on_duty_alert(personas, tomorrow_8am):
    from notifications.services import roster_gap_raise

    mch = personas.users.mch_a
    gap = roster_gap_raise(institution=personas.inst.hospital_a, now=timezone.now())[0]
    add_shift(personas, mch, start=tomorrow_8am)  # a later shift does not cover the gap
    assert Alert.objects.get(pk=gap.pk).is_open
    add_shift(personas, mch, user=personas.users.obstetrician_a, start=timezone.now() - hours(1), length=8)
    gap = Alert.objects.get(pk=gap.pk)
    assert (gap.closed_reason, gap.acknowledged_by) == (Alert.CloseReason.HANDLED, mch)


def test_the_roster_application_has_its_own_menu(client, personas):
    """The roster became its own application (notifications/roster.py): its menu lists its pages, not
    viewflow's "No viewsets found" placeholder."""
    client.force_login(personas.users.mch_a)
    body = client.get(reverse("roster:detail", args=[personas.inst.hospital_a.pk])).content.decode()
    assert 'data-testid="menu-roster-index"' in body and "No viewsets found" not in body
