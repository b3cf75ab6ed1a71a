"""The interviews-and-circulars application opens for every active member: a desk for bureau and MCH
officers, an inbox for everyone else; nobody without a membership."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def get(user, path="/interview/"):  # type: ignore[no-untyped-def]
    c = Client()
    c.force_login(user)
    return c.get(path)


def test_the_bureau_gets_its_desk_a_hospital_its_inbox_an_outsider_nothing(personas):
    desk = get(personas.users.bureau_a)
    assert desk.status_code == 200 and "约谈通报工作台" in desk.content.decode()
    inbox = get(personas.users.obstetrician_a)
    assert inbox.status_code == 200 and "通知与通报" in inbox.content.decode()
    assert get(personas.users.outsider).status_code == 403
