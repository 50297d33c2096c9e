"""riffweb's settings as the tests run them: production defaults, minus what needs HTTPS."""

import os
import tempfile

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-production-use-0123456789")
os.environ.setdefault("SECURE_COOKIES", "0")
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
# One test database file per test run, so that runs side by side never share one; worker
# clusters started by a test are pointed at this file explicitly (tests/cluster.py).
os.environ.setdefault(
    "SQLITE_TEST_PATH", os.path.join(tempfile.gettempdir(), f"riffweb-test-{os.getpid()}.sqlite3")
)

from riffweb.settings import *  # noqa: E402,F403

# Only tests/test_deploy.py runs collectstatic (as the Procfile's release does) and so the
# manifest storage; everywhere else static names need no manifest.
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}  # noqa: F405
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
