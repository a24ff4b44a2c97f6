"""Readiness: can this instance (or worker) serve now? `/readyz/` for web instances, `manage.py check_ready` for
workers. `/healthz/` stays the liveness probe (the process answers and reaches its database).

Ready means: the database answers, every migration this code ships is applied (a new release whose migrations have
not run yet is not ready, so a load balancer keeps sending traffic to the old one), and the job queue's tables are
readable (workers take their work from there; web instances enqueue into them).
"""

from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor

_migrated = False  # once every migration is applied it stays so for this process's code


def migrations_applied() -> bool:
    global _migrated
    if not _migrated:
        executor = MigrationExecutor(connection)
        _migrated = not executor.migration_plan(executor.loader.graph.leaf_nodes())
    return _migrated


def readiness() -> dict[str, str]:
    """{"database": ..., "migrations": ..., "queue": ...}, each "ok" or what is wrong."""
    from django_tasks_db.models import DBTaskResult

    from jobs.models import Job

    checks = {"database": "ok", "migrations": "ok", "queue": "ok"}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        return {"database": "unreachable", "migrations": "unknown", "queue": "unknown"}
    try:
        if not migrations_applied():
            checks["migrations"] = "pending"
    except DatabaseError:
        checks["migrations"] = "unknown"
    try:
        DBTaskResult.objects.exists()
        Job.objects.filter(status=Job.Status.QUEUED).exists()
    except DatabaseError:
        checks["queue"] = "unreachable"
    return checks


def is_ready(checks: dict[str, str]) -> bool:
    return all(value == "ok" for value in checks.values())
