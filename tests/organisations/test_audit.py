"""History rows carry user and reason; the history page shows them and is scoped like its record;
reads of personal records are logged for the area's officers."""

from __future__ import annotations

import logging

import pytest
from django.urls import reverse

from organisations.logging import MaskPersonalDataFilter
from organisations.models import AccessLog, Institution, Membership, Role
from organisations.personal import mask_id_number, mask_phone
from organisations.services import membership_grant
from tests.personas import book_woman


def test_service_change_records_user_and_reason(personas):
    admin = personas.users.bureau_a
    membership = membership_grant(user=personas.users.outsider, institution=personas.inst.primary_a,
                                  role=Role.PRIMARY_CARE, by=admin, reason="新入职")
    row = membership.history.latest()
    assert row.history_type == "+"
    assert row.history_user == admin
    assert row.history_change_reason == "新入职"


def test_admin_edit_requires_reason_and_records_it(client, personas):
    from django.contrib.auth import get_user_model

    root = get_user_model().objects.create_superuser("root", password="root-password-1")
    client.force_login(root)
    inst = personas.inst.hospital_a
    url = reverse("admin:organisations_institution_change", args=[inst.pk])
    data = {"code": inst.code, "name": "闽侯县总医院", "kind": inst.kind, "level": inst.level, "region": inst.region_id,
            "phone": "", "is_active": "on"}
    refused = client.post(url, data)
    assert refused.status_code == 200  # the form comes back with an error, nothing saved
    assert Institution.objects.get(pk=inst.pk).name == "闽侯县医院"
    saved = client.post(url, {**data, "change_reason": "医院更名"})
    assert saved.status_code == 302
    row = Institution.objects.get(pk=inst.pk).history.latest()
    assert (row.name, row.history_user, row.history_change_reason) == ("闽侯县总医院", root, "医院更名")


def test_history_page_shows_who_what_why_in_chinese(client, personas):
    inst = personas.inst.hospital_a
    inst.name = "闽侯县总医院"
    inst._history_user = personas.users.bureau_a
    inst._change_reason = "医院更名"
    inst.save()
    client.force_login(personas.users.mch_a)
    body = client.get(reverse("history", args=["organisations.institution", inst.pk])).content.decode()
    assert "医院更名" in body
    assert str(personas.users.bureau_a) in body
    assert "闽侯县医院" in body and "闽侯县总医院" in body
    assert "修改" in body  # the kind of change, in zh-hans


def test_history_page_is_scoped_like_the_record(client, personas):
    client.force_login(personas.users.mch_b)
    response = client.get(reverse("history", args=["organisations.institution", personas.inst.mch_a.pk]))
    assert response.status_code == 404
    unknown = client.get(reverse("history", args=["auth.permission", "1"]))
    assert unknown.status_code == 404


def test_woman_history_masks_numbers(client, personas):
    woman = book_woman(at=personas.inst.hospital_a)
    client.force_login(personas.users.obstetrician_a)
    body = client.get(reverse("history", args=["cases.woman", woman.pk])).content.decode()
    assert woman.id_number not in body and mask_id_number(woman.id_number) in body
    assert woman.phone not in body and mask_phone(woman.phone) in body


def test_opening_a_record_is_logged_and_reviewed_in_scope(client, personas):
    woman = book_woman(at=personas.inst.hospital_a)
    client.force_login(personas.users.obstetrician_a)
    client.get(reverse("cases:woman_detail", args=[woman.pk]))
    entry = AccessLog.objects.get()
    assert (entry.user, entry.action, entry.object_id) == (personas.users.obstetrician_a, "view", str(woman.pk))
    assert woman.id_number not in entry.summary

    client.force_login(personas.users.mch_a)
    assert woman.name in client.get(reverse("organisations:access_log")).content.decode()
    client.force_login(personas.users.mch_b)
    assert woman.name not in client.get(reverse("organisations:access_log")).content.decode()
    client.force_login(personas.users.obstetrician_a)
    assert client.get(reverse("organisations:access_log")).status_code == 403


def test_membership_role_must_fit_institution(personas):
    from django.core.exceptions import ValidationError

    bad = Membership(user=personas.users.outsider, institution=personas.inst.primary_a, role=Role.BUREAU_OFFICER)
    with pytest.raises(ValidationError):
        bad.full_clean()
    not_a_centre = Membership(user=personas.users.outsider, institution=personas.inst.hospital_a2,
                              role=Role.DUTY_DOCTOR)
    with pytest.raises(ValidationError):
        not_a_centre.full_clean()


def test_log_lines_never_carry_phone_or_id_numbers():
    record = logging.LogRecord("anmu", logging.INFO, __file__, 1, "sms to %s for %s", ("13812345678",
                               "350121199305170018"), None)
    MaskPersonalDataFilter().filter(record)
    message = record.getMessage()
    assert "13812345678" not in message and "138****5678" in message
    assert "350121199305170018" not in message and "350121********0018" in message
