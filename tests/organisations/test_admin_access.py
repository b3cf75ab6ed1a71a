"""Access control in the Django admin (issue 10, items 1-4), by POSTing to the admin as a county system
admin: seeing is not changing, nobody raises their own flags or scope, role groups are a superuser's."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.contrib.auth.models import Group, Permission
from django.http import HttpRequest
from django.urls import reverse

from organisations.models import Institution, Membership, Region, RescueCentre, Role, User
from organisations.roles import roles_sync
from tests.personas import MembershipFactory, UserFactory

REASON = {"change_reason": "测试"}


@pytest.fixture
def admins(personas):
    """A county system admin (闽侯县, like the demo's minhou_admin), a city one and a superuser."""
    county = UserFactory(username="admin_a", is_staff=True)
    MembershipFactory(user=county, institution=personas.inst.bureau_a, role=Role.SYSTEM_ADMIN)
    city = UserFactory(username="admin_city", is_staff=True)
    MembershipFactory(user=city, institution=personas.inst.bureau_city, role=Role.SYSTEM_ADMIN)
    root = User.objects.create_superuser("root", password="root-password-1")
    return SimpleNamespace(county=county, city=city, root=root)


def _url(model: str, action: str, *args: object) -> str:
    app = "auth" if model == "group" or action == "password_change" else "organisations"
    return reverse(f"admin:{app}_{model}_{action}", args=args)


def _user_data(user: User, **changes: object) -> dict[str, object]:
    data: dict[str, object] = {"username": user.username, "name": user.name, "phone": user.phone,
                               "email": user.email, **REASON}
    if user.is_active:
        data["is_active"] = "on"
    data.update(changes)
    return data


def _centre_data(centre: RescueCentre, **changes: object) -> dict[str, object]:
    return {"institution": centre.institution_id, "level": centre.level, "duty_phone": centre.duty_phone,
            "contact_note": centre.contact_note, "is_active": "on",
            "regions": [r.pk for r in centre.regions.all()], **REASON, **changes}


def _institution_data(inst: Institution, **changes: object) -> dict[str, object]:
    return {"code": inst.code, "name": inst.name, "kind": inst.kind, "level": inst.level or "", "region": inst.region_id,
            "phone": inst.phone, "is_active": "on", **REASON, **changes}


# 1. Flags and the system-admin role are a superuser's; nobody edits their own flags or memberships.

def test_county_admin_cannot_make_himself_superuser(client, admins):
    client.force_login(admins.county)
    client.post(_url("user", "change", admins.county.pk),
                _user_data(admins.county, is_staff="on", is_superuser="on"))
    fresh = User.objects.get(pk=admins.county.pk)
    assert not fresh.is_superuser


def test_county_admin_cannot_raise_the_flags_of_a_user_in_his_area(client, personas, admins):
    target = personas.users.obstetrician_a
    client.force_login(admins.county)
    client.post(_url("user", "change", target.pk), _user_data(target, is_staff="on", is_superuser="on",
                                                                name="新名字"))
    fresh = User.objects.get(pk=target.pk)
    assert (fresh.name, fresh.is_staff, fresh.is_superuser) == ("新名字", False, False)


def test_county_admin_edits_his_own_details_but_not_his_active_flag(client, admins):
    client.force_login(admins.county)
    page = client.get(_url("user", "change", admins.county.pk)).content.decode()
    assert 'name="is_superuser"' not in page and 'name="is_staff"' not in page
    response = client.post(_url("user", "change", admins.county.pk), _user_data(admins.county, name="王管理"))
    assert response.status_code == 302
    fresh = User.objects.get(pk=admins.county.pk)
    assert (fresh.name, fresh.is_active, fresh.is_staff) == ("王管理", True, True)


def test_own_password_goes_through_the_ordinary_page(client, admins):
    client.force_login(admins.county)
    response = client.post(_url("user", "password_change", admins.county.pk),
                           {"password1": "Brand-new-pass-9", "password2": "Brand-new-pass-9",
                            "usable_password": "true"})
    assert response.status_code == 302 and response["Location"] == reverse("password_change")
    assert User.objects.get(pk=admins.county.pk).check_password("persona-password-1")


def test_county_admin_cannot_take_over_an_account_with_power_outside_his_area(client, personas, admins):
    # A superuser and a provincial officer who also hold a membership in county A: their passwords
    # would open more than county A.
    MembershipFactory(user=admins.root, institution=personas.inst.hospital_a, role=Role.OBSTETRICIAN)
    wide = personas.users.reviewer_province
    MembershipFactory(user=wide, institution=personas.inst.mch_a, role=Role.MCH_OFFICER)
    client.force_login(admins.county)
    for target in (admins.root, wide):
        response = client.post(_url("user", "password_change", target.pk),
                               {"password1": "Brand-new-pass-9", "password2": "Brand-new-pass-9",
                                "usable_password": "true"})
        assert (target.username, response.status_code) == (target.username, 403)
        client.post(_url("user", "change", target.pk), _user_data(target, is_active=""))
        assert User.objects.get(pk=target.pk).is_active


def test_county_admin_manages_accounts_of_his_area_only(client, personas, admins):
    client.force_login(admins.county)
    inside, outside = personas.users.obstetrician_a, personas.users.obstetrician_b
    assert client.post(_url("user", "change", inside.pk), _user_data(inside, is_active="")).status_code == 302
    assert not User.objects.get(pk=inside.pk).is_active
    client.post(_url("user", "change", outside.pk), _user_data(outside, is_active=""))
    assert User.objects.get(pk=outside.pk).is_active


def test_county_admin_cannot_grant_the_system_admin_role(client, personas, admins):
    client.force_login(admins.county)
    target = personas.users.mch_a
    response = client.post(_url("membership", "add"), {"user": target.pk, "institution": personas.inst.bureau_a.pk,
                                                      "role": Role.SYSTEM_ADMIN, "is_active": "on", **REASON})
    assert response.status_code == 200
    assert not Membership.objects.filter(user=target, role=Role.SYSTEM_ADMIN).exists()


def test_county_admin_cannot_change_his_own_memberships(client, personas, admins):
    own = admins.county.memberships.get()
    client.force_login(admins.county)
    response = client.post(_url("membership", "change", own.pk),
                           {"user": admins.county.pk, "institution": personas.inst.mch_a.pk,
                            "role": Role.MCH_OFFICER, "is_active": "on", **REASON})
    assert response.status_code == 403
    client.post(_url("membership", "add"), {"user": admins.county.pk, "institution": personas.inst.mch_a.pk,
                                            "role": Role.MCH_OFFICER, "is_active": "on", **REASON})
    assert list(admins.county.memberships.values_list("role", flat=True)) == [Role.SYSTEM_ADMIN]


def test_superuser_still_sets_flags_and_grants_the_system_admin_role(client, personas, admins):
    client.force_login(admins.root)
    target = personas.users.bureau_a
    client.post(_url("user", "change", target.pk), _user_data(target, is_staff="on"))
    assert User.objects.get(pk=target.pk).is_staff
    response = client.post(_url("membership", "add"), {"user": target.pk, "institution": personas.inst.bureau_a.pk,
                                                      "role": Role.SYSTEM_ADMIN, "is_active": "on", **REASON})
    assert response.status_code == 302
    assert Membership.objects.filter(user=target, role=Role.SYSTEM_ADMIN).exists()


# 2. Memberships only at institutions of one's own area, only roles below one's own.

def test_county_admin_cannot_grant_a_membership_at_the_provincial_centre(client, personas, admins):
    client.force_login(admins.county)
    target = personas.users.mch_a
    response = client.post(_url("membership", "add"), {"user": target.pk,
                                                      "institution": personas.inst.mch_province.pk,
                                                      "role": Role.MCH_OFFICER, "is_active": "on", **REASON})
    assert response.status_code == 200
    assert not Membership.objects.filter(institution=personas.inst.mch_province, user=target).exists()


def test_membership_form_offers_own_area_and_lower_roles_only(client, personas, admins):
    client.force_login(admins.county)
    form = client.get(_url("membership", "add")).context["adminform"].form
    institutions = set(form.fields["institution"].queryset)
    assert personas.inst.hospital_a in institutions and personas.inst.mch_a in institutions
    assert personas.inst.mch_city not in institutions and personas.inst.mch_province not in institutions
    roles = {value for value, _label in form.fields["role"].choices}
    assert Role.SYSTEM_ADMIN not in roles and Role.OBSTETRICIAN in roles
    assert admins.county not in set(form.fields["user"].queryset)


def test_county_admin_grants_a_role_in_his_area(client, personas, admins):
    client.force_login(admins.county)
    target = personas.users.primary_a
    response = client.post(_url("membership", "add"), {"user": target.pk, "institution": personas.inst.hospital_a.pk,
                                                      "role": Role.OBSTETRICIAN, "is_active": "on", **REASON})
    assert response.status_code == 302
    granted = Membership.objects.get(user=target, role=Role.OBSTETRICIAN)
    assert granted.history.latest().history_user == admins.county


def test_county_admin_cannot_move_a_membership_out_of_his_area(client, personas, admins):
    membership = personas.users.mch_a.memberships.get()
    client.force_login(admins.county)
    response = client.post(_url("membership", "change", membership.pk),
                           {"user": personas.users.mch_a.pk, "institution": personas.inst.mch_city.pk,
                            "role": Role.MCH_OFFICER, "is_active": "on", **REASON})
    assert response.status_code == 200
    assert Membership.objects.get(pk=membership.pk).institution == personas.inst.mch_a


def test_county_admin_cannot_change_a_membership_outside_his_area(client, personas, admins):
    # At 福州市妇幼保健院 (it covers his county, so he sees the institution): not his to change.
    city = MembershipFactory(user=personas.users.obstetrician_a, institution=personas.inst.mch_city,
                             role=Role.OBSTETRICIAN)
    # A fellow system admin of his county: he may see it, only a superuser changes it.
    peer = UserFactory(username="admin_a2", is_staff=True)
    peer_admin = MembershipFactory(user=peer, institution=personas.inst.bureau_a, role=Role.SYSTEM_ADMIN)
    client.force_login(admins.county)
    for membership in (city, peer_admin):
        client.post(_url("membership", "change", membership.pk),
                    {"user": membership.user_id, "institution": membership.institution_id,
                     "role": membership.role, **REASON})
        assert Membership.objects.get(pk=membership.pk).is_active
    assert client.get(_url("membership", "change", peer_admin.pk)).status_code == 200
    response = client.post(_url("membership", "change", peer_admin.pk),
                           {"user": peer.pk, "institution": personas.inst.bureau_a.pk, "role": Role.SYSTEM_ADMIN,
                            **REASON})
    assert response.status_code == 403


def test_new_user_starts_with_a_role_in_the_admins_area(client, personas, admins):
    client.force_login(admins.county)
    base = {"username": "new_doctor", "name": "新医生", "phone": "", "usable_password": "true",
            "password1": "Brand-new-pass-9", "password2": "Brand-new-pass-9", "is_superuser": "on",
            "is_staff": "on", **REASON}
    for refused in ({}, {"institution": personas.inst.mch_province.pk, "role": Role.MCH_OFFICER},
                    {"institution": personas.inst.bureau_a.pk, "role": Role.SYSTEM_ADMIN}):
        assert client.post(_url("user", "add"), {**base, **refused}).status_code == 200
        assert not User.objects.filter(username="new_doctor").exists()
    response = client.post(_url("user", "add"), {**base, "institution": personas.inst.hospital_a.pk,
                                                 "role": Role.OBSTETRICIAN})
    assert response.status_code == 302
    user = User.objects.get(username="new_doctor")
    assert (user.is_staff, user.is_superuser) == (False, False)
    assert list(user.memberships.values_list("institution", "role")) == [
        (personas.inst.hospital_a.pk, Role.OBSTETRICIAN)]
    assert client.get(_url("user", "change", user.pk)).status_code == 200


# 3. May see is not may change: covering centres and the regions above are read-only.

def test_county_admin_cannot_change_the_city_centres_duty_phone(client, personas, admins):
    centre = personas.centres.city
    client.force_login(admins.county)
    page = client.get(_url("rescuecentre", "change", centre.pk))
    assert page.status_code == 200  # he may look: it covers his county
    assert 'name="duty_phone"' not in page.content.decode()
    response = client.post(_url("rescuecentre", "change", centre.pk), _centre_data(centre, duty_phone="13800000000"))
    assert response.status_code == 403
    assert RescueCentre.objects.get(pk=centre.pk).duty_phone == "0591-83375120"


def test_county_admin_changes_the_centre_of_his_county(client, personas, admins):
    centre = personas.centres.a
    client.force_login(admins.county)
    response = client.post(_url("rescuecentre", "change", centre.pk), _centre_data(centre, duty_phone="0591-22060888"))
    assert response.status_code == 302
    assert RescueCentre.objects.get(pk=centre.pk).duty_phone == "0591-22060888"


def test_county_admin_cannot_stretch_his_centre_over_the_city(client, personas, admins):
    centre = personas.centres.a
    client.force_login(admins.county)
    response = client.post(_url("rescuecentre", "change", centre.pk),
                           _centre_data(centre, regions=[personas.regions.county_a.pk, personas.regions.fuzhou.pk]))
    assert response.status_code == 200
    assert set(RescueCentre.objects.get(pk=centre.pk).regions.values_list("pk", flat=True)) == {"350121"}


def test_county_admin_cannot_rename_the_province_or_his_own_county(client, personas, admins):
    client.force_login(admins.county)
    for region in (personas.regions.fujian, personas.regions.county_a):
        response = client.post(_url("region", "change", region.pk),
                               {"name": "改名", "level": region.level, "parent": region.parent_id or "", **REASON})
        assert (region.code, response.status_code) == (region.code, 403)
        assert Region.objects.get(pk=region.pk).name == region.name


def test_city_admin_renames_a_county_of_his_city_not_the_city(client, personas, admins):
    client.force_login(admins.city)
    county = personas.regions.county_a
    response = client.post(_url("region", "change", county.pk),
                           {"name": "闽侯", "level": county.level, "parent": county.parent_id, **REASON})
    assert response.status_code == 302 and Region.objects.get(pk=county.pk).name == "闽侯"
    city = personas.regions.fuzhou
    response = client.post(_url("region", "change", city.pk),
                           {"name": "榕城", "level": city.level, "parent": city.parent_id, **REASON})
    assert response.status_code == 403 and Region.objects.get(pk=city.pk).name == "福州市"
    # Moving a county into another city leaves his area.
    response = client.post(_url("region", "change", county.pk),
                           {"name": county.name, "level": county.level, "parent": personas.regions.xiamen.pk,
                            **REASON})
    assert response.status_code == 200 and Region.objects.get(pk=county.pk).parent_id == "350100"


def test_region_code_is_not_editable_on_change(client, personas, admins):
    # The code is the primary key: a changed code would overwrite the region of that code.
    client.force_login(admins.root)
    county = personas.regions.county_a2
    client.post(_url("region", "change", county.pk),
                {"code": "350212", "name": "鼓楼区", "level": county.level, "parent": county.parent_id, **REASON})
    assert Region.objects.get(pk="350212").name == "同安区"


def test_county_admin_changes_institutions_of_his_county_only(client, personas, admins):
    client.force_login(admins.county)
    city = personas.inst.mch_city
    response = client.post(_url("institution", "change", city.pk), _institution_data(city, name="假医院"))
    assert response.status_code == 403 and Institution.objects.get(pk=city.pk).name == city.name
    own = personas.inst.hospital_a
    response = client.post(_url("institution", "change", own.pk), _institution_data(own, region="350100"))
    assert response.status_code == 200 and Institution.objects.get(pk=own.pk).region_id == "350121"
    response = client.post(_url("institution", "change", own.pk), _institution_data(own, name="闽侯县总医院"))
    assert response.status_code == 302 and Institution.objects.get(pk=own.pk).name == "闽侯县总医院"
    response = client.post(_url("institution", "add"), _institution_data(
        Institution(code="T-NEW-0001", name="福州新医院", kind=Institution.Kind.MIDWIFERY_HOSPITAL, level=2, region_id="350100")))
    assert response.status_code == 200 and not Institution.objects.filter(name="福州新医院").exists()


def test_history_revert_is_a_change(client, personas, admins):
    # django-simple-history saves a POSTed revert for anyone who may view the record.
    centre = personas.centres.city
    centre.duty_phone = "0591-83375121"
    centre._change_reason = "换号"
    centre.save()
    version = centre.history.earliest()
    client.force_login(admins.county)
    url = reverse("admin:organisations_rescuecentre_simple_history", args=[centre.pk, version.history_id])
    response = client.post(url, _centre_data(centre, duty_phone="13800000000"))
    assert response.status_code == 403
    assert RescueCentre.objects.get(pk=centre.pk).duty_phone == "0591-83375121"
    out_of_sight = personas.centres.b
    url = reverse("admin:organisations_rescuecentre_simple_history",
                  args=[out_of_sight.pk, out_of_sight.history.earliest().history_id])
    assert client.get(url).status_code == 404


# 4. Role groups are nationwide: only a superuser changes their permissions.

def test_county_admin_cannot_edit_a_role_group(client, personas, admins):
    roles_sync()
    group = Group.objects.get(name=Role.OBSTETRICIAN)
    before = set(group.permissions.values_list("pk", flat=True))
    view_woman = Permission.objects.get(content_type__app_label="cases", codename="view_woman")
    client.force_login(admins.county)
    assert client.get(_url("group", "change", group.pk)).status_code == 200  # he may look
    response = client.post(_url("group", "change", group.pk),
                           {"name": group.name, "permissions": list(before - {view_woman.pk})})
    assert response.status_code == 403
    assert set(group.permissions.values_list("pk", flat=True)) == before
    assert personas.users.obstetrician_b.has_perm("cases.view_woman")
    assert client.post(_url("group", "add"), {"name": "新角色"}).status_code == 403


def test_system_admin_role_no_longer_carries_group_change(admins):
    group = Group.objects.get(name=Role.SYSTEM_ADMIN)
    group.permissions.add(Permission.objects.get(content_type__app_label="auth", codename="change_group"))
    roles_sync()
    fresh = User.objects.get(pk=admins.county.pk)
    assert fresh.has_perm("auth.view_group") and not fresh.has_perm("auth.change_group")


def test_superuser_edits_a_role_group(client, admins):
    roles_sync()
    group = Group.objects.get(name=Role.EXPERT_REVIEWER)
    client.force_login(admins.root)
    response = client.post(_url("group", "change", group.pk), {"name": group.name, "permissions": []})
    assert response.status_code == 302 and not group.permissions.exists()


@pytest.mark.parametrize("model", ["region", "institution", "rescuecentre", "membership", "user", "group"])
def test_county_admin_pages_render(client, personas, admins, model):
    roles_sync()
    client.force_login(admins.county)
    assert client.get(_url(model, "changelist")).status_code == 200
    objects = {"region": personas.regions.fujian, "institution": personas.inst.mch_city,
               "rescuecentre": personas.centres.province, "membership": admins.county.memberships.get(),
               "user": admins.county, "group": Group.objects.get(name=Role.OBSTETRICIAN)}
    assert client.get(_url(model, "change", objects[model].pk)).status_code == 200
    if model != "group":
        assert client.get(_url(model, "add")).status_code == 200


def test_a_city_centre_hosted_in_his_county_is_not_the_county_admins(client, personas, admins):
    host = Institution.objects.create(code="T-MH-0002", name="闽侯县第二医院", kind=Institution.Kind.MIDWIFERY_HOSPITAL, level=3,
                                      region=personas.regions.county_a)
    centre = RescueCentre.objects.create(institution=host, level=RescueCentre.Level.CITY, duty_phone="0591-22000120")
    centre.regions.set([personas.regions.fuzhou])
    client.force_login(admins.county)
    response = client.post(_url("rescuecentre", "change", centre.pk), _centre_data(centre, duty_phone="13800000000"))
    assert response.status_code == 403
    response = client.post(_url("institution", "change", host.pk), _institution_data(host, is_active=""))
    assert response.status_code == 403 and Institution.objects.get(pk=host.pk).is_active
    # Nor may he make a hospital of his county a centre above his own level.
    other = Institution.objects.create(code="T-MH-0003", name="闽侯县第三医院", kind=Institution.Kind.MIDWIFERY_HOSPITAL, level=3,
                                       region=personas.regions.county_a)
    response = client.post(_url("rescuecentre", "add"), {
        "institution": other.pk, "level": RescueCentre.Level.PROVINCE, "duty_phone": "0591-22000121",
        "contact_note": "", "is_active": "on", "regions": [personas.regions.county_a.pk], **REASON})
    assert response.status_code == 200 and not RescueCentre.objects.filter(institution=other).exists()
    response = client.post(_url("rescuecentre", "add"), {
        "institution": other.pk, "level": RescueCentre.Level.COUNTY, "duty_phone": "0591-22000121",
        "contact_note": "", "is_active": "on", "regions": [personas.regions.county_a.pk], **REASON})
    assert response.status_code == 302 and RescueCentre.objects.filter(institution=other).exists()


@pytest.mark.django_db
def test_demo_minhou_admin_is_held_to_his_county(client):
    from django.core.management import call_command

    from organisations.demo import DEMO_PASSWORD

    call_command("seed_demo", stdout=None)
    roles_sync()
    # django-axes needs the request on authenticate; the test client passes it on as a credential.
    assert client.login(request=HttpRequest(), username="minhou_admin", password=DEMO_PASSWORD)
    me = User.objects.get(username="minhou_admin")
    client.post(_url("user", "change", me.pk), _user_data(me, is_staff="on", is_superuser="on"))
    assert not User.objects.get(pk=me.pk).is_superuser
    city = RescueCentre.objects.get(institution__name="福州市妇幼保健院")
    assert client.get(_url("rescuecentre", "change", city.pk)).status_code == 200
    assert client.post(_url("rescuecentre", "change", city.pk),
                       _centre_data(city, duty_phone="13800000000")).status_code == 403
    province = Institution.objects.get(name="福建省妇幼保健院")
    client.post(_url("membership", "add"), {"user": me.pk, "institution": province.pk, "role": Role.MCH_OFFICER,
                                            "is_active": "on", **REASON})
    assert not Membership.objects.filter(user=me, institution=province).exists()
    group = Group.objects.get(name=Role.OBSTETRICIAN)
    assert client.post(_url("group", "change", group.pk), {"name": group.name, "permissions": []}).status_code == 403
    assert group.permissions.exists()
