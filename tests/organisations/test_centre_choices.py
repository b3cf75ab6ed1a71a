"""Choosing a rescue centre: covering centres lowest level first, who is on duty now, free beds kept
current by the centre's duty doctors."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from organisations.http import ActionDenied
from organisations.models import DutyShift
from organisations.selectors import referral_centre_choices, transfer_on_choices
from organisations.services import centre_beds_update
from tests.notifications.helpers import put_on_roster


def test_covering_centres_lowest_level_first_with_who_is_on_duty(personas):
    put_on_roster(personas.users.duty_a, personas.inst.hospital_a)
    put_on_roster(personas.users.obstetrician_a, personas.inst.hospital_a, kind=DutyShift.Kind.ON_CALL)
    choices = referral_centre_choices(institution=personas.inst.primary_a)
    assert [c.centre for c in choices] == [personas.centres.a, personas.centres.city, personas.centres.province]
    assert choices[0].on_duty == [personas.users.duty_a]
    assert choices[0].on_call == [personas.users.obstetrician_a]
    assert choices[1].on_duty == [] and choices[0].duty_phone == "0591-22060999"
    assert [c.centre for c in referral_centre_choices(institution=personas.inst.hospital_b)] == [
        personas.centres.b, personas.centres.province]


def test_transfer_on_choices_are_centres_then_hospitals_nearest_level_first(personas):
    """Issue 11 item 9: from the city centre, the provincial centre that covers it comes first, then the
    province's county centres, then hospitals; never a bureau, an MCH office, primary care, itself or
    another province."""
    inst = personas.inst
    choices = list(transfer_on_choices(institution=inst.mch_city))
    county_centres = sorted([inst.hospital_a, inst.hospital_b], key=lambda i: i.name)
    assert choices == [inst.mch_province, *county_centres, inst.hospital_a2]
    # From a county centre: its covering city centre, then the province, before the other county centre.
    assert list(transfer_on_choices(institution=inst.hospital_a))[:3] == [inst.mch_city, inst.mch_province,
                                                                         inst.hospital_b]
    personas.centres.b.is_active = False
    personas.centres.b.save()
    # A hospital whose centre is inactive still admits her, as a hospital (after the centres).
    assert list(transfer_on_choices(institution=inst.mch_city))[-2:] == sorted(
        [inst.hospital_b, inst.hospital_a2], key=lambda i: (-i.level, i.name))


def test_duty_doctors_keep_their_beds_current(personas):
    centre = centre_beds_update(centre=personas.centres.a, by=personas.users.duty_a, icu=2, delivery=5)
    assert (centre.icu_beds_available, centre.delivery_beds_available, centre.beds_updated_by) == (
        2, 5, personas.users.duty_a)
    row = centre.history.latest()
    assert (row.history_user, row.history_change_reason) == (personas.users.duty_a, "beds updated")
    with pytest.raises(ActionDenied):
        centre_beds_update(centre=personas.centres.a, by=personas.users.duty_b, icu=9, delivery=9)
    with pytest.raises(ActionDenied):
        centre_beds_update(centre=personas.centres.a, by=personas.users.obstetrician_a, icu=9, delivery=9)
    with pytest.raises(ValidationError):
        centre_beds_update(centre=personas.centres.a, by=personas.users.duty_a, icu=-1, delivery=3)


def test_beds_on_the_home_pages(client, personas):
    client.force_login(personas.users.duty_a)
    response = client.post(reverse("organisations:centre_beds", args=[personas.centres.a.pk]),
                           {"icu": "3", "delivery": "7"})
    assert response.status_code == 302
    bad = client.post(reverse("organisations:centre_beds", args=[personas.centres.a.pk]), {"icu": "x"})
    assert bad.status_code == 302
    client.force_login(personas.users.obstetrician_a)
    body = client.get(reverse("index")).content.decode()
    assert 'data-testid="covering-centre"' in body and "闽侯县医院" in body
    client.force_login(personas.users.duty_b)
    assert client.post(reverse("organisations:centre_beds", args=[personas.centres.a.pk]),
                       {"icu": "1", "delivery": "1"}).status_code == 404
    personas.centres.a.refresh_from_db()
    assert (personas.centres.a.icu_beds_available, personas.centres.a.delivery_beds_available) == (3, 7)
