"""Celery for background and periodic work in production (Redis broker).

Without REDIS_URL tasks run eagerly in the calling process (CELERY_TASK_ALWAYS_EAGER), so the
embedded mode needs no broker.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")

app = Celery("anmu")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
