import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from cases.identity import validate_resident_id
from cases.models import Pregnancy, Woman
from organisations.demo import COUNTIES, DEMO_PASSWORD, ROLE_SLUG
from organisations.models import Institution, Membership, Region, RescueCentre, Role, User


def seed(*args: str) -> str:
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_seed_demo_is_idempotent_and_complete():
    seed()
    counts = (Region.objects.count(), Institution.objects.count(), RescueCentre.objects.count(),
              User.objects.count(), Membership.objects.count())
    output = seed()
    assert "+0" in output and "+1" not in output
    assert counts == (Region.objects.count(), Institution.objects.count(), RescueCentre.objects.count(),
                      User.objects.count(), Membership.objects.count())
    assert Region.objects.get(code="350000").name == "福建省"
    assert Region.objects.filter(level=Region.Level.COUNTY).count() >= 4
    assert Region.objects.filter(level=Region.Level.CITY).count() >= 2
    for kind in Institution.Kind.values:
        assert Institution.objects.filter(kind=kind).exists()
    for level in (1, 2, 3):
        assert Institution.objects.filter(level=level).exists()
    assert set(RescueCentre.objects.values_list("level", flat=True)) == set(RescueCentre.Level.values)
    assert all(centre.regions.exists() for centre in RescueCentre.objects.all())
    for _code, _name, _city, slug in COUNTIES:
        for role in Role:
            user = User.objects.get(username=f"{slug}_{ROLE_SLUG[role]}")
            assert user.check_password(DEMO_PASSWORD)
            assert user.memberships.filter(role=role, is_active=True).exists()
    row = Institution.objects.get(name="闽侯县医院").history.earliest()
    assert row.history_change_reason == "演示数据"


@pytest.mark.django_db
def test_seed_demo_women_are_valid_and_have_history():
    seed("--women", "30")
    assert Woman.objects.count() == 30 and Pregnancy.objects.count() == 30
    for woman in Woman.objects.all():
        validate_resident_id(woman.id_number)
        assert woman.history.count() == 1
    seed("--women", "5")
    assert Woman.objects.count() == 35


@pytest.mark.django_db
def test_first_look_seeds_referrals_on_the_city_board(client):
    from cases.models import Referral

    seed("--first-look")
    states = sorted(Referral.objects.values_list("state", flat=True))
    # Three on the city board, and the referral of the demo death that died in treatment (its review packet's).
    assert states == ["departed", "in_treatment", "outcome", "requested"]
    assert "Sent 3 demo referrals" not in seed("--first-look")  # idempotent
    assert Referral.objects.count() == 4
    client.force_login(User.objects.get(username="gulou_duty"))
    board = client.get(reverse("referral:index")).content.decode()
    assert all(str(pk) in board for pk in Referral.objects.values_list("pk", flat=True))


@pytest.mark.django_db
def test_demo_obstetrician_can_log_in(client):
    seed()
    response = client.post("/accounts/login/", {"username": "minhou_obstetrician", "password": DEMO_PASSWORD})
    assert response.status_code == 302
    home = client.get("/")
    assert home.status_code == 200
    assert "闽侯县医院" in home.content.decode()


@pytest.mark.parametrize(
    ("persona", "shown", "hidden"),
    [
        ("obstetrician_a", ["home-covering-centres"], ["home-area", "home-oversight", "home-my-centre"]),
        ("duty_a", ["home-my-centre", "home-covering-centres"], ["home-area"]),
        ("mch_a", ["home-area", "home-oversight"], ["home-my-centre"]),
        ("bureau_city", ["home-area", "home-oversight"], ["home-covering-centres"]),
        ("outsider", [], ["home-area", "home-covering-centres", "home-oversight"]),
    ],
)
def test_home_page_per_role(client, personas, persona, shown, hidden):
    client.force_login(getattr(personas.users, persona))
    body = client.get(reverse("index")).content.decode()
    for testid in shown:
        assert f'data-testid="{testid}"' in body
    for testid in hidden:
        assert f'data-testid="{testid}"' not in body


def test_api_me_and_denials(client, personas):
    assert client.get("/api/me/").status_code == 403
    client.force_login(personas.users.mch_a)
    me = client.get("/api/me/").json()
    assert me["roles"] == ["mch_officer"] and me["areas"] == ["350121"]
    missing = client.get("/api/institutions/00000000-0000-0000-0000-000000000000/")
    hidden = client.get(f"/api/institutions/{personas.inst.hospital_b.pk}/")
    assert missing.status_code == hidden.status_code == 404
    assert missing.json() == hidden.json()
    assert client.get("/api/institutions/not-a-uuid/").status_code == 404


