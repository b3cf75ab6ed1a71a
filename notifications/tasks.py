"""Celery task of the alerts: SMS sending (the periodic sweep's task is ``workflows/tasks.py``)."""

from __future__ import annotations

import logging

from celery import shared_task
from django.utils import timezone

logger = logging.getLogger(__name__)


@shared_task(name="anmu.send_alert_sms")
def send_alert_sms(alert_ids: list[str]) -> int:
    from notifications.models import Alert
    from notifications.sms import SmsError, sms_backend

    backend = sms_backend()
    sent = 0
    for alert in Alert.objects.filter(pk__in=alert_ids, acknowledged_at__isnull=True, sms_sent_at__isnull=True
                                      ).select_related("recipient"):
        phone = alert.recipient.phone
        if not phone:
            continue
        text = f"[安母] {alert.title_text}"
        try:
            backend.send(phone=phone, text=text)
        except SmsError as exc:
            logger.warning("SMS for alert %s failed: %s", alert.pk, exc)
            continue
        Alert.objects.filter(pk=alert.pk).update(sms_sent_at=timezone.now())
        sent += 1
    return sent
