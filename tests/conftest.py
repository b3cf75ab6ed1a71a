import pytest
from django.conf import settings


def pytest_configure(config: pytest.Config) -> None:
    # Demo and persona users are hashed hundreds of times per run; PBKDF2 stays for production.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # No Celery worker runs under pytest: tasks run where they are queued.
    settings.CELERY_TASK_ALWAYS_EAGER = True


@pytest.fixture
def personas(db):
    from tests.personas import build_personas

    return build_personas()


from tests.browser import browser  # noqa: E402,F401  (fixture)
