import pytest
from django.conf import settings


def pytest_configure(config: pytest.Config) -> None:
    # Demo and persona users are hashed hundreds of times per run; PBKDF2 stays for production.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # No Celery worker runs under pytest: tasks run where they are queued.
    settings.CELERY_TASK_ALWAYS_EAGER = True


@pytest.fixture
def national_data(django_db_blocker):
    """The national rule set, province settings and alert policy are migration data; a transactional
    test's flush removes them, so transactional tests that need them load them again here."""
    import importlib

    from django.apps import apps

    with django_db_blocker.unblock():
        for module, function in (("cases.migrations.0003_national_ruleset", "load"),
                                 ("cases.migrations.0005_national_settings", "national"),
                                 ("notifications.migrations.0002_national_policy", "national_default")):
            getattr(importlib.import_module(module), function)(apps, None)


@pytest.fixture
def personas(db):
    from tests.personas import build_personas

    return build_personas()


from tests.browser import browser  # noqa: E402,F401  (fixture)
