"""The investigation's documents (核查材料) on a death report: uploaded by the reporters while the card is
theirs, and by the county MCH officer until the report is closed."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import PurePosixPath
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.models import DeathAttachment, DeathReport
from organisations.http import ActionDenied, TransitionConflict
from workflows.common import save_with_history, uploads_validate
from workflows.death import permissions as p
from workflows.death.services.base import _locked

__all__ = ["death_report_attach", "death_attachments_validate"]


def death_attachments_validate(uploads: Iterable[Any]) -> list[Any]:
    """The documents' checks (``uploads_validate``): one bad file refuses them all."""
    return uploads_validate(DeathAttachment, uploads)


def death_report_attach(*, report: DeathReport, by: Any, uploads: Iterable[Any],
                        description: str = "") -> list[DeathAttachment]:
    """Add documents to the report. A locked (closed) or excluded report takes no more."""
    uploads = death_attachments_validate(uploads)
    with transaction.atomic():
        report = _locked(report)
        if not p.may_attach(by, report):
            raise ActionDenied(_("Only the reporting institution and the county MCH officer add documents to this "
                                 "report."))
        if not p.can_attach(by, report):
            raise TransitionConflict(_("This step is no longer open: the report is now “%(state)s”.")
                                     % {"state": report.get_state_display()})
        now, saved = timezone.now(), []
        for upload in uploads:
            attachment = DeathAttachment(report=report, file=upload, name=PurePosixPath(upload.name).name[:200],
                                         description=(description or "").strip()[:120],
                                         content_type=DeathAttachment.content_type_of(upload.name),
                                         size=upload.size, uploaded_by=by, uploaded_at=now)
            save_with_history(attachment, by=by, reason="attached")
            saved.append(attachment)
    return saved
