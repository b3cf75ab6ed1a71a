"""Pluggable SMS for critical alerts that stay unacknowledged after escalation.

``SMS_BACKEND`` picks the backend: ``log`` (default; writes a masked line to the log) or ``http`` (a
JSON POST to ``SMS_GATEWAY_URL`` with ``SMS_GATEWAY_TOKEN`` as a bearer token). Phone numbers are
masked in every log line.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request

from django.conf import settings
from django.utils.module_loading import import_string

from organisations.personal import mask_phone

logger = logging.getLogger(__name__)


class SmsError(Exception):
    pass


class LogBackend:
    def send(self, *, phone: str, text: str) -> None:
        logger.info("SMS to %s: %s", mask_phone(phone), text)


class HttpGatewayBackend:
    def __init__(self) -> None:
        self.url = settings.SMS_GATEWAY_URL
        self.token = settings.SMS_GATEWAY_TOKEN
        self.timeout = settings.SMS_GATEWAY_TIMEOUT
        if not self.url:
            raise SmsError("SMS_GATEWAY_URL is not set")

    def send(self, *, phone: str, text: str) -> None:
        request = urllib.request.Request(  # noqa: S310  (the URL is the operator's own gateway)
            self.url,
            data=json.dumps({"phone": phone, "text": text}, ensure_ascii=False).encode(),
            headers={"Content-Type": "application/json", **({"Authorization": f"Bearer {self.token}"}
                                                              if self.token else {})},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                if response.status >= 300:
                    raise SmsError(f"gateway answered {response.status}")
        except (urllib.error.URLError, TimeoutError) as exc:
            raise SmsError(f"gateway unreachable: {type(exc).__name__}") from None
        logger.info("SMS to %s sent through the gateway", mask_phone(phone))


BACKENDS = {"log": "notifications.sms.LogBackend", "http": "notifications.sms.HttpGatewayBackend"}


def sms_backend() -> LogBackend | HttpGatewayBackend:
    path = BACKENDS.get(settings.SMS_BACKEND, settings.SMS_BACKEND)
    return import_string(path)()
