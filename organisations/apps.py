from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class OrganisationsConfig(AppConfig):
    name = "organisations"
    verbose_name = _("Organisations")

    def ready(self) -> None:
        # Every app's post_migrate: permissions of apps migrated after this one must reach the roles too.
        post_migrate.connect(_sync_roles_after_migrate, dispatch_uid="anmu_roles_sync")

        from organisations import selectors
        from organisations.history import history_register
        from organisations.models import Institution, Membership, Region, RescueCentre, User

        history_register(Region, selectors.visible_regions)
        history_register(Institution, selectors.visible_institutions)
        history_register(RescueCentre, selectors.visible_rescue_centres)
        history_register(Membership, selectors.visible_memberships)
        history_register(User, selectors.visible_users)

        from organisations.models import DutyShift
        from organisations.selectors import visible_duty_shifts

        history_register(DutyShift, visible_duty_shifts)

        from organisations.administration import manageable_api_clients
        from organisations.models import ApiClient

        history_register(ApiClient, manageable_api_clients)


def _sync_roles_after_migrate(sender, using="default", **kwargs) -> None:  # type: ignore[no-untyped-def]
    """Create the role groups that are missing; groups already there keep their admin-edited permissions."""
    from organisations.roles import roles_sync

    roles_sync(using=using)
