"""Test settings: the project's, with what makes tests fast and independent of the machine."""

from chatproject.settings import *  # noqa: F403

# Hashing passwords with PBKDF2 costs ~0.3 s per login; tests log in often.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CHATKIT_MODEL = "echo"
CHATKIT_ECHO_DELAY = 0.0
