"""gunicorn.conf.py's threads per worker: 4 on PostgreSQL (a thread overlaps another's database wait), 1 on SQLite
(in-process: more threads only contend for the GIL; issue 17's benchmark), GUNICORN_THREADS over both."""

import runpy
from pathlib import Path

import pytest

CONF = Path(__file__).resolve().parents[2] / "gunicorn.conf.py"


def threads(monkeypatch, tmp_path, *, database_url=None, env_file_line=None, setting=None) -> int:
    for name in ("DATABASE_URL", "GUNICORN_THREADS", "PROMETHEUS_MULTIPROC_DIR"):
        monkeypatch.delenv(name, raising=False)
    if database_url is not None:
        monkeypatch.setenv("DATABASE_URL", database_url)
    if setting is not None:
        monkeypatch.setenv("GUNICORN_THREADS", setting)
    env_file = tmp_path / ".env"
    env_file.write_text(f"SECRET_KEY=x\n{env_file_line}\n" if env_file_line else "SECRET_KEY=x\n")
    monkeypatch.setenv("ENV_FILE", str(env_file))
    return runpy.run_path(str(CONF))["threads"]


@pytest.mark.parametrize(
    ("database_url", "expected"),
    [("postgres://crm@db:5432/crm", 4), ("postgresql://crm@db/crm", 4), ("sqlite:////srv/crm/db.sqlite3", 1)],
)
def test_threads_follow_the_database(monkeypatch, tmp_path, database_url, expected):
    assert threads(monkeypatch, tmp_path, database_url=database_url) == expected


def test_no_database_url_is_the_embedded_sqlite(monkeypatch, tmp_path):
    assert threads(monkeypatch, tmp_path) == 1


def test_the_env_file_is_read_as_settings_read_it(monkeypatch, tmp_path):
    line = 'DATABASE_URL="postgres://crm@db:5432/crm"'
    assert threads(monkeypatch, tmp_path, env_file_line=line) == 4
    # The environment wins over the file, as in settings.
    assert threads(monkeypatch, tmp_path, env_file_line=line, database_url="sqlite:///x.sqlite3") == 1


def test_gunicorn_threads_wins(monkeypatch, tmp_path):
    assert threads(monkeypatch, tmp_path, database_url="sqlite:///x.sqlite3", setting="3") == 3
    assert threads(monkeypatch, tmp_path, database_url="postgres://crm@db/crm", setting="2") == 2
