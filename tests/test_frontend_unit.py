"""Runs the frontend's checks under pytest: vitest (the protocol client, SSE, reducer) and ESLint.

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


def run_npm(script: str, *args: str, tool: str) -> subprocess.CompletedProcess:
    """``npm run <script> -- <args>`` in frontend/; skips when npm or the tool isn't installed."""
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("npm is not installed")
    if not (FRONTEND / "node_modules" / ".bin" / tool).exists():
        pytest.skip("frontend/node_modules missing: run `make frontend` (npm ci)")
    return subprocess.run(
        [npm, "run", script, "--", *args],
        cwd=FRONTEND,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "CI": "true", "NO_COLOR": "1"},
    )


def test_vitest_unit_suite():
    result = run_npm("test", "--reporter=dot", tool="vitest")
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]


def test_eslint_is_clean():
    """ESLint with typescript-eslint and eslint-plugin-react-hooks: no errors, no warnings."""
    result = run_npm("lint", tool="eslint")
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
