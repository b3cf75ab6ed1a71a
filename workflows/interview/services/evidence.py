"""Evidence of a party's rectification (整改佐证材料): files checked by type and content before anything is
written; added by the party while its plan or report is due, and by the convening bureau until verified."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import PurePosixPath
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.models import InterviewAttachment, InterviewParty
from organisations.http import ActionDenied, TransitionConflict
from workflows.common import save_with_history, uploads_validate
from workflows.interview import permissions as p
from workflows.interview.services.interview import _locked_party, _party_reason

__all__ = ["interview_evidence_attach"]


def interview_evidence_attach(*, party: InterviewParty, by: Any, uploads: Iterable[Any]) -> list[InterviewAttachment]:
    uploads = uploads_validate(InterviewAttachment, uploads)
    with transaction.atomic():
        party = _locked_party(party)
        if not p.may_attach_evidence(by, party):
            raise ActionDenied(_party_reason(party))
        if not p.can_attach_evidence(by, party):
            raise TransitionConflict(_("This step is no longer open: it is now “%(state)s”.")
                                     % {"state": party.get_state_display()})
        now, saved = timezone.now(), []
        for upload in uploads:
            attachment = InterviewAttachment(party=party, file=upload, name=PurePosixPath(upload.name).name[:200],
                                             content_type=InterviewAttachment.content_type_of(upload.name),
                                             size=upload.size, uploaded_by=by, uploaded_at=now)
            save_with_history(attachment, by=by, reason="attached")
            saved.append(attachment)
    return saved
