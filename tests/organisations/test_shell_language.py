"""Texts of the shell users met in English or in the wrong Chinese word: the 403 page is Anmu's shell
in both languages, the institution list heads its name column 名称 and counts its rows in zh-hans,
AVPU "Alert" is 清醒 on the referral form and the printed 转诊单."""

from __future__ import annotations

import pytest
from django.urls import reverse

from cases.models import Referral
from tests.workflows.referral.helpers import refer, rescue_staff


def test_a_refusal_renders_in_anmus_shell_with_its_reason_in_both_languages(client, personas):
    # A primary-care doctor's roles do not open high-risk case management (the app's denied_reason).
    client.force_login(personas.users.primary_a)
    url = reverse("highrisk:index")
    response = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans")
    body = response.content.decode()
    assert response.status_code == 403
    assert "Django Material" not in body and "vf-page-lockscreen" not in body
    assert 'data-testid="forbidden"' in body and "无权访问" in body and "安母" in body
    assert "您的角色不包括高危专案管理。" in body.split('data-testid="forbidden-reason"', 1)[1][:200]
    assert 'data-testid="alert-bell"' in body  # the shell's toolbar, not a lock screen
    assert "vf-page__menu-primary" in body and 'href="/referrals/"' in body  # and its menu, to go on from there
    english = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Access Forbidden" in english and "Your role does not include high-risk case management." in english
    assert "Django Material" not in english


def test_a_service_refusal_shows_the_services_reason(client, personas):
    staff = rescue_staff(personas)
    referral = refer(personas)
    client.force_login(personas.users.obstetrician_a)  # the sender cannot accept her own referral
    response = client.post(reverse("referral:action", args=[referral.pk, "accept"]), {"team": "x"})
    assert response.status_code == 403
    body = response.content.decode()
    assert 'data-testid="forbidden-reason"' in body and "Django Material" not in body
    assert staff.city1.username not in body


def test_institution_list_heads_the_name_column_mingcheng_and_counts_in_chinese(client, personas):
    client.force_login(personas.users.mch_a)
    body = client.get(reverse("organisations:institution:index"), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    head = body.split("<thead", 1)[1].split("</thead>", 1)[0]
    assert "名称" in head and "姓名" not in head
    assert " of " not in body.split("vf-list__pagination-summary", 1)[1][:200]
    assert "条，共" in body.split("vf-list__pagination-summary", 1)[1][:200]
    english = client.get(reverse("organisations:institution:index"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert " of " in english.split("vf-list__pagination-summary", 1)[1][:200]


@pytest.mark.parametrize("where", ["form", "print"])
def test_avpu_alert_is_qingxing(client, personas, where):
    staff = rescue_staff(personas)
    if where == "form":
        client.force_login(personas.users.obstetrician_a)
        pregnancy = refer(personas).pregnancy
        body = client.get(reverse("referral:new") + f"?pregnancy={pregnancy.pk}").content.decode()
        field = body.split('name="consciousness"', 1)[1].split("</select>", 1)[0]
    else:
        referral = refer(personas)
        Referral.objects.filter(pk=referral.pk).update(consciousness=Referral.Consciousness.ALERT)
        client.force_login(staff.city1)
        field = client.get(reverse("referral:print", args=[referral.pk])).content.decode()
    assert "清醒" in field and "提醒" not in field


def test_a_record_out_of_scope_is_a_404_in_anmus_shell_with_the_menu(client, personas):
    import uuid

    client.force_login(personas.users.obstetrician_a)
    url = reverse("highrisk:case_detail", args=[uuid.uuid4()])
    body = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert 'data-testid="not-found"' in body and "不在您可查看的范围内" in body
    assert "vf-page-lockscreen" not in body and "vf-page__menu-primary" in body
    unmatched = client.get("/no-such-page/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert unmatched.status_code == 404 and 'data-testid="not-found"' in unmatched.content.decode()
