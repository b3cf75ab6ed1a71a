from django.apps import AppConfig
from django.db.models.signals import post_save
from django.utils.translation import gettext_lazy as _


class WorkflowsConfig(AppConfig):
    name = "workflows"
    verbose_name = _("Workflows")

    def ready(self) -> None:
        # Registers the deadline handlers of the processes.
        # A decoupled concern: organisations do not know about cases, so a doctor leaving (user or
        # membership deactivated) reaches the case register through these signals.
        from cases.models import evaluation as evaluation_rules
        from cases.models import interview as interview_rules
        from organisations import views as organisation_pages
        from organisations.models import Membership, User
        from workflows import outcomes, sweep
        from workflows.death import flows as death_flows  # noqa: F401
        from workflows.death import selectors as death_lists
        from workflows.death import services as death
        from workflows.evaluation import flows as evaluation_flows  # noqa: F401
        from workflows.evaluation import schemes as evaluation_schemes
        from workflows.evaluation import services as evaluation  # noqa: F401  (its deadline handlers)
        from workflows.highrisk import flows as highrisk_flows  # noqa: F401
        from workflows.highrisk import selectors as highrisk_lists
        from workflows.highrisk import services as highrisk
        from workflows.interview import flows as interview_flows  # noqa: F401
        from workflows.interview import services as interview
        from workflows.referral import flows as referral_flows  # noqa: F401
        from workflows.referral import services as referral  # noqa: F401
        from workflows.registers import selectors as registers
        from workflows.routine import services as routine
        from workflows.screening import services as screening

        # Cross-process subscriptions, all of them: a lower process announces, a higher one reacts.
        _subscribe(screening.GRADE_HOOKS, highrisk.case_on_grade)
        _subscribe(outcomes.DEATH_REACTIONS, highrisk.case_end_by_death)
        _subscribe(routine.DELIVERY_HOOKS, highrisk.case_on_delivery)
        _subscribe(organisation_pages.HOME_PANELS, registers.home_panels)
        _subscribe(organisation_pages.HOME_PANELS, highrisk_lists.home_panels)
        _subscribe(organisation_pages.HOME_PANELS, death_lists.home_panels)
        _subscribe(outcomes.MATERNAL_DEATH_HOOKS, death.death_report_on_death)
        _subscribe(sweep.SWEEP_HOOKS, interview.interview_triggers_ensure)
        _subscribe(interview_rules.TRIGGER_INDICATOR_CHOICES, interview.trigger_indicator_choices)
        _subscribe(evaluation_rules.EVALUATION_INDICATOR_CHOICES, evaluation_schemes.indicator_choices)

        post_save.connect(_doctor_changed, sender=User, dispatch_uid="anmu_orphaned_user")
        post_save.connect(_membership_changed, sender=Membership, dispatch_uid="anmu_orphaned_membership")


def _subscribe(hooks: list, hook) -> None:  # type: ignore[type-arg,no-untyped-def]
    """Once, however often ready() runs (tests may call it again)."""
    if hook not in hooks:
        hooks.append(hook)


def _doctor_changed(sender, instance, created, **kwargs) -> None:  # type: ignore[no-untyped-def]
    if not created and not instance.is_active:
        from workflows.highrisk.services import orphaned_cases_alert

        orphaned_cases_alert(doctor=instance)


def _membership_changed(sender, instance, created, **kwargs) -> None:  # type: ignore[no-untyped-def]
    if not created and not instance.is_active:
        from workflows.highrisk.services import orphaned_cases_alert

        orphaned_cases_alert(doctor=instance.user)
