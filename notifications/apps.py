from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = _("Notifications")

    def ready(self) -> None:
        # services registers the escalation deadline handler; signals close alert sockets on logout
        # and deactivation.
        from notifications import services, signals  # noqa: F401

