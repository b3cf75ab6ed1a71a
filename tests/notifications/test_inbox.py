"""The alert inbox: one's own alerts only, filters, pagination, opening marks read, acknowledge by POST."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_noop

from notifications.models import Alert
from notifications.recipients import to_user
from notifications.services import alert_raise
from organisations.http import ActionDenied

TITLE = gettext_noop("Nobody is on duty at %(institution)s")


def raise_for(user, *, kind="test.note", priority=Alert.Priority.ROUTINE, minutes_ago=0, place="闽侯县医院"):  # type: ignore[no-untyped-def]
    return alert_raise(kind=kind, title=TITLE, params={"institution": place}, to=[to_user(user)], priority=priority,
                       now=timezone.now() - dt.timedelta(minutes=minutes_ago))[0]


def rows(response) -> list[str]:  # type: ignore[no-untyped-def]
    return [a.pk for a in response.context["page"]]


@pytest.fixture
def mine(personas):  # type: ignore[no-untyped-def]
    me = personas.users.obstetrician_a
    return {
        "old_routine": raise_for(me, minutes_ago=30, place="一号"),
        "critical": raise_for(me, priority=Alert.Priority.CRITICAL, kind="roster.gap", minutes_ago=20, place="二号"),
        "urgent": raise_for(me, priority=Alert.Priority.URGENT, minutes_ago=10, place="三号"),
        "new_routine": raise_for(me, kind="roster.shift", minutes_ago=1, place="四号"),
    }


def test_inbox_lists_my_open_alerts_newest_first_and_nobody_elses(client, personas, mine):
    theirs = raise_for(personas.users.obstetrician_b, place="别人的")
    client.force_login(personas.users.obstetrician_a)
    response = client.get(reverse("alerts:index"))
    assert response.status_code == 200
    assert rows(response) == [mine[k].pk for k in ("new_routine", "urgent", "critical", "old_routine")]
    body = response.content.decode()
    assert "四号无人值班" in body and "别人的" not in body and str(theirs.pk) not in body
    assert "我的提醒（4 条未确认）" in body


@pytest.mark.parametrize(("query", "expected"), [
    ({"priority": "critical"}, ["critical"]),
    ({"priority": "routine"}, ["new_routine", "old_routine"]),
    ({"kind": "roster.gap"}, ["critical"]),
    ({"kind": "roster.shift", "priority": "critical"}, []),
    ({"state": "acknowledged"}, ["urgent"]),
    ({"state": "open"}, ["new_routine", "critical", "old_routine"]),
    ({"state": "all"}, ["new_routine", "urgent", "critical", "old_routine"]),
    ({"state": "nonsense", "priority": "nonsense", "kind": "nonsense"}, ["new_routine", "critical", "old_routine"]),
])
def test_inbox_filters(client, personas, mine, query, expected):
    from notifications.services import alert_acknowledge

    alert_acknowledge(alert_id=mine["urgent"].pk, by=personas.users.obstetrician_a)
    client.force_login(personas.users.obstetrician_a)
    response = client.get(reverse("alerts:index"), query)
    assert rows(response) == [mine[k].pk for k in expected]


def test_kind_filter_offers_my_kinds_by_name(client, personas, mine):
    client.force_login(personas.users.obstetrician_a)
    body = client.get(reverse("alerts:index")).content.decode()
    assert '<option value="roster.gap"' in body and "无人值班</option>" in body
    assert "值班表：排班</option>" in body and ">roster.shift<" not in body
    assert '<option value="test.note"' in body  # a kind without a zh name (the tests' own) shows its code


def test_inbox_is_paginated_and_keeps_filters(client, personas):
    me = personas.users.obstetrician_a
    for n in range(30):
        raise_for(me, minutes_ago=n, priority=Alert.Priority.URGENT)
    raise_for(me, priority=Alert.Priority.ROUTINE)
    client.force_login(me)
    first = client.get(reverse("alerts:index"), {"priority": "urgent"})
    links = [part.split('"')[0] for part in first.content.decode().split('href="?')[1:]]
    assert len(rows(first)) == 25 and any("priority=urgent" in link and "page=2" in link for link in links)
    second = client.get(reverse("alerts:index"), {"priority": "urgent", "page": 2})
    assert len(rows(second)) == 5


def test_opening_an_alert_marks_it_read(client, personas, mine):
    alert = mine["critical"]
    client.force_login(personas.users.obstetrician_a)
    response = client.get(reverse("alerts:detail", args=[alert.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    assert "二号无人值班" in body and f'data-anmu-read="{alert.pk}"' in body and "危急" in body
    assert Alert.objects.get(pk=alert.pk).read_at is not None
    assert Alert.objects.get(pk=mine["urgent"].pk).read_at is None


def test_another_persons_alert_is_not_found(client, personas, mine):
    client.force_login(personas.users.obstetrician_b)
    alert = mine["critical"]
    missing = client.get(reverse("alerts:detail", args=[uuid.uuid4()]))
    hidden = client.get(reverse("alerts:detail", args=[alert.pk]))
    assert hidden.status_code == missing.status_code == 404
    assert client.post(reverse("alerts:acknowledge", args=[alert.pk])).status_code == 404
    fresh = Alert.objects.get(pk=alert.pk)
    assert fresh.read_at is None and fresh.acknowledged_at is None


def test_acknowledge_from_the_inbox(client, personas, mine):
    me = personas.users.obstetrician_a
    alert = mine["critical"]
    client.force_login(me)
    back = reverse("alerts:index") + "?priority=critical"
    response = client.post(reverse("alerts:acknowledge", args=[alert.pk]), {"next": back})
    assert response.status_code == 302 and response["Location"] == back
    fresh = Alert.objects.get(pk=alert.pk)
    assert fresh.acknowledged_by == me and fresh.acknowledged_at is not None
    assert fresh.history.latest().history_user == me
    # The critical alert's escalation is cancelled with it.
    from workflows.models import Deadline

    assert not Deadline.objects.filter(kind="alert.escalate", state=Deadline.State.PENDING).exists()
    page = client.get(back, {"state": "acknowledged"}).content.decode()
    assert "已确认：二号无人值班" in page  # the message after the redirect

    # Again: harmless, names the first acknowledgement; an outside "next" is ignored.
    again = client.post(reverse("alerts:acknowledge", args=[alert.pk]), {"next": "https://example.com/"})
    assert again.status_code == 302 and again["Location"] == reverse("alerts:detail", args=[alert.pk])


def test_acknowledge_needs_post(client, personas, mine):
    client.force_login(personas.users.obstetrician_a)
    assert client.get(reverse("alerts:acknowledge", args=[mine["critical"].pk])).status_code == 405


def test_a_refused_acknowledgement_is_a_403_with_the_reason(client, personas, mine, monkeypatch):
    def refuse(**kwargs):  # type: ignore[no-untyped-def]
        raise ActionDenied("这条提醒不是发给您的。")

    monkeypatch.setattr("notifications.views.alert_acknowledge", refuse)
    client.force_login(personas.users.obstetrician_a)
    response = client.post(reverse("alerts:acknowledge", args=[mine["critical"].pk]))
    assert response.status_code == 403 and "这条提醒不是发给您的。" in response.content.decode()


def test_anonymous_is_sent_to_login(client, mine):
    for url in (reverse("alerts:index"), reverse("alerts:detail", args=[mine["critical"].pk])):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_every_page_has_the_bell_linking_to_the_inbox_and_the_script(client, personas):
    client.force_login(personas.users.mch_a)
    body = client.get("/").content.decode()
    assert 'data-testid="alert-bell"' in body and f'href="{reverse("alerts:index")}"' in body
    assert "/static/anmu/alerts.js" in body and 'id="anmu-toasts"' in body
    client.logout()
    login = client.get("/accounts/login/").content.decode()
    assert 'data-testid="alert-bell"' not in login


def test_javascript_catalog_has_the_alert_strings(client):
    body = client.get("/jsi18n/").content.decode()
    for text in ("离线，正在重新连接…", "开启危急提醒声音", "危急"):
        assert json.dumps(text) in body
