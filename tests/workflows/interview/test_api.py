"""The interview API: propose, the steps of the interview and of each party, and the 400/403/404/409 contract."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from cases.models import Interview, InterviewParty
from tests.workflows.interview.helpers import heads, notified

pytestmark = pytest.mark.django_db
LIST = "/api/interviews/"


def post(user, path, data=None):  # type: ignore[no-untyped-def]
    client = APIClient()
    client.force_login(user)
    return client.post(path, data or {}, format="json")


def test_propose_notify_and_the_party_steps_through_the_api(personas):
    u, inst, h = personas.users, personas.inst, heads(personas)
    made = post(u.bureau_a, LIST, {"bureau": str(inst.bureau_a.pk), "subject": "转诊超时", "reasons": "3次超时",
                                   "parties": [{"institution": str(inst.hospital_a.pk), "summoned": ["head"]}]})
    assert made.status_code == 201, made.content
    body = made.json()
    assert body["state"] == "proposed" and body["parties"][0]["institution_name"] == inst.hospital_a.name
    detail = f"{LIST}{body['id']}/"
    outside = post(u.bureau_a, LIST, {"bureau": str(inst.bureau_a.pk), "subject": "x", "reasons": "y",
                                      "parties": [{"institution": str(inst.hospital_b.pk), "summoned": ["head"]}]})
    assert outside.status_code == 400 and "parties" in outside.json()
    assert post(u.obstetrician_a, LIST, {"bureau": str(inst.bureau_a.pk), "subject": "x", "reasons": "y",
                                         "parties": []}).status_code == 400  # not her bureau: the field refuses it
    when = (timezone.now() + dt.timedelta(days=2)).isoformat()
    assert post(u.bureau_city, f"{detail}notify/", {"number": "1号", "scheduled_at": when, "place": "x"}
                ).status_code == 403  # the city sees it but does not convene the county's interview
    notice = post(u.bureau_a, f"{detail}notify/", {"number": "1号", "scheduled_at": when, "place": "会议室"})
    assert notice.status_code == 200 and notice.json()["state"] == "notified"
    assert post(u.bureau_a, f"{detail}notify/", {"number": "2号", "scheduled_at": when, "place": "x"}
                ).status_code == 409
    party = body["parties"][0]["id"]
    assert post(h.hospital_b, f"{detail}acknowledge/", {"party": party}).status_code == 404
    assert post(h.hospital_a, f"{detail}acknowledge/", {"party": str(uuid.uuid4())}).status_code == 404
    ack = post(h.hospital_a, f"{detail}acknowledge/", {"party": party})
    assert ack.status_code == 200 and ack.json()["parties"][0]["state"] == "acknowledged"


def test_the_rectification_through_the_api(personas):
    u, h = personas.users, heads(personas)
    interview = notified(personas)
    detail = f"{LIST}{interview.pk}/"
    party = str(InterviewParty.objects.get(interview=interview, institution=personas.inst.hospital_a).pk)
    assert post(u.bureau_a, f"{detail}hold/", {"attendance": ""}).status_code == 400
    held = post(u.bureau_a, f"{detail}hold/", {"attendance": "院长", "requirements": "整改",
                                               "statements": {party: "已知晓"}})
    assert held.status_code == 200 and held.json()["state"] == "held"
    assert post(h.hospital_a, f"{detail}plan/", {"party": party, "plan": ""}).status_code == 400
    assert post(h.hospital_a, f"{detail}plan/", {"party": party, "plan": "方案"}).status_code == 200
    assert post(h.hospital_a, f"{detail}accept-plan/", {"party": party}).status_code == 403
    assert post(u.bureau_a, f"{detail}accept-plan/", {"party": party}).status_code == 200
    assert post(h.hospital_a, f"{detail}report/", {"party": party, "report": "已整改"}).status_code == 200
    verified = post(u.bureau_a, f"{detail}verify/", {"party": party, "passed": True, "method": "documents",
                                                     "findings": "材料齐全"})
    assert verified.status_code == 200
    states = {p["state"] for p in verified.json()["parties"]}
    assert "passed" in states and Interview.objects.get(pk=interview.pk).state == "held"  # the other party is not done


def test_the_bureau_exports_its_interviews_and_a_hospital_head_may_not(personas):
    import io

    from django.test import Client
    from openpyxl import load_workbook

    from organisations.models import AccessLog

    notified(personas)
    client = Client()
    client.force_login(personas.users.bureau_a)
    response = client.get("/interview/export/")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content), read_only=True)
    interviews, parties = ([list(r) for r in sheet.iter_rows(values_only=True)] for sheet in book.worksheets)
    assert interviews[1][0] == "闽侯卫约〔2026〕1号" and len(parties) == 3
    assert AccessLog.objects.filter(user=personas.users.bureau_a, object_type="cases.interview").exists()
    client.force_login(heads(personas).hospital_a)
    assert client.get("/interview/export/").status_code == 403
    client.force_login(personas.users.bureau_gd)
    book = load_workbook(io.BytesIO(client.get("/interview/export/").content), read_only=True)
    assert [list(r) for r in book.worksheets[0].iter_rows(values_only=True)][1:] == []  # nothing of Fujian
