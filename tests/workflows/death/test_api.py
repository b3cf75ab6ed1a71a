"""The death-report API: create, scoped list and detail, one POST per step, and the 400/403/404/409 contract."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from cases.models import DeathReport, Pregnancy
from tests.personas import book_woman
from tests.workflows.death.helpers import CARD, CONCLUSION, died_on_case, investigated, reported, reviewers
from tests.workflows.highrisk.test_concurrency import race
from workflows.death import services as ds

pytestmark = pytest.mark.django_db
LIST = "/api/death-reports/"


def api(user):  # type: ignore[no-untyped-def]
    client = APIClient()
    client.force_login(user)
    return client


def post(user, path, data=None):  # type: ignore[no-untyped-def]
    return api(user).post(path, data or {}, format="json")


def test_create_on_a_pregnancy_then_card_report_verify_by_api(personas):
    woman = book_woman(at=personas.inst.hospital_a)
    pregnancy = Pregnancy.objects.get(woman=woman)
    died = (timezone.now() - dt.timedelta(hours=1)).isoformat()
    body = {"institution": str(personas.inst.hospital_a.pk), "pregnancy": str(pregnancy.pk), "died_at": died,
            "note": "家中分娩后出血"}
    denied = post(personas.users.obstetrician_b, LIST, {**body})
    assert denied.status_code == 400 and "institution" in denied.json()  # not an institution where she reports
    created = post(personas.users.obstetrician_a, LIST, body)
    assert created.status_code == 201, created.json()
    data = created.json()
    assert data["state"] == "drafted" and data["origin"] == "pregnancy"
    assert data["woman_id_number"] != woman.id_number and data["woman_id_number"].endswith(woman.id_number[-4:])
    pk = data["id"]
    again = post(personas.users.obstetrician_a, LIST, body)
    assert again.status_code == 409
    bad = post(personas.users.obstetrician_a, f"{LIST}{pk}/card/", {**CARD, "icd10": "Z99"})
    assert bad.status_code == 400 and "icd10" in bad.json()
    incomplete = post(personas.users.obstetrician_a, f"{LIST}{pk}/report/")
    assert incomplete.status_code == 400 and "cause_a" in incomplete.json()
    assert post(personas.users.obstetrician_a, f"{LIST}{pk}/card/", CARD).status_code == 200
    assert post(personas.users.obstetrician_a, f"{LIST}{pk}/card/", {"state": "closed"}).json().get("state") \
        == "drafted"  # the state is not an input
    assert post(personas.users.obstetrician_b, f"{LIST}{pk}/report/").status_code == 404  # out of her scope
    assert post(personas.users.mch_b, f"{LIST}{pk}/report/").status_code == 404
    reported_ = post(personas.users.obstetrician_a, f"{LIST}{pk}/report/")
    assert reported_.status_code == 200 and reported_.json()["state"] == "reported"
    assert post(personas.users.obstetrician_a, f"{LIST}{pk}/report/").status_code == 409
    refused = post(personas.users.obstetrician_a, f"{LIST}{pk}/verify/")
    assert refused.status_code == 403 and refused.json()["detail"]
    assert post(personas.users.mch_a, f"{LIST}{pk}/return/", {}).status_code == 400
    verified = post(personas.users.mch_a, f"{LIST}{pk}/verify/")
    assert verified.status_code == 200 and verified.json()["verified_at"]


def test_list_and_detail_are_scoped_and_filter_by_clock(personas):
    report = reported(personas)
    mine = api(personas.users.mch_a).get(LIST).json()
    assert [row["id"] for row in mine["results"]] == [str(report.pk)]
    assert "woman_id_number" not in mine["results"][0]
    assert api(personas.users.mch_b).get(LIST).json()["results"] == []
    assert api(personas.users.mch_b).get(f"{LIST}{report.pk}/").status_code == 404
    assert api(personas.users.mch_a).get(f"{LIST}{uuid.uuid4()}/").status_code == 404
    assert api(personas.users.mch_a).get(f"{LIST}?clock=on_time").json()["count"] == 1
    assert api(personas.users.mch_a).get(f"{LIST}?clock=overdue").json()["count"] == 0
    DeathReport.objects.filter(pk=report.pk).update(card_due_at=timezone.now() - dt.timedelta(minutes=1))
    assert api(personas.users.mch_a).get(f"{LIST}?clock=overdue").json()["count"] == 1
    assert api(personas.users.mch_a).get(f"{LIST}?clock=nonsense").status_code == 400
    assert api(personas.users.outsider).get(LIST).status_code == 403


def test_review_steps_by_api_and_exclusion(personas):
    r = reviewers(personas)
    report = investigated(personas)
    path = f"{LIST}{report.pk}/conclude/"
    assert post(r.county_b, path, CONCLUSION).status_code == 404
    assert post(r.county, path, {**CONCLUSION, "icd10": "bad"}).status_code == 400
    done = post(r.county, path, CONCLUSION)
    assert done.status_code == 200 and done.json()["state"] == "review_city"
    assert done.json()["conclusions"][0]["avoidability"] == "avoidable"
    other = died_on_case(personas)
    excluded = post(personas.users.mch_a, f"{LIST}{other.pk}/exclude/", {"reason": "自杀，无抑郁症诊断"})
    assert excluded.status_code == 200 and excluded.json()["state"] == "excluded"
    assert post(personas.users.mch_a, f"{LIST}{other.pk}/exclude/", {"reason": "again"}).status_code == 409


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_reviewers_concluding_at_once_one_wins_the_other_gets_409(national_data, personas):
    if connection.vendor != "postgresql":
        pytest.skip("Concurrent transitions need PostgreSQL (the CI PostgreSQL leg runs this).")
    r = reviewers(personas)
    for _round in range(5):
        report = investigated(personas)
        results = race(
            lambda rep=report: ds.death_report_conclude(report=rep, by=r.county, **CONCLUSION),
            lambda rep=report: ds.death_report_conclude(report=rep, by=r.county2,
                                                        **{**CONCLUSION, "avoidability": "unavoidable"}),
        )
        assert sorted(kind for kind, _value in results) == ["denied", "ok"], results
        report.refresh_from_db()
        assert report.state == DeathReport.State.REVIEW_CITY
        assert report.conclusions.count() == 1
        assert report.history.filter(history_change_reason__startswith="county review concluded").count() == 1
