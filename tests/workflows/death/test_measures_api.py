"""The improvement-measure API: create on a death under review, scoped list and detail, one POST per step, and
the 400/403/404/409 contract; a measure names the report by its reference, never the woman."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from cases.models import ImprovementMeasure
from tests.workflows.death.helpers import investigated, reported
from tests.workflows.referral.helpers import member
from workflows.death import services as ds

pytestmark = pytest.mark.django_db
LIST = "/api/improvement-measures/"


def post(user, path, data=None):  # type: ignore[no-untyped-def]
    client = APIClient()
    client.force_login(user)
    return client.post(path, data or {}, format="json")


def get(user, path):  # type: ignore[no-untyped-def]
    client = APIClient()
    client.force_login(user)
    return client.get(path)


def body(personas, report, **extra):  # type: ignore[no-untyped-def]
    return {"report": str(report.pk), "text": "建立产后出血快速输血通道", "due_on": (timezone.localdate()
            + dt.timedelta(days=30)).isoformat(), "owner_institution": str(personas.inst.hospital_a.pk), **extra}


def test_set_done_reject_done_verify_by_api(personas):
    report = investigated(personas)
    u = personas.users
    assert post(u.obstetrician_a, LIST, body(personas, report)).status_code == 403  # sees it, may not set
    assert post(u.mch_b, LIST, body(personas, report)).status_code == 400  # the report is out of her scope
    bad = post(u.mch_a, LIST, body(personas, report, due_on="2020-01-01", text=""))
    assert bad.status_code == 400 and {"text"} <= set(bad.json())
    past = post(u.mch_a, LIST, body(personas, report, due_on="2020-01-01"))
    assert past.status_code == 400 and "due_on" in past.json()
    created = post(u.mch_a, LIST, {**body(personas, report), "state": "verified"})
    assert created.status_code == 201, created.json()
    data = created.json()
    assert data["state"] == "open" and data["level"] == "county" and data["reference"].startswith("350121-")
    assert report.woman.name not in str(data)
    pk = data["id"]
    assert post(u.bureau_a, f"{LIST}{pk}/verify/").status_code == 409  # not done yet
    assert post(u.primary_a, f"{LIST}{pk}/done/", {"evidence": "已完成"}).status_code == 404  # not hers to see
    assert post(u.bureau_a, f"{LIST}{pk}/done/", {"evidence": "已完成"}).status_code == 403  # sees it, not the owner
    assert post(u.obstetrician_a, f"{LIST}{pk}/done/", {}).status_code == 400
    done = post(u.obstetrician_a, f"{LIST}{pk}/done/", {"evidence": "已完成，见演练记录"})
    assert done.status_code == 200 and done.json()["state"] == "done"
    assert post(u.obstetrician_a, f"{LIST}{pk}/done/", {"evidence": "再次"}).status_code == 409
    assert post(u.bureau_gd, f"{LIST}{pk}/verify/").status_code == 404
    assert post(u.mch_a, f"{LIST}{pk}/verify/").status_code == 403
    assert post(u.bureau_a, f"{LIST}{pk}/reject/", {}).status_code == 400
    rejected = post(u.bureau_a, f"{LIST}{pk}/reject/", {"reason": "缺少签到表"})
    assert rejected.status_code == 200 and rejected.json()["state"] == "open" and rejected.json()["rejections"] == 1
    post(u.obstetrician_a, f"{LIST}{pk}/done/", {"evidence": "附签到表"})
    verified = post(u.bureau_a, f"{LIST}{pk}/verify/", {"note": "现场核实"})
    assert verified.status_code == 200 and verified.json()["state"] == "verified"
    assert post(u.mch_a, f"{LIST}{pk}/cancel/", {"reason": "重复"}).status_code == 409


def test_set_on_a_report_not_under_review_is_a_conflict(personas):
    report = reported(personas)
    ds.death_report_verify(report=report, by=personas.users.mch_a)
    report.refresh_from_db()
    report.review_levels = ["county"]
    report.save()
    assert post(personas.users.mch_a, LIST, body(personas, report)).status_code == 409


def test_the_list_is_scoped_and_filters_by_tab(personas):
    report = investigated(personas)
    measure = ds.death_measure_set(report=report, by=personas.users.mch_a, text="措施一",
                                   owner_institution=personas.inst.hospital_a2,
                                   due_on=timezone.localdate() + dt.timedelta(days=5))
    ImprovementMeasure.objects.filter(pk=measure.pk).update(due_on=timezone.localdate() - dt.timedelta(days=1))
    gulou = member("obstetrician_gulou", personas.inst.hospital_a2, "obstetrician")
    assert [m["id"] for m in get(personas.users.bureau_a, LIST).json()["results"]] == [str(measure.pk)]
    assert [m["id"] for m in get(gulou, f"{LIST}?tab=overdue&mine=true").json()["results"]] == [str(measure.pk)]
    assert get(gulou, f"{LIST}?tab=open").json()["results"] == []
    assert get(personas.users.mch_b, LIST).json()["results"] == []
    assert get(personas.users.mch_b, f"{LIST}{measure.pk}/").status_code == 404
    detail = get(gulou, f"{LIST}{measure.pk}/")
    assert detail.status_code == 200 and detail.json()["overdue"] is True
    assert get(gulou, f"/api/death-reports/{report.pk}/").status_code == 404  # the report stays out of her scope
    assert get(personas.users.bureau_a, f"{LIST}?tab=nonsense").status_code == 400


def test_the_schema_documents_every_measure_endpoint(personas):
    client = APIClient()
    client.force_login(personas.users.obstetrician_a)
    response = client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert set(paths[LIST]) == {"get", "post"}
    assert set(paths["/api/improvement-measures/{id}/"]) == {"get"}
    assert {"400", "403", "409"} <= set(paths[LIST]["post"]["responses"])
    for step in ("done", "verify", "reject", "cancel"):
        operation = paths[f"/api/improvement-measures/{{id}}/{step}/"]["post"]
        assert {"200", "400", "403", "404", "409"} <= set(operation["responses"]), step
        assert "·" in operation["summary"], step
    assert "state" not in paths[LIST]["post"]["requestBody"]["content"]["application/json"]["schema"].get(
        "properties", {})


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_bureau_officers_answering_at_once_one_wins_the_other_gets_409(national_data, personas):
    from django.db import connection

    from tests.workflows.highrisk.test_concurrency import race

    if connection.vendor != "postgresql":
        pytest.skip("Concurrent transitions need PostgreSQL (the CI PostgreSQL leg runs this).")
    report = investigated(personas)
    for _round in range(5):
        measure = ds.death_measure_set(report=report, by=personas.users.mch_a, text="措施",
                                       owner_institution=personas.inst.hospital_a,
                                       due_on=timezone.localdate() + dt.timedelta(days=9))
        ds.death_measure_mark_done(measure=measure, by=personas.users.obstetrician_a, evidence="已完成")
        results = race(
            lambda m=measure: ds.death_measure_verify(measure=m, by=personas.users.bureau_a),
            lambda m=measure: ds.death_measure_reject(measure=m, by=personas.users.bureau_city, reason="证据不足"),
        )
        assert sorted(kind for kind, _value in results) == ["denied", "ok"], results
        fresh = ImprovementMeasure.objects.get(pk=measure.pk)
        assert fresh.state in ("verified", "open")
        assert fresh.history.filter(history_change_reason__in=["verified by the bureau", "evidence rejected: 证据不足"]
                                    ).count() == 1
