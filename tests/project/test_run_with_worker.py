"""`make run` and `make serve` start the web server with a job worker beside it (`manage.py run_with_worker`):
one command, and Ctrl-C (or SIGTERM) stops both with everything they started. Real processes, on the test
database (the worker polls the engine's table, so it needs the migrated schema)."""

import os
import signal
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from tests.workers import PROJECT_DIR, database_url, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _descendants(pid: int) -> set[int]:
    """Every live process below `pid`, from /proc (children, their children, ...)."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat.rpartition(")")[2].split()
            if fields[0] != "Z":  # zombies are exited
                parents[int(entry.name)] = int(fields[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def _alive(pid: int) -> bool:
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return False


def _healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz/", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def _start(tmp_path, *server: str) -> tuple[subprocess.Popen, Path]:
    log = tmp_path / "run.log"
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "ENV_FILE": os.devnull,
        "DJANGO_SETTINGS_MODULE": "crm_project.settings",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONUNBUFFERED": "1",
        "DEBUG": "true",
        "DATABASE_URL": database_url(),
        "CONN_MAX_AGE": "0",
    }
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "run_with_worker", "--grace", "20", "--", *server],
            cwd=PROJECT_DIR,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # as a terminal's foreground job: only the signal the test sends reaches it
        )
    return process, log


def _running(process: subprocess.Popen, log: Path, port: int, servers: int) -> set[int]:
    """Wait until the server answers and the worker has started; the processes under the command."""
    wait_for(lambda: _healthy(port) or process.poll() is not None, timeout=60, message="the server")
    wait_for(lambda: "started (Ctrl-C or SIGTERM stops it)" in log.read_text(), timeout=30, message="the worker")
    assert process.poll() is None, log.read_text()
    processes = _descendants(process.pid)
    assert len(processes) >= 1 + servers, log.read_text()  # the worker and the server's processes
    return processes


def _stops_with_everything(process: subprocess.Popen, processes: set[int], log: Path, signum: int) -> None:
    os.kill(process.pid, signum)  # to the command alone, as Ctrl-C reaches it (its children have own groups)
    assert process.wait(timeout=60) == 0, log.read_text()
    wait_for(lambda: not any(_alive(pid) for pid in processes), timeout=10, message="no process left")
    assert "Worker" in log.read_text()


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_runserver_and_worker_start_together_and_stop_together(tmp_path, signum):
    port = _free_port()
    process, log = _start(tmp_path, sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}")
    try:
        processes = _running(process, log, port, servers=2)  # runserver and its autoreloader's child
        _stops_with_everything(process, processes, log, signum)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)


def test_gunicorn_and_worker_start_together_and_stop_together(tmp_path):
    port = _free_port()
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    process, log = _start(tmp_path, gunicorn, "crm_project.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "2")
    try:
        processes = _running(process, log, port, servers=3)  # gunicorn's master and its two workers
        _stops_with_everything(process, processes, log, signal.SIGINT)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)


def test_when_the_server_cannot_start_the_worker_is_stopped_too(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        process, log = _start(tmp_path, sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}")
        try:
            assert process.wait(timeout=60) != 0
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
    output = log.read_text()
    assert "That port is already in use" in output and "the other was stopped too" in output
    assert not _descendants(process.pid)


def test_the_makefile_runs_servers_through_it():
    makefile = (PROJECT_DIR / "Makefile").read_text()
    targets = ("run", "serve", "worker")
    recipes = {target: makefile.split(f"\n{target}:", 1)[1].split("\n\n", 1)[0] for target in targets}
    assert "run_with_worker -- $(BIN)/python manage.py runserver" in recipes["run"]
    assert "run_with_worker --" in recipes["serve"] and "gunicorn" in recipes["serve"]
    assert "manage.py run_worker" in recipes["worker"]
