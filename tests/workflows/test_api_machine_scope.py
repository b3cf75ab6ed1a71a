"""Machine clients of another county (issue 17): a hospital's HIS and an MCH platform of 同安区 (county B, in
厦门) hold tokens and the roles that would let them act in their own county. Against the records of 闽侯县
(county A) every operation of the API that names a record answers 403 or 404 and changes nothing, every
list leaves them out, and a write that points at one of them is refused on that field. The same
operations answer the clients of county A, so the ids are real and reachable by a machine.

The operations are read from the OpenAPI document, so an endpoint added later is covered without a
change here (a resource with no record below fails the test until it gets one)."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any

import pytest
from django.apps import apps
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from cases.models import Delivery, ImprovementMeasure, Pregnancy, Referral, Visit
from cases.rules import screening_items, settings_for
from organisations.models import Role
from organisations.services import api_client_create, api_token_issue
from tests.personas import MembershipFactory, UserFactory
from tests.workflows.death.helpers import investigated, reviewers
from tests.workflows.highrisk.test_services import open_case
from tests.workflows.interview.helpers import notified
from tests.workflows.referral.helpers import refer, rescue_staff
from tests.workflows.routine.test_services import pregnancy_at
from workflows.death import services as ds
from workflows.evaluation import services as es
from workflows.interview import services as cs
from workflows.routine import services as routine
from workflows.routine.services import BabyData
from workflows.screening import services as ss

pytestmark = pytest.mark.django_db

# A draft circular is seen by the bureau that drafts it only: county A's clients do not see it either (the
# denial of county B is still asserted).
NOT_OF_COUNTY_A = {"circulars"}
# The province's evaluation round is read by every area that takes part in it, county B too.
PROVINCE_WIDE = {"evaluation-rounds"}


def _client(admin: Any, institution: Any, roles: list[str], name: str) -> APIClient:
    machine = api_client_create(by=admin, name=name, system=name, institution=institution, roles=roles,
                                reason="machine client created")
    token = api_token_issue(client=machine, by=admin, reason="token issued")[1]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


@pytest.fixture
def machines(personas: Any) -> SimpleNamespace:
    inst = personas.inst
    admin_a = UserFactory(username="admin_a", is_staff=True)
    MembershipFactory(user=admin_a, institution=inst.bureau_a, role=Role.SYSTEM_ADMIN)
    admin_b = UserFactory(username="admin_b", is_staff=True)
    MembershipFactory(user=admin_b, institution=inst.mch_b, role=Role.SYSTEM_ADMIN)
    clinical = [Role.OBSTETRICIAN, Role.DUTY_DOCTOR]
    return SimpleNamespace(
        his_a=_client(admin_a, inst.hospital_a, [Role.OBSTETRICIAN], "闽侯县医院 HIS"),
        mch_a=_client(admin_a, inst.mch_a, [Role.MCH_OFFICER], "闽侯县妇幼平台"),
        his_b=_client(admin_b, inst.hospital_b, clinical, "厦门市第三医院 HIS"),
        mch_b=_client(admin_b, inst.mch_b, [Role.MCH_OFFICER], "同安区妇幼平台"),
    )


def _county_a_records(personas: Any) -> dict[str, str]:
    """One record of county A per resource of the API, each in a state where its steps are offered."""
    u, inst = personas.users, personas.inst
    doctor, hospital = u.obstetrician_a, inst.hospital_a
    rescue_staff(personas)
    referral = refer(personas)
    pregnancy = referral.pregnancy
    screening = ss.screening_record(pregnancy=pregnancy, institution=hospital, by=doctor, answers={
        item.code: False for item in screening_items(settings_for(hospital)) if item.required})
    assessment = ss.assessment_record(pregnancy=pregnancy, institution=hospital, by=doctor, stage="dynamic",
                                      inputs={"age_years": 36, "pa_pressure_mmhg": 55})
    case = open_case(personas)
    visit = routine.visit_record(pregnancy=pregnancy, by=doctor, kind="antenatal", date=timezone.localdate(),
                                 institution=hospital)
    delivery = routine.delivery_record(
        pregnancy=pregnancy_at(hospital), by=doctor, delivered_at=timezone.now() - dt.timedelta(days=1),
        place="institution", institution=hospital, mode="spontaneous", babies=[BabyData("live", "female", 3100)])
    report = investigated(personas)
    measure = ds.death_measure_set(report=report, by=u.mch_a, text="建立产后出血快速输血通道", owner_institution=hospital,
                                   due_on=timezone.localdate() + dt.timedelta(days=30))
    panel = reviewers(personas)
    meeting = ds.death_meeting_create(region=personas.regions.county_a, held_on=timezone.localdate(), place="会议室",
                                      chair=panel.county, members=[panel.county], by=u.mch_a)
    circular = cs.circular_create(issuer=inst.bureau_city, by=u.bureau_city, kind="criticise",
                                  title="关于转诊响应超时的通报", number="榕卫妇幼通〔2026〕9号", body="经查。")
    evaluation = es.round_open(by=u.bureau_province, province=personas.regions.fujian, year=2025, level="county")
    submission = evaluation.submissions.get(region=personas.regions.county_a, centre__isnull=True)
    return {
        "women": str(pregnancy.woman_id), "pregnancies": str(pregnancy.pk),
        "screenings": str(screening.pk), "assessments": str(assessment.pk),
        "highrisk-cases": str(case.pk), "referrals": str(referral.pk), "visits": str(visit.pk),
        "deliveries": str(delivery.pk), "death-reports": str(report.pk), "improvement-measures": str(measure.pk),
        "death-review-meetings": str(meeting.pk), "interviews": str(notified(personas).pk),
        "circulars": str(circular.pk), "evaluation-rounds": str(evaluation.pk),
        "evaluation-submissions": str(submission.pk),
        "institutions": str(inst.hospital_a.pk), "rescue-centres": str(personas.centres.city.pk),
    }


def _operations() -> list[tuple[str, str]]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return [(path, method) for path, operations in schema["paths"].items() if "{format}" not in path
            for method in operations if method in ("get", "post")]


def _history_rows() -> dict[str, int]:
    return {model._meta.label: model.objects.count() for model in apps.get_models()
            if model.__name__.startswith("Historical")}


def _resource(path: str) -> str:
    return path.split("/")[2]


def test_another_countys_machines_are_refused_every_record_of_county_a(personas, machines):
    ids = _county_a_records(personas)
    before = _history_rows()
    operations = _operations()
    assert len(operations) > 100, operations
    answers: list[str] = []
    for path, method in operations:
        if "{id}" not in path:
            continue
        resource = _resource(path)
        assert resource in ids, f"no record of county A for {path}: add one"
        url = path.replace("{id}", ids[resource])
        for name in ("his_b", "mch_b"):
            client = getattr(machines, name)
            response = client.get(url) if method == "get" else client.post(url, {}, format="json")
            if response.status_code not in (403, 404):
                answers.append(f"{name} {method.upper()} {url}: {response.status_code}")
    # Public reference data (institutions, rescue centres) is read by everyone; every case record is refused.
    # The province's round is read by every county that takes part in it; only its steps are refused.
    assert sorted(answers) == [f"mch_b GET /api/evaluation-rounds/{ids['evaluation-rounds']}/: 200",
                               f"mch_b POST /api/evaluation-rounds/{ids['evaluation-rounds']}/sample/: 400"]
    drawn = machines.mch_b.post(f"/api/evaluation-rounds/{ids['evaluation-rounds']}/sample/",
                                {"evaluator": personas.regions.fuzhou.code}, format="json")
    assert drawn.status_code in (400, 403), drawn.content  # not hers to draw: 福州市 evaluates county A
    assert _history_rows() == before  # nothing of county A changed


def test_another_countys_machines_list_none_of_county_a(personas, machines, settings):
    settings.API_SYNC_LAG_SECONDS = 0  # the sync lists show the records just made
    ids = _county_a_records(personas)
    private = {resource: pk for resource, pk in ids.items() if resource not in PROVINCE_WIDE}
    lists = sorted({path for path, method in _operations() if method == "get" and "{id}" not in path
                    and path not in ("/api/me/", "/api/schema/")})
    for path in lists:
        for name in ("his_b", "mch_b"):
            response = getattr(machines, name).get(path)
            assert response.status_code in (200, 400, 403), (name, path, response.status_code)  # 400: needs a filter
            leaked = [resource for resource, pk in private.items() if pk in response.content.decode()]
            assert leaked == [], (name, path, leaked)


def test_county_as_machines_reach_the_same_records(personas, machines, settings):
    """The control: the ids above are real, and a machine of the right county reads each of them."""
    settings.API_SYNC_LAG_SECONDS = 0
    ids = _county_a_records(personas)
    unread = []
    for resource, pk in ids.items():
        if resource in NOT_OF_COUNTY_A:
            continue
        statuses = {machines.his_a.get(f"/api/{resource}/{pk}/").status_code,
                    machines.mch_a.get(f"/api/{resource}/{pk}/").status_code}
        if 200 not in statuses:
            unread.append((resource, statuses))
    assert unread == []
    listed = machines.his_a.get("/api/visits/").json()["results"]
    assert [row["id"] for row in listed] == [ids["visits"]]


def test_a_write_pointing_at_a_record_of_county_a_is_a_field_error_and_nothing_is_made(personas, machines):
    ids = _county_a_records(personas)
    hospital_b = str(personas.inst.hospital_b.pk)
    today = timezone.localdate().isoformat()
    counts = {model: model.objects.count() for model in (Pregnancy, Visit, Delivery, Referral, ImprovementMeasure)}
    writes = {
        "/api/pregnancies/": ({"woman": ids["women"], "institution": hospital_b, "lmp": today, "booking_date": today,
                                "gravidity": 1, "parity": 0}, "woman"),
        "/api/visits/": ({"pregnancy": ids["pregnancies"], "kind": "antenatal", "date": today,
                          "institution": hospital_b}, "pregnancy"),
        "/api/deliveries/": ({"pregnancy": ids["pregnancies"], "delivered_at": timezone.now().isoformat(),
                              "institution": hospital_b, "mode": "spontaneous",
                              "babies": [{"outcome": "live", "sex": "male"}]}, "pregnancy"),
        "/api/referrals/": ({"pregnancy": ids["pregnancies"], "from_institution": hospital_b,
                             "to_centre": str(personas.centres.b.pk), "urgency": "urgent", "reason": "产后出血"},
                            "pregnancy"),
    }
    for path, (body, field) in writes.items():
        response = machines.his_b.post(path, body, format="json")
        assert response.status_code == 400 and field in response.json(), (path, response.status_code,
                                                                          response.content)
    measure = machines.mch_b.post("/api/improvement-measures/", {
        "report": ids["death-reports"], "text": "整改", "owner_institution": hospital_b,
        "due_on": (timezone.localdate() + dt.timedelta(days=30)).isoformat()}, format="json")
    assert measure.status_code == 400 and "report" in measure.json(), measure.content
    assert {model: model.objects.count() for model in counts} == counts
