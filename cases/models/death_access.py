"""Break-the-glass on a maternal death (孕产妇死亡评审 · 查看实名资料): an expert reviewer works on the
de-identified review packet; to see the identified record she gives a reason, the county MCH officer is
told, and she sees it for a window of the province's hours. Each opening is a row here, listed on the
report page for the MCH officers.

Re-exported by ``cases.models``; written only by ``workflows/death/services/packet.py``.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from cases.limits import reason_field
from cases.models.death import DeathReport


class DeathRecordAccess(models.Model):
    """One break-the-glass: who opened the identified record of a death, when, why, and until when."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    report = models.ForeignKey(DeathReport, verbose_name=_("death report"), on_delete=models.PROTECT,
                               related_name="record_accesses")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("opened by"), on_delete=models.PROTECT,
                             related_name="+")
    reason = reason_field(_("why the identified record is needed"))
    opened_at = models.DateTimeField(_("opened at"), db_index=True)
    expires_at = models.DateTimeField(_("identified view until"))
    history = HistoricalRecords()

    class Meta:
        ordering = ["-opened_at"]
        verbose_name = _("identified-record access")
        verbose_name_plural = _("identified-record accesses")
        indexes = [models.Index(fields=["report", "user", "expires_at"], name="death_access_window_idx")]

    def __str__(self) -> str:
        return f"{self.report_id} · {self.user} · {self.opened_at:%Y-%m-%d %H:%M}"

    @property
    def is_active(self) -> bool:
        return self.expires_at > timezone.now()
