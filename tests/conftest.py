import pytest
from django.conf import settings


def pytest_configure(config: pytest.Config) -> None:
    # Demo and persona users are hashed hundreds of times per run; PBKDF2 stays for production.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # No Celery worker runs under pytest: tasks run where they are queued.
    settings.CELERY_TASK_ALWAYS_EAGER = True
    _declare_test_alert_kinds()


def _declare_test_alert_kinds() -> None:
    """The alert machinery's own tests raise kinds of their own: one informational, one actionable that may
    be critical. Every other kind they raise must be declared in notifications/kinds.py."""
    from notifications import kinds

    informational = [kinds.AlertKind(code, code, kinds.Nature.INFORMATIONAL,
                                     frozenset({kinds.ROUTINE, kinds.URGENT}))
                     for code in ("test.note", "test.role", "test.duty", "test.step", "test.outage", "test.hung")]
    actionable = kinds.AlertKind("test.critical", "test.critical", kinds.Nature.ACTIONABLE,
                                 frozenset({kinds.CRITICAL, kinds.URGENT}), resolved_by=("test.done",))
    for kind in [*informational, actionable]:
        kinds.KINDS.setdefault(kind.code, kind)


@pytest.fixture(autouse=True)
def _site_language():
    """Every test starts and ends in the site's language. The test client's LocaleMiddleware activates a
    request's language in this thread and leaves it there, so one English request made the next test's
    alerts English."""
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture
def national_data(django_db_blocker):
    """The national rule set, province settings, alert policy and indicators are migration data; a transactional
    test's flush removes them, so transactional tests that need them load them again here."""
    import importlib

    from django.apps import apps

    with django_db_blocker.unblock():
        for module, function in (("cases.migrations.0003_national_ruleset", "load"),
                                 ("cases.migrations.0005_national_settings", "national"),
                                 ("notifications.migrations.0002_national_policy", "national_default"),
                                 ("indicators.migrations.0002_seed_indicators", "seed"),
                                 ("cases.migrations.0029_prenatal_qc", "seed"),
                                 ("cases.migrations.0028_evaluation_national_2023", "seed")):
            getattr(importlib.import_module(module), function)(apps, None)


@pytest.fixture
def personas(db):
    from tests.personas import build_personas

    return build_personas()


from tests.browser import browser  # noqa: E402,F401  (fixture)
