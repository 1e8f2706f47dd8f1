"""Settings that must hold at start-up: secrets in production, tracing off."""

import os
import subprocess
import sys

from tests.servers import PROJECT


def _setup(**env):
    environment = {**os.environ, **env}
    environment.pop("DJANGO_SETTINGS_MODULE", None)
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'chatproject.settings'); django.setup(); from django.conf import settings; print(settings.DEBUG)",
        ],
        cwd=PROJECT,
        env=environment,
        capture_output=True,
        text=True,
    )


def test_production_without_secret_key_fails_clearly():
    result = _setup(DEBUG="0", SECRET_KEY="")
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_production_with_secret_key_starts():
    result = _setup(DEBUG="0", SECRET_KEY="x" * 50)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_tracing_is_off_unless_turned_on():
    from agents import trace
    from agents.tracing.traces import NoOpTrace

    assert isinstance(trace("probe"), NoOpTrace)
