"""Runs the frontend's unit tests (vitest: the protocol client, SSE, reducer) under pytest.

`make test` installs frontend/node_modules (npm ci) before pytest; without
them this test is skipped rather than failed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

FRONTEND = Path(__file__).resolve().parent.parent / "frontend"


def test_vitest_unit_suite():
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("npm is not installed")
    if not (FRONTEND / "node_modules" / ".bin" / "vitest").exists():
        pytest.skip("frontend/node_modules missing: run `make frontend` (npm ci)")
    result = subprocess.run(
        [npm, "test", "--", "--reporter=dot"],
        cwd=FRONTEND,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "CI": "true", "NO_COLOR": "1"},
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
