"""The investigation's documents: who may add them when, the checks on each file, the scoped and logged
download, and the API's multipart step."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from rest_framework.test import APIClient

from cases.models import DeathAttachment
from organisations.http import ActionDenied, TransitionConflict
from organisations.models import AccessLog
from tests.workflows.death.helpers import CONCLUSION, died_on_case, investigated, reviewers
from workflows.death import services as ds

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path


def pdf(name: str = "病历复印件.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"%PDF-1.4 record", content_type="application/pdf")


def client(user):  # type: ignore[no-untyped-def]
    c = Client()
    c.force_login(user)
    return c


def test_the_reporter_attaches_the_record_while_the_card_is_hers_and_the_mch_officer_until_closed(personas):
    u = personas.users
    report = died_on_case(personas)
    [saved] = ds.death_report_attach(report=report, by=u.obstetrician_a, uploads=[pdf()], description="病历")
    assert saved.name == "病历复印件.pdf" and saved.content_type == "application/pdf" and saved.size == 15
    assert "病历复印件" not in saved.file.name  # the name on disk never carries what the user typed
    assert saved.history.get().history_user == u.obstetrician_a
    with pytest.raises(ActionDenied):
        ds.death_report_attach(report=report, by=u.obstetrician_b, uploads=[pdf()])
    report = investigated(personas)
    with pytest.raises(TransitionConflict):  # the card has left her hands
        ds.death_report_attach(report=report, by=u.obstetrician_a, uploads=[pdf()])
    ds.death_report_attach(report=report, by=u.mch_a, uploads=[pdf("尸检报告.pdf"), pdf("访谈.pdf")])
    assert report.attachments.count() == 2
    experts = reviewers(personas)
    with pytest.raises(ActionDenied):  # reviewers read the documents; they do not add to the file
        ds.death_report_attach(report=report, by=experts.county, uploads=[pdf()])
    unavoidable = {**CONCLUSION, "avoidability": "unavoidable"}
    report = ds.death_report_conclude(report=report, by=experts.county, **unavoidable)
    ds.death_report_attach(report=report, by=u.mch_a, uploads=[pdf("补充材料.pdf")])  # under city review
    report = ds.death_report_conclude(report=report, by=experts.city, **unavoidable)
    report = ds.death_report_close(report=report, by=experts.mch_city)
    with pytest.raises(TransitionConflict):  # closed is locked
        ds.death_report_attach(report=report, by=u.mch_a, uploads=[pdf()])


def test_one_bad_file_refuses_them_all_with_its_name(personas):
    report = died_on_case(personas)
    fake = SimpleUploadedFile("化验单.pdf", b"MZ not a pdf")
    with pytest.raises(ValidationError) as refused:
        ds.death_report_attach(report=report, by=personas.users.obstetrician_a, uploads=[pdf(), fake])
    assert "化验单.pdf" in str(refused.value.message_dict["files"])
    with pytest.raises(ValidationError):
        ds.death_report_attach(report=report, by=personas.users.obstetrician_a, uploads=[])
    assert not DeathAttachment.objects.exists()


def test_the_page_uploads_and_the_download_is_scoped_and_logged(personas):
    u = personas.users
    report = died_on_case(personas)
    page = client(u.obstetrician_a).get(f"/death/{report.pk}/")
    assert 'data-step="attach"' in page.content.decode()
    posted = client(u.obstetrician_a).post(f"/death/{report.pk}/files/", {"documents": [pdf()], "description": "病历"})
    assert posted.status_code == 302
    attachment = report.attachments.get()
    bad = client(u.obstetrician_a).post(f"/death/{report.pk}/files/", {"documents": [SimpleUploadedFile("x.pdf", b"MZ")]})
    assert bad.status_code == 422 and report.attachments.count() == 1
    assert "x.pdf" in bad.content.decode()  # the refusal names the file
    url = f"/death/{report.pk}/files/{attachment.pk}/"
    got = client(u.mch_a).get(url)
    assert got.status_code == 200 and b"".join(got.streaming_content) == b"%PDF-1.4 record"
    assert got["Content-Disposition"].startswith("attachment")
    assert AccessLog.objects.filter(user=u.mch_a, action=AccessLog.Action.EXPORT, object_id=str(report.pk)).exists()
    assert client(u.mch_b).get(url).status_code == 404
    assert client(u.obstetrician_b).post(f"/death/{report.pk}/files/", {"documents": [pdf()]}).status_code == 404
    assert client(u.primary_a).get(url).status_code == 404  # a clinician sees her own institution's reports only


def test_the_api_takes_documents_as_multipart_and_lists_them_on_the_detail(personas):
    u = personas.users
    report = died_on_case(personas)
    api = APIClient()
    api.force_login(u.obstetrician_a)
    made = api.post(f"/api/death-reports/{report.pk}/attachments/", {"files": [pdf()], "description": "病历"},
                    format="multipart")
    assert made.status_code == 201, made.content
    [listed] = made.json()["attachments"]
    assert listed["name"] == "病历复印件.pdf" and listed["url"].endswith(f"/files/{listed['id']}/")
    bad = api.post(f"/api/death-reports/{report.pk}/attachments/", {"files": [SimpleUploadedFile("a.pdf", b"no")]},
                   format="multipart")
    assert bad.status_code == 400 and "files" in bad.json()
    other = APIClient()
    other.force_login(u.mch_b)
    assert other.post(f"/api/death-reports/{report.pk}/attachments/", {"files": [pdf()]},
                      format="multipart").status_code == 404
