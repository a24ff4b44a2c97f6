"""Read replicas: without DATABASE_REPLICA_URLS everything uses the primary; with it, `replica_cases.py` (run here in
a child pytest, since databases are fixed when settings load) shows where each read and write goes."""

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings

PROJECT_DIR = Path(__file__).resolve().parents[2]


def test_without_replicas_there_is_one_database_and_no_router():
    assert list(settings.DATABASES) == ["default"]
    assert settings.DATABASE_REPLICAS == []
    assert not getattr(settings, "DATABASE_ROUTERS", [])


def _child_database_url() -> str:
    """The suite's database kind, under a name of its own (its test database must not be this run's)."""
    db = settings.DATABASES["default"]
    if db["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{PROJECT_DIR / 'db.sqlite3'}"  # the child's test database is a file named after its pid
    url = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(url._replace(path=url.path.rstrip("/") + "_replicas"))


def test_reads_and_writes_go_where_they_should_with_a_replica_configured():
    url = _child_database_url()
    env = {**os.environ, "DATABASE_URL": url, "DATABASE_REPLICA_URLS": url}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "tests/ops/replica_cases.py", "-q", "-p", "no:cacheprovider", "--create-db"],
        cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip

    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "\n11 passed" in result.stdout
