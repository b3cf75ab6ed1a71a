"""Loaded as a plugin (``-p tests.pytest_env``) before pytest-django sets Django up.

The suite runs with DEBUG off, like production, so it needs a secret key of its own.
"""

import os

os.environ.setdefault("SECRET_KEY", "anmu-test-suite-only-secret-key-0123456789")
