"""The review-panel API: meetings (list, create, read, agenda, opinion, finalise) and the conclusion's 12-cell
table, delays, meeting and opinions, with the 400/403/404/409 contract."""

from __future__ import annotations

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from cases.models import DeathReviewConclusion, ReviewMeeting
from tests.workflows.death.helpers import CONCLUSION, investigated, reviewers

pytestmark = pytest.mark.django_db
MEETINGS = "/api/death-review-meetings/"
REPORTS = "/api/death-reports/"


def post(user, path, data=None):  # type: ignore[no-untyped-def]
    client = APIClient()
    client.force_login(user)
    return client.post(path, data or {}, format="json")


def get(user, path):  # type: ignore[no-untyped-def]
    client = APIClient()
    client.force_login(user)
    return client.get(path)


def test_meetings_by_api_from_call_to_finalised_minutes(personas):
    r = reviewers(personas)
    report = investigated(personas)
    body = {"region": personas.regions.county_a.code, "held_on": str(timezone.localdate()), "place": "会议室",
            "chair": str(r.county.public_id), "members": [str(r.county.public_id), str(r.county2.public_id)]}
    assert post(personas.users.mch_b, MEETINGS, body).status_code == 403
    bad = post(personas.users.mch_a, MEETINGS, {**body, "members": [str(r.county_b.public_id)]})
    assert bad.status_code == 400 and "members" in bad.json()
    created = post(personas.users.mch_a, MEETINGS, body)
    assert created.status_code == 201, created.json()
    data = created.json()
    assert data["level"] == "county" and data["state"] == "planned"
    assert {m["id"] for m in data["members"]} == {str(r.county.public_id), str(r.county2.public_id)}
    pk = data["id"]
    assert [m["id"] for m in get(r.county, MEETINGS).json()["results"]] == [pk]
    assert get(r.county_b, MEETINGS).json()["results"] == []
    assert get(r.county_b, f"{MEETINGS}{pk}/").status_code == 404
    assert post(r.county2, f"{MEETINGS}{pk}/add-case/", {"report": str(report.pk)}).status_code == 403
    added = post(personas.users.mch_a, f"{MEETINGS}{pk}/add-case/", {"report": str(report.pk)})
    assert added.status_code == 200 and added.json()["reports"] == [str(report.pk)]
    # The conclusion carries the table, the delays, the meeting and the opinions.
    conclude = f"{REPORTS}{report.pk}/conclude/"
    cells = {"health_system_knowledge": True, "health_system_knowledge_note": "识别延误", "delay_receiving": True}
    refused = post(r.county, conclude, {**CONCLUSION, **cells, "meeting": pk})
    assert refused.status_code == 400 and set(refused.json()) == {"delay_receiving_note"}
    opinions = [{"member": str(r.county2.public_id), "agrees": False, "dissent": "应为不可避免"}]
    done = post(r.county, conclude, {**CONCLUSION, **cells, "delay_receiving_note": "输血延迟", "meeting": pk,
                                     "opinions": opinions})
    assert done.status_code == 200, done.json()
    out = done.json()["conclusions"][0]
    assert out["meeting"] == pk and out["health_system_knowledge"] is True and out["individual_knowledge"] is None
    assert out["delay_receiving_note"] == "输血延迟"
    assert out["opinions"][0]["member"] == str(r.county2.public_id) and out["opinions"][0]["agrees"] is False
    conclusion = DeathReviewConclusion.objects.get()
    own = post(r.county, f"{MEETINGS}{pk}/opinion/", {"conclusion": str(conclusion.pk), "agrees": True})
    assert own.status_code == 200
    assert {o["member"] for o in own.json()["conclusions"][0]["opinions"]} == {str(r.county.public_id),
                                                                               str(r.county2.public_id)}
    assert post(r.county2, f"{MEETINGS}{pk}/finalise/").status_code == 403
    final = post(r.county, f"{MEETINGS}{pk}/finalise/", {"notes": "讨论 1 例"})
    assert final.status_code == 200 and final.json()["state"] == "held" and final.json()["notes"] == "讨论 1 例"
    assert post(r.county, f"{MEETINGS}{pk}/finalise/").status_code == 409
    assert post(r.county, f"{MEETINGS}{pk}/opinion/", {"conclusion": str(conclusion.pk), "agrees": True}
                ).status_code == 409
    assert ReviewMeeting.objects.get().state == "held"


def test_a_meeting_of_another_level_is_a_field_error_and_outsiders_are_refused(personas):
    r = reviewers(personas)
    report = investigated(personas)
    city = post(r.mch_city, MEETINGS, {"region": personas.regions.fuzhou.code, "held_on": str(timezone.localdate()),
                                       "chair": str(r.city.public_id), "members": [str(r.city.public_id)]}).json()
    agenda = post(r.mch_city, f"{MEETINGS}{city['id']}/add-case/", {"report": str(report.pk)})
    assert agenda.status_code == 400 and "report" in agenda.json()  # not at city level yet
    assert post(r.county, f"{REPORTS}{report.pk}/conclude/", {**CONCLUSION, "meeting": city["id"]}).status_code == 400
    assert get(personas.users.outsider, MEETINGS).status_code == 403
