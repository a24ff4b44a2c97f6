"""Run the project in a child process with an environment the test controls completely.

Settings are read once per process, so "does a bad value stop the start?" can only be asked of a fresh
interpreter. The child inherits nothing from the test run or from a developer's `.env` (ENV_FILE is
/dev/null); each test adds the variables it is about.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT_DIR = Path(__file__).resolve().parents[2]


@pytest.fixture
def child_env(tmp_path) -> dict[str, str]:
    """Minimal environment for a child process: an SQLite file in tmp_path, DEBUG and SECRET_KEY unset."""
    static_root = tmp_path / "static"
    static_root.mkdir()
    return {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "ENV_FILE": os.devnull,
        "DJANGO_SETTINGS_MODULE": "crm_project.settings",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "STATIC_ROOT": str(static_root),
        "PYTHONDONTWRITEBYTECODE": "1",
    }


@pytest.fixture
def run_child():
    """`run_child(env, "manage.py", "check")` or `run_child(env, "-c", code)`: the finished process."""

    def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, *args], cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=120
        )

    return _run
