"""Real worker processes for tests: `manage.py run_worker` against the test database, killed at will.

The test must use `django_db(transaction=True)` (or `transactional_db`) so what it writes is committed and the
worker, another process, sees it. On SQLite the test database is a file (settings: test_db_<pid>.sqlite3);
on PostgreSQL it is the test run's database. Leases and sweeps are short so a killed worker's job is taken
over within seconds.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from django.db import connection

PROJECT_DIR = Path(__file__).resolve().parents[1]
LEASE_SECONDS = 2


def database_url() -> str:
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        assert settings["NAME"] and ":memory:" not in str(settings["NAME"]), "workers need a file database"
        return f"sqlite:///{settings['NAME']}"
    user, host, port = settings["USER"] or "postgres", settings["HOST"] or "127.0.0.1", settings["PORT"] or 5432
    password = f":{settings['PASSWORD']}" if settings.get("PASSWORD") else ""
    return f"postgres://{user}{password}@{host}:{port}/{settings['NAME']}"


class Worker:
    """One `run_worker` process; `kill()` is kill -9, `stop()` is SIGTERM and a wait."""

    def __init__(self, name: str, log_dir: Path, **env: str):
        self.name = name
        self.log = log_dir / f"{name}.log"
        environment = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": os.environ.get("HOME", "/tmp"),
            "ENV_FILE": os.devnull,
            "DJANGO_SETTINGS_MODULE": "crm_project.settings",
            "PYTHONDONTWRITEBYTECODE": "1",
            "DEBUG": "true",
            "DATABASE_URL": database_url(),
            "JOBS_LEASE_SECONDS": str(LEASE_SECONDS),
            "JOBS_SWEEP_SECONDS": "1",
            "JOBS_STALE_SECONDS": "2",
            "CONN_MAX_AGE": "0",
            **env,
        }
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "manage.py", "run_worker", "--worker-id", name, "--interval", "0.1", "-v", "2"],
                cwd=PROJECT_DIR,
                env=environment,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def kill(self) -> None:
        """kill -9: no shutdown handler runs, the job is left running with its lease."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self, timeout: float = 30) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=timeout)

    def close(self) -> None:
        if self.process.poll() is None:
            self.kill()


class Workers:
    """The `workers` fixture: start workers, and all of them are killed when the test ends."""

    def __init__(self, log_dir: Path):
        self.log_dir = log_dir
        self.started: list[Worker] = []

    def start(self, name: str = "", **env: str) -> Worker:
        worker = Worker(name or f"worker-{len(self.started) + 1}", self.log_dir, **env)
        self.started.append(worker)
        return worker

    def close(self) -> None:
        for worker in self.started:
            worker.close()

    def logs(self) -> str:
        return "\n".join(f"--- {w.name}\n{w.output()}" for w in self.started)


def wait_for(condition, *, timeout: float = 60, interval: float = 0.05, message: str = "condition"):
    """Poll `condition()` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {message}")
