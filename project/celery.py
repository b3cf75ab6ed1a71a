"""Celery for background and periodic work in production (Redis broker).

Without REDIS_URL tasks run eagerly in the calling process (CELERY_TASK_ALWAYS_EAGER), so the
embedded mode needs no broker.
"""

import os

from celery import Celery
from celery.signals import after_setup_logger, after_setup_task_logger

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")

app = Celery("anmu")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@after_setup_logger.connect
@after_setup_task_logger.connect
def mask_celery_logs(**kwargs):  # type: ignore[no-untyped-def]
    """Celery replaces the root handlers with its own when a worker starts: mask those too."""
    from project.logconfig import mask_every_handler

    mask_every_handler()
