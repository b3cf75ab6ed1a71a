"""Reading and validating the environment, so a bad value fails at start with its variable's name."""

from __future__ import annotations

import os
from urllib.parse import urlparse

from django.core.exceptions import ImproperlyConfigured

TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off", ""}


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in TRUE_WORDS:
        return True
    if value in FALSE_WORDS:
        return False
    raise ImproperlyConfigured(f"{name} must be one of 1/0, true/false, yes/no, on/off; got {raw!r}.")


def env_int(name: str, default: int, *, minimum: int = 0) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number; got {raw!r}.") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}; got {value}.")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_url(name: str, *, schemes: tuple[str, ...]) -> str | None:
    """Return the URL in ``name`` or None when unset; raise naming the variable when it is malformed."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return None
    raw = raw.strip()
    try:
        parsed = urlparse(raw)
        parsed.port  # noqa: B018  (raises ValueError on a bad port)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} is not a valid URL ({exc}).") from None
    if parsed.scheme not in schemes:
        raise ImproperlyConfigured(
            f"{name} must start with one of {', '.join(s + '://' for s in schemes)}; got scheme {parsed.scheme!r}."
        )
    if (parsed.scheme.startswith("redis") or parsed.scheme.startswith("http")) and not parsed.hostname:
        raise ImproperlyConfigured(f"{name} has no host name.")
    return raw
