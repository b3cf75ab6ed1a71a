"""The round pages: opening a round from the page, a submission's page and its steps posted from it, the
refusals (a 422 with the message, never a 500), the denials (another county's submission is not found) and
the xlsx export."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from cases.models import EvaluationRound, EvaluationSubmission
from organisations.models import Role
from tests.personas import _member

pytestmark = pytest.mark.django_db
YEAR = 2025


@pytest.fixture
def opened(client, personas):  # type: ignore[no-untyped-def]
    client.force_login(personas.users.bureau_province)
    response = client.post(reverse("evaluation:rounds"), {"province": "350000", "year": YEAR, "level": "county"})
    round_ = EvaluationRound.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("evaluation:round", args=[round_.pk])
    return round_


def test_the_province_opens_a_round_and_a_county_cannot(client, personas, opened):  # type: ignore[no-untyped-def]
    page = client.get(reverse("evaluation:rounds")).content.decode()
    assert 'data-testid="evaluation-round-row"' in page and 'data-testid="round-open"' in page
    again = client.post(reverse("evaluation:rounds"), {"province": "350000", "year": YEAR, "level": "county"})
    assert again.status_code == 422 and "role=\"alert\"" in again.content.decode()
    client.force_login(personas.users.bureau_a)
    page = client.get(reverse("evaluation:rounds")).content.decode()
    assert 'data-testid="round-open"' not in page and 'data-testid="evaluation-round-row"' in page
    assert client.post(reverse("evaluation:rounds"), {"province": "350000", "year": YEAR,
                                                      "level": "city"}).status_code == 403


def test_a_centre_fills_in_and_submits_from_its_page(client, personas, opened):  # type: ignore[no-untyped-def]
    head = _member("head_a", personas.inst.hospital_a, Role.HEAD)
    submission = opened.submissions.get(centre=personas.centres.a)
    client.force_login(head)
    page = client.get(reverse("evaluation:submission", args=[submission.pk])).content.decode()
    assert page.count('data-testid="score-row"') == 3 and 'data-testid="submit"' in page
    act = lambda action, **data: client.post(  # noqa: E731
        reverse("evaluation:submission_act", args=[submission.pk, action]), data)
    refused = act("submit", summary="小结")
    assert refused.status_code == 422 and 'data-testid="problem"' in refused.content.decode()
    score = submission.scores.get(indicator__number="17")
    assert act("enter", score=score.pk, value="abc", evidence="x").status_code == 422
    assert act("enter", score=score.pk, value="0.4", evidence="执业报告卡").status_code == 302
    assert act("submit", summary="全年救治12例").status_code == 302
    submission.refresh_from_db()
    assert submission.state == EvaluationSubmission.State.SUBMITTED
    assert act("decide", result="yes").status_code == 403  # the centre does not evaluate itself
    assert act("nonsense").status_code == 404

    client.force_login(personas.users.mch_a)  # the county evaluates its centre
    page = client.get(reverse("evaluation:submission", args=[submission.pk])).content.decode()
    assert 'data-testid="decide"' in page and 'data-testid="evaluation-visit"' in page
    assert act("visit", visited_on="2099-01-01", evaluators="王", findings="x").status_code == 422
    assert act("visit", visited_on="2026-01-05", unannounced="on", evaluators="王主任",
               findings="值班到岗").status_code == 302
    assert act("decide", result="", reason="").status_code == 422
    assert act("decide", result="yes", reason="").status_code == 302  # every target judged is met
    submission.refresh_from_db()
    assert submission.state == EvaluationSubmission.State.PASSED


def test_another_countys_submission_is_not_found(client, personas, opened):  # type: ignore[no-untyped-def]
    theirs = opened.submissions.get(centre=personas.centres.b)
    client.force_login(personas.users.mch_a)
    assert client.get(reverse("evaluation:submission", args=[theirs.pk])).status_code == 404
    assert client.post(reverse("evaluation:submission_act", args=[theirs.pk, "submit"]),
                       {"summary": "x"}).status_code == 404
    round_page = client.get(reverse("evaluation:round", args=[opened.pk])).content.decode()
    assert "厦门市第三医院" not in round_page and "闽侯县医院" in round_page
    client.force_login(personas.users.bureau_gd)
    assert client.get(reverse("evaluation:round", args=[opened.pk])).status_code == 404


def test_the_city_draws_its_sample_and_exports_the_round(client, personas, opened):  # type: ignore[no-untyped-def]
    client.force_login(personas.users.bureau_city)
    page = client.get(reverse("evaluation:round", args=[opened.pk])).content.decode()
    assert 'data-testid="sample-draw"' in page
    drawn = client.post(reverse("evaluation:round_sample", args=[opened.pk]), {"evaluator": "350100"})
    assert drawn.status_code == 302
    page = client.get(reverse("evaluation:round", args=[opened.pk])).content.decode()
    assert page.count('data-testid="sample-area"') == 1
    export = client.get(reverse("evaluation:round_export", args=[opened.pk]))
    book = load_workbook(io.BytesIO(export.content))
    names = [row[0] for row in book.worksheets[0].iter_rows(min_row=2, values_only=True)]
    assert sorted(names) == sorted(["闽侯县", "鼓楼区", "闽侯县医院"])  # the city's, not Xiamen's
