"""Drafting, editing and finalising a report: who may, what is refused, and that a finalised report is frozen."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import translation

from cases.models import SelfInspectionReport
from cases.selectors import visible_selfinspection_reports
from organisations.http import ActionDenied, TransitionConflict
from tests.indicators import factories as f
from workflows.selfinspection import services as svc
from workflows.selfinspection.kinds import kind_of

from .conftest import YEAR, D, screen
from .test_report import rows

NARRATIVE = {"measures": "开展产科急救演练4次。", "problems": "转诊应答超时。", "next_steps": "落实24小时值班。"}


def title(personas, kind="self_inspection"):  # type: ignore[no-untyped-def]
    with translation.override(settings.LANGUAGE_CODE):
        return kind_of(kind).title_for(region=personas.regions.county_a, year=YEAR)


def draft(personas, **kwargs):  # type: ignore[no-untyped-def]
    return svc.selfinspection_create(by=personas.users.mch_a, region=personas.regions.county_a, year=YEAR, **kwargs)


def test_a_county_officer_drafts_for_her_county(personas):  # type: ignore[no-untyped-def]
    report = draft(personas)
    assert (report.state, report.kind, report.year, report.region_id) == ("draft", "self_inspection", 2025, "350121")
    assert report.created_by == personas.users.mch_a
    first = report.history.get()
    assert (first.history_user, first.history_change_reason) == (personas.users.mch_a, "report drafted")
    bureau = svc.selfinspection_create(by=personas.users.bureau_a, region=personas.regions.county_a, year=YEAR,
                                       kind=SelfInspectionReport.Kind.SELF_EVALUATION)
    assert bureau.kind == "self_evaluation"


def test_a_city_officer_drafts_for_the_city_not_for_a_county(personas):  # type: ignore[no-untyped-def]
    u, r = personas.users, personas.regions
    city = svc.selfinspection_create(by=u.bureau_city, region=r.fuzhou, year=YEAR)
    assert city.region_id == "350100"
    with pytest.raises(ActionDenied):
        svc.selfinspection_create(by=u.bureau_city, region=r.county_a, year=YEAR)
    for outsider in (u.mch_b, u.obstetrician_a, u.reviewer_province, u.outsider):
        with pytest.raises(ActionDenied):
            svc.selfinspection_create(by=outsider, region=r.county_a, year=YEAR)
    assert not SelfInspectionReport.objects.filter(region=r.county_a).exists()


def test_one_report_per_region_year_and_kind(personas):  # type: ignore[no-untyped-def]
    draft(personas)
    with pytest.raises(ValidationError) as refused:
        svc.selfinspection_create(by=personas.users.bureau_a, region=personas.regions.county_a, year=YEAR)
    assert "year" in refused.value.message_dict
    with pytest.raises(ValidationError) as future:
        svc.selfinspection_create(by=personas.users.mch_a, region=personas.regions.county_a, year=2999)
    assert "year" in future.value.message_dict
    with pytest.raises(ValidationError) as kind:
        draft(personas, kind="annual_party")
    assert "kind" in kind.value.message_dict


def test_editing_the_narrative(personas):  # type: ignore[no-untyped-def]
    report = svc.selfinspection_update(report=draft(personas), by=personas.users.bureau_a, **NARRATIVE)
    assert report.measures == NARRATIVE["measures"] and report.updated_by == personas.users.bureau_a
    latest = report.history.first()
    assert (latest.history_user, latest.history_change_reason) == (personas.users.bureau_a, "narrative edited")
    with pytest.raises(ValidationError) as too_long:
        svc.selfinspection_update(report=report, by=personas.users.mch_a, measures="长" * 10_001, problems="",
                                  next_steps="")
    assert "measures" in too_long.value.message_dict
    for other in (personas.users.bureau_city, personas.users.mch_b):
        with pytest.raises(ActionDenied):
            svc.selfinspection_update(report=report, by=other, **NARRATIVE)
    assert SelfInspectionReport.objects.get(pk=report.pk).measures == NARRATIVE["measures"]


def test_finalising_needs_every_section(personas):  # type: ignore[no-untyped-def]
    report = svc.selfinspection_update(report=draft(personas), by=personas.users.mch_a,
                                       measures="做了", problems="  ", next_steps="")
    with pytest.raises(ValidationError) as refused:
        svc.selfinspection_finalise(report=report, by=personas.users.mch_a)
    assert set(refused.value.message_dict) == {"problems", "next_steps"}
    assert SelfInspectionReport.objects.get(pk=report.pk).state == "draft"


def test_a_finalised_report_does_not_change_when_the_records_do(seeded):  # type: ignore[no-untyped-def]
    personas = seeded.personas
    report = svc.selfinspection_update(report=draft(personas), by=personas.users.mch_a, **NARRATIVE)
    report = svc.selfinspection_finalise(report=report, by=personas.users.bureau_a)
    assert (report.state, report.finalised_by) == ("finalised", personas.users.bureau_a)
    assert report.history.first().history_change_reason == "report finalised"
    frozen = svc.report_content(SelfInspectionReport.objects.get(pk=report.pk))
    assert rows(frozen, "screening")["screenings"]["value"] == 3
    assert frozen["title"] == title(personas)  # the document as filed, in the site's language

    screen(seeded.p1, institution=seeded.hospital_a, by=personas.users.obstetrician_a,
           when=f.at(D(2025, 11, 1)), positive=True)
    again = svc.report_content(SelfInspectionReport.objects.get(pk=report.pk))
    assert again == frozen
    live = svc.report_live(region=personas.regions.county_a, year=YEAR, kind="self_inspection")
    assert rows(live, "screening")["screenings"]["value"] == 4  # the records did change

    with pytest.raises(TransitionConflict):
        svc.selfinspection_update(report=report, by=personas.users.mch_a, **NARRATIVE)
    with pytest.raises(TransitionConflict):
        svc.selfinspection_finalise(report=report, by=personas.users.mch_a)


def test_the_selector_scopes_reports_to_the_area(personas):  # type: ignore[no-untyped-def]
    u, r = personas.users, personas.regions
    county = draft(personas)
    city = svc.selfinspection_create(by=u.bureau_city, region=r.fuzhou, year=YEAR)
    assert set(visible_selfinspection_reports(u.mch_a)) == {county}
    assert set(visible_selfinspection_reports(u.bureau_city)) == {county, city}
    assert set(visible_selfinspection_reports(u.bureau_province)) == {county, city}
    for nobody in (u.mch_b, u.bureau_gd, u.obstetrician_a, u.duty_a, u.reviewer_province, u.outsider):
        assert not visible_selfinspection_reports(nobody).exists()
