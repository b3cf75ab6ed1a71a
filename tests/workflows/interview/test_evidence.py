"""Evidence of a party's rectification: who adds it when, the checks on each file, the scoped logged download."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from cases.models import InterviewParty
from organisations.http import ActionDenied, TransitionConflict
from organisations.models import AccessLog
from tests.workflows.interview.helpers import heads, held, notified
from workflows.interview import services as svc

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path


def pdf(name: str = "整改台账.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"%PDF-1.4 evidence", content_type="application/pdf")


def hospital_party(interview):  # type: ignore[no-untyped-def]
    return InterviewParty.objects.get(interview=interview, institution__name="闽侯县医院")


def test_the_party_adds_evidence_while_rectifying_and_never_before_the_interview(personas):
    h = heads(personas)
    party = hospital_party(notified(personas))
    with pytest.raises(TransitionConflict):
        svc.interview_evidence_attach(party=party, by=h.hospital_a, uploads=[pdf()])


def test_evidence_steps_and_the_download(personas):
    h, u = heads(personas), personas.users
    party = hospital_party(held(personas))
    [saved] = svc.interview_evidence_attach(party=party, by=h.hospital_a, uploads=[pdf()])
    assert saved.history.get().history_user == h.hospital_a and "整改台账" not in saved.file.name
    with pytest.raises(ActionDenied):
        svc.interview_evidence_attach(party=party, by=h.primary_a, uploads=[pdf()])  # another party's head
    with pytest.raises(ValidationError) as bad:
        svc.interview_evidence_attach(party=party, by=h.hospital_a, uploads=[SimpleUploadedFile("x.pdf", b"MZ")])
    assert "x.pdf" in str(bad.value.message_dict["files"])
    svc.interview_evidence_attach(party=party, by=u.bureau_a, uploads=[pdf("现场核查.pdf")])  # the bureau too
    client = Client()
    client.force_login(h.hospital_a)
    posted = client.post(f"/interview/{party.interview_id}/party/{party.pk}/files/", {"documents": [pdf("培训记录.pdf")]})
    assert posted.status_code == 302 and party.attachments.count() == 3
    url = f"/interview/{party.interview_id}/party/{party.pk}/files/{saved.pk}/"
    got = client.get(url)
    assert got.status_code == 200 and b"".join(got.streaming_content) == b"%PDF-1.4 evidence"
    assert AccessLog.objects.filter(user=h.hospital_a, action=AccessLog.Action.EXPORT).exists()
    client.force_login(h.hospital_b)
    assert client.get(url).status_code == 404
    client.force_login(personas.users.obstetrician_a)  # a clinician of the hospital: not who answers for it
    assert client.get(url).status_code == 404
