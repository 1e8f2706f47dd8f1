"""Test settings: the project's, with what makes tests fast and independent of the machine."""

import os

# As `make run` serves it (the project's default is DEBUG off, which needs a real key).
os.environ.setdefault("DEBUG", "1")

from chatproject.settings import *  # noqa: E402, F403

# Hashing passwords with PBKDF2 costs ~0.3 s per login; tests log in often.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CHATKIT_MODEL = "echo"
CHATKIT_ECHO_DELAY = 0.0
# Every test shares one client address and one cache: the limits' own tests turn them on.
CHATKIT_TURNS_PER_MINUTE = CHATKIT_THREADS_PER_HOUR = CHATKIT_CONCURRENT_STREAMS = CHATKIT_NEW_OWNERS_PER_HOUR = 0

# Races are tested through real concurrent requests, which need SQLite's real locking (a busy
# writer waits its turn, WAL). The default in-memory test database shares one cache, where a
# second writer fails at once with "database table is locked". One file per test process.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    import os as _os
    import tempfile as _tempfile

    DATABASES["default"].setdefault("TEST", {})["NAME"] = _os.path.join(  # noqa: F405
        _tempfile.gettempdir(), f"chatkit-test-{_os.getpid()}.sqlite3"
    )

# On Redis (REDIS_URL), this test run's keys and groups are its own.
if REDIS_URL:  # noqa: F405
    import os

    REDIS_PREFIX = f"test-{os.getpid()}"
    CACHES["default"]["KEY_PREFIX"] = REDIS_PREFIX  # noqa: F405
    CHANNEL_LAYERS["default"]["CONFIG"]["prefix"] = REDIS_PREFIX  # noqa: F405
