"""Test settings: the project's, with what makes tests fast and independent of the machine."""

from chatproject.settings import *  # noqa: F403

# Hashing passwords with PBKDF2 costs ~0.3 s per login; tests log in often.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CHATKIT_MODEL = "echo"
CHATKIT_ECHO_DELAY = 0.0

# Races are tested through real concurrent requests, which need SQLite's real locking (a busy
# writer waits its turn, WAL). The default in-memory test database shares one cache, where a
# second writer fails at once with "database table is locked". One file per test process.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    import os as _os
    import tempfile as _tempfile

    DATABASES["default"].setdefault("TEST", {})["NAME"] = _os.path.join(  # noqa: F405
        _tempfile.gettempdir(), f"chatkit-test-{_os.getpid()}.sqlite3"
    )
