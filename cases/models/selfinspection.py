"""Self-inspection reports (自查自纠报告) and the evaluation's self-evaluation reports (自评报告): one report per
region (of any level), year and kind, drafted by the region's MCH or bureau officers.

The figures and the problems found are computed live from the records (workflows/selfinspection) while the
report is a draft; finalising freezes them as JSON on the row (``snapshot``), so a finalised report never
changes when the records do. The narrative sections are real columns, edited with history.

    draft → finalised

Re-exported by ``cases.models``. The state changes only through the transition below, run by
``workflows/selfinspection/services.py``.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition
from simple_history.models import HistoricalRecords

from cases.limits import narrative_field
from organisations.models import Region

# The narrative sections, in the order of the report: (field name, what the section is called in a
# self-inspection report). Another kind names them its own way (workflows/selfinspection/kinds.py).
NARRATIVE_FIELDS = ("measures", "problems", "next_steps")


class SelfInspectionReport(ConcurrentTransitionMixin, models.Model):
    """A region's report on a year of the five systems: the figures, the problems found, and three narrative
    sections the officers write (measures taken, problems and their causes, next steps)."""

    class Kind(models.TextChoices):
        SELF_INSPECTION = "self_inspection", _("Self-inspection report (自查自纠报告)")
        SELF_EVALUATION = "self_evaluation", _("Self-evaluation report (自评报告)")

    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        FINALISED = "finalised", _("Finalised")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.SELF_INSPECTION,
                            editable=False)
    region = models.ForeignKey(Region, verbose_name=_("area"), on_delete=models.PROTECT, related_name="+",
                               editable=False)
    year = models.PositiveSmallIntegerField(_("year"), editable=False,
                                            validators=[MinValueValidator(2000), MaxValueValidator(2100)],
                                            help_text=_("The data year: 1 January to 31 December."))
    state = FSMField(_("state"), default=State.DRAFT, choices=State.choices, editable=False, db_index=True)
    measures = narrative_field(_("measures taken"), blank=True)
    problems = narrative_field(_("problems and their causes"), blank=True)
    next_steps = narrative_field(_("next steps"), blank=True)
    # The figures and problems as they were when the report was finalised ({"sections": [...], "problems":
    # [...], "as_of": ...}); empty while a draft, whose figures are computed live.
    snapshot = models.JSONField(_("figures as finalised"), default=dict, blank=True, editable=False)
    created_at = models.DateTimeField(_("drafted at"), auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("drafted by"), on_delete=models.PROTECT,
                                   related_name="+", editable=False)
    updated_at = models.DateTimeField(_("last changed at"), auto_now=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("last changed by"),
                                   on_delete=models.PROTECT, related_name="+", editable=False)
    finalised_at = models.DateTimeField(_("finalised at"), null=True, blank=True, editable=False)
    finalised_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("finalised by"), null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+", editable=False)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-year", "region_id", "kind"]
        verbose_name = _("self-inspection report")
        verbose_name_plural = _("self-inspection reports")
        constraints = [models.UniqueConstraint(fields=["region", "year", "kind"],
                                               name="selfinspection_once_per_region_year_kind")]

    def __str__(self) -> str:
        return f"{self.region_id} {self.year} {self.get_kind_display()}"

    @property
    def is_final(self) -> bool:
        return self.state == self.State.FINALISED

    @transition(field=state, source=State.DRAFT, target=State.FINALISED)
    def finalise(self, *, by: Any, at: Any, snapshot: dict[str, Any]) -> None:
        self.snapshot, self.finalised_at, self.finalised_by = snapshot, at, by