def test_api_docs_and_schema_are_served_locally(client, personas):
    client.force_login(personas.users.mch_a)
    assert client.get("/api/schema/").status_code == 200
    docs = client.get("/api/docs/").content.decode()
    assert "swagger-ui" in docs
    assert "cdn" not in docs.lower() and "https://" not in docs


@pytest.mark.django_db
def test_seed_demo_hashes_the_public_password_once(monkeypatch):
    """PBKDF2 took half a second per demo user (41 of them) on a first `make run`: one hash is shared."""
    from django.contrib.auth import hashers

    from organisations import demo

    calls: list[str] = []

    def counting(password, *args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(password)
        return hashers.make_password(password, *args, **kwargs)

    monkeypatch.setattr(demo, "make_password", counting)
    monkeypatch.setattr("django.contrib.auth.base_user.make_password", counting)
    seed()
    assert calls == [DEMO_PASSWORD]
    assert User.objects.count() == len(demo.demo_users())
    assert all(user.check_password(DEMO_PASSWORD) for user in User.objects.all())


@pytest.mark.django_db
def test_seed_demo_bulk_rows_carry_their_history():
    from organisations.models import DutyShift

    seed()
    assert DutyShift.objects.exists()
    for model in (User, Membership, DutyShift):
        rows = model.history.filter(history_type="+")
        assert rows.count() == model.objects.count()
        assert set(rows.values_list("history_change_reason", flat=True)) == {"演示数据"}
    assert seed().count("+0") == 6  # the second run adds nothing, shifts included


@pytest.mark.django_db
def test_first_look_says_what_it_is_doing():
    output = seed("--first-look")
    assert "正在创建演示机构和用户" in output
    assert "Creating demo data: women 150/150" in output
    assert "Creating demo data: high-risk cases 30/30" in output
    assert "演示数据就绪 / Demo data ready" in output


@pytest.mark.django_db
def test_first_look_data_is_plausible():
    """Issue 11: only women (even 17th digit, valid check digit), no visit before its case was opened,
    and the gestational age a referral states is the one her dates give."""
    import re

    from django.utils import timezone

    from cases.identity import id_check_char, id_says_male
    from cases.models import FollowUpVisit, HighRiskCase, Referral

    seed("--first-look")
    numbers = list(Woman.objects.values_list("id_number", flat=True))
    # The 150 women of the first look, and the year of delivered women of workflows/routine/demo.py.
    assert Woman.objects.exclude(external_id__startswith="DEMO-").count() == 150
    for number in numbers:
        assert int(number[16]) % 2 == 0 and not id_says_male(number)
        assert id_check_char(number[:17]) == number[17]
    cases = list(HighRiskCase.objects.select_related("pregnancy"))
    assert len(cases) == 30
    today = timezone.localdate()
    for case in cases:
        opened_on = timezone.localdate(case.opened_at)
        assert case.pregnancy.booking_date <= opened_on <= today
        if case.state not in HighRiskCase.OPEN_STATES:
            continue  # the demo death after a referral ended her case: no visit is scheduled any more
        visits = list(case.visits.filter(status=FollowUpVisit.Status.SCHEDULED).values_list("due_on", flat=True))
        assert visits and min(visits) > opened_on
        assert case.next_visit_at == min(visits)  # the worklists' date is the visit's, not made up
        assert case.report_due_at > case.opened_at
        if case.reported_at is not None:
            assert case.opened_at < case.reported_at <= case.report_due_at
    # Some visits and reports are late, some are not: the overview and worklists have something to show.
    open_cases = [c for c in cases if c.state in HighRiskCase.OPEN_STATES]
    assert any(c.next_visit_at < today for c in open_cases) and any(c.next_visit_at >= today for c in open_cases)
    assert any(c.state == HighRiskCase.State.OPENED and c.report_due_at < timezone.now() for c in cases)
    assert any(c.state == HighRiskCase.State.REPORTED for c in cases)
    referrals = list(Referral.objects.select_related("pregnancy"))
    assert len(referrals) == 4
    for referral in referrals:
        pregnancy = referral.pregnancy
        assert pregnancy.edd == pregnancy.lmp + dt.timedelta(days=280)
        weeks, _days = pregnancy.gestational_age(timezone.localdate(referral.requested_at))
        stated = re.findall(r"孕 (\d+) 周", referral.diagnosis + referral.reason)
        assert stated == [str(weeks)], (referral.diagnosis, weeks)
        assert 28 <= weeks < 42 and pregnancy.edd >= today
    assert "产后" not in "".join(r.diagnosis + r.reason for r in referrals)  # she has not delivered yet
