"""gunicorn.conf.py's workers: gthread (the main thread reports while a long export streams), 1 thread each unless
GUNICORN_THREADS says otherwise, on either database (issue 17's benchmark: threads of one process only take turns)."""

import runpy
from pathlib import Path

import pytest

CONF = Path(__file__).resolve().parents[2] / "gunicorn.conf.py"


def conf(monkeypatch, *, database_url=None, setting=None) -> dict:
    for name in ("DATABASE_URL", "GUNICORN_THREADS", "PROMETHEUS_MULTIPROC_DIR"):
        monkeypatch.delenv(name, raising=False)
    if database_url is not None:
        monkeypatch.setenv("DATABASE_URL", database_url)
    if setting is not None:
        monkeypatch.setenv("GUNICORN_THREADS", setting)
    return runpy.run_path(str(CONF))


@pytest.mark.parametrize("database_url", [None, "postgres://crm@db:5432/crm", "sqlite:////srv/crm/db.sqlite3"])
def test_one_thread_per_worker_on_either_database(monkeypatch, database_url):
    settings = conf(monkeypatch, database_url=database_url)
    assert settings["threads"] == 1
    assert settings["worker_class"] == "gthread"


def test_gunicorn_threads_wins(monkeypatch):
    assert conf(monkeypatch, database_url="sqlite:///x.sqlite3", setting="3")["threads"] == 3
    assert conf(monkeypatch, database_url="postgres://crm@db/crm", setting="2")["threads"] == 2
