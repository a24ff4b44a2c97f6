"""/readyz/ and `manage.py check_ready`: ready only when the database answers, every migration is applied and the job
queue is readable; /healthz/ stays the liveness probe."""

import json

import pytest
from django.core.management import CommandError, call_command
from django.db.migrations.recorder import MigrationRecorder

from crm_project import readiness


@pytest.fixture
def fresh_readiness(monkeypatch):
    monkeypatch.setattr(readiness, "_migrated", False)


@pytest.mark.django_db
def test_readyz_is_200_when_everything_is_ready(client, fresh_readiness):
    response = client.get("/readyz/")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "migrations": "ok", "queue": "ok"}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_readyz_is_503_while_a_migration_is_not_applied(client, fresh_readiness):
    MigrationRecorder.Migration.objects.filter(app="jobs", name="0003_request_id").delete()

    response = client.get("/readyz/")
    health = client.get("/healthz/")

    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "ok", "migrations": "pending", "queue": "ok"}
    assert health.status_code == 200  # alive, only not ready


@pytest.mark.django_db
def test_readyz_accepts_only_get_and_head(client):
    assert client.post("/readyz/").status_code == 405


@pytest.mark.django_db
def test_check_ready_command_passes_and_fails_with_the_reason(fresh_readiness, capsys):
    call_command("check_ready")
    assert json.loads(capsys.readouterr().out) == {"database": "ok", "migrations": "ok", "queue": "ok"}

    MigrationRecorder.Migration.objects.filter(app="events", name="0002_request_id").delete()
    readiness._migrated = False
    with pytest.raises(CommandError, match="not ready: migrations pending"):
        call_command("check_ready")


def test_an_unmigrated_database_is_not_ready_for_a_worker(run_child, child_env):
    """A fresh database file: the database answers, nothing is migrated, the queue's tables do not exist."""
    env = {**child_env, "DEBUG": "true"}

    result = run_child(env, "manage.py", "check_ready")

    assert result.returncode == 1
    assert json.loads(result.stdout) == {"database": "ok", "migrations": "pending", "queue": "unreachable"}
    assert "not ready: migrations pending, queue unreachable" in result.stderr


def test_an_unreachable_database_is_not_ready(run_child, child_env):
    env = {**child_env, "DEBUG": "true", "DATABASE_URL": "postgres://nobody@127.0.0.1:1/crm", "DB_CONNECT_TIMEOUT": "2"}

    result = run_child(env, "manage.py", "check_ready")

    assert result.returncode == 1
    assert json.loads(result.stdout)["database"] == "unreachable"
