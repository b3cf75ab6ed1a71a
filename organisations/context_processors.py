from typing import Any

from django.conf import settings
from django.http import HttpRequest


def anmu(request: HttpRequest) -> dict[str, Any]:
    return {"ANMU_SITE_TITLE": settings.ANMU_SITE_TITLE, "ANMU_EMBEDDED": settings.EMBEDDED}
