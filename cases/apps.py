from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    name = "cases"
    verbose_name = _("Cases")

    def ready(self) -> None:
        from cases import fsm, selectors

        fsm.install()
        from cases.models import (
            Circular,
            DeathReport,
            Delivery,
            HighRiskCase,
            ImprovementMeasure,
            Pregnancy,
            PrenatalReport,
            ReviewMeeting,
            SelfInspectionReport,
            Visit,
            Woman,
        )
        from organisations.history import history_register

        history_register(Woman, selectors.visible_women)
        history_register(Pregnancy, selectors.visible_pregnancies)
        history_register(HighRiskCase, selectors.visible_highrisk_cases)
        history_register(DeathReport, selectors.visible_identified_death_reports)
        history_register(ReviewMeeting, selectors.visible_review_meetings)
        history_register(ImprovementMeasure, selectors.visible_improvement_measures)
        history_register(Circular, selectors.visible_circulars)
        history_register(Visit, selectors.visible_visits)
        history_register(Delivery, selectors.visible_deliveries)
        history_register(PrenatalReport, selectors.visible_prenatal_reports)
        history_register(SelfInspectionReport, selectors.visible_selfinspection_reports)

        # The deliveries' summary columns follow every save and delete of what they are computed from.
        from django.db.models.signals import post_delete, post_save

        from cases import summaries

        for name in summaries.INPUTS:
            model = self.get_model(name)
            post_save.connect(summaries.on_change, sender=model, dispatch_uid=f"summaries-save-{name}")
            post_delete.connect(summaries.on_change, sender=model, dispatch_uid=f"summaries-delete-{name}")

        # A record's sync row moves when a part its detail shows is saved (cases/sync.py).
        from cases import sync

        for name in sync.PARTS:
            post_save.connect(sync.touch, sender=self.get_model(name), dispatch_uid=f"sync-part-{name}")
