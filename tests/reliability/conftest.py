"""Run the product the way it runs in production: gunicorn processes, PostgreSQL, a shared Redis cache.

Everything here starts real processes on loopback and cleans up after itself, with bounded waits: the
gunicorn instances, the databases, the PostgreSQL cluster and the Redis keys belong to the test that
made them. Children inherit nothing from the test run or from a developer's `.env` (ENV_FILE is
/dev/null); each gets exactly the production-style environment built here.
"""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import gunicorn
import pytest
import requests

PROJECT_DIR = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).with_name("gunicorn")
HOST = "127.0.0.1"
PASSWORD = "pw-for-reliability-tests-1"
ATTRIBUTE_PERMS = [
    "view_customer",
    "view_customer_attribute",
    "create_customer_attribute",
    "update_customer_attribute",
    "delete_customer_attribute",
]

# Migrate a fresh database and create what a test needs; prints the raw tokens and customer ids as JSON.
SETUP_SCRIPT = """
import json, sys
import django
django.setup()
from django.contrib.auth.models import Permission, User
from django.core.management import call_command
from customers.models import Customer
from tokens.models import ApiToken

spec = json.loads(sys.argv[1])
call_command("migrate", interactive=False, verbosity=0)
tokens = {}
for user_spec in spec["users"]:
    user = User.objects.create_user(user_spec["username"], password=spec["password"])
    user.user_permissions.add(*Permission.objects.filter(codename__in=user_spec["perms"]))
    tokens[user.username] = [
        ApiToken.issue(user=user, name=f"reliability {n}")[1] for n in range(user_spec.get("tokens", 1))
    ]
customers = [Customer.objects.create(customer_name=f"Reliability {n}").pk for n in range(spec["customers"])]
print(json.dumps({"tokens": tokens, "customers": customers}))
"""


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def production_env(*, database_url: str, static_root: Path, **extra: str) -> dict[str, str]:
    """Production settings (DEBUG off) with the plain-HTTP overrides a loopback test needs."""
    return {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", "/tmp"),
        "ENV_FILE": os.devnull,
        "DJANGO_SETTINGS_MODULE": "crm_project.settings",
        "PYTHONDONTWRITEBYTECODE": "1",
        "DEBUG": "false",
        "SECRET_KEY": "reliability-" + "k" * 50,
        "ALLOWED_HOSTS": HOST,
        "SECURE_SSL_REDIRECT": "false",
        "SESSION_COOKIE_SECURE": "false",
        "CSRF_COOKIE_SECURE": "false",
        "DATABASE_URL": database_url,
        "STATIC_ROOT": str(static_root),
        **extra,
    }


def run_python(env: dict[str, str], *args: str, timeout: float = 180) -> str:
    """Run the project's Python with `args` in a child; its stdout, or a failure showing its output."""
    result = subprocess.run(
        [sys.executable, *args], cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=timeout
    )
    if result.returncode != 0:
        what = "a python -c script" if args[0] == "-c" else " ".join(args)
        pytest.fail(f"{what} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result.stdout


def migrate_and_seed(env: dict[str, str], *, users: list[dict], customers: int) -> dict:
    """Migrate the database `env` names and create users (with tokens) and customers; see SETUP_SCRIPT."""
    spec = {"users": users, "customers": customers, "password": PASSWORD}
    return json.loads(run_python(env, "-c", SETUP_SCRIPT, json.dumps(spec)).strip().splitlines()[-1])


@pytest.fixture(scope="session")
def static_root(tmp_path_factory) -> Path:
    """collectstatic once: with DEBUG off, pages need the manifest to resolve `{% static %}`.

    The admin, DRF and Swagger UI assets are left out (these tests never render those pages), which
    saves most of the compression time.
    """
    root = tmp_path_factory.mktemp("static")
    env = production_env(database_url=f"sqlite:///{root / 'unused.sqlite3'}", static_root=root)
    ignored = ["-i", "admin", "-i", "rest_framework", "-i", "drf_spectacular_sidecar"]
    run_python(env, "manage.py", "collectstatic", "--noinput", "--verbosity", "0", *ignored)
    return root


class Gunicorn:
    """One gunicorn master (and its workers) serving the project on a free loopback port."""

    def __init__(self, env: dict[str, str], log_path: Path, *, workers: int = 2, timeout: int = 30):
        self.env = env
        self.timeout = timeout
        self.log_path = log_path
        self.workers = workers
        self.port = free_port()
        self.url = f"http://{HOST}:{self.port}"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        command = [str(GUNICORN), "crm_project.wsgi", "--workers", str(self.workers), "--bind", f"{HOST}:{self.port}"]
        command += ["--graceful-timeout", "5", "--timeout", str(self.timeout)]
        if gunicorn.version_info >= (27,):
            # Its control socket defaults to one path per user (~/.gunicorn), which parallel instances would share.
            command.append("--no-control-socket")
        with self.log_path.open("ab") as log:
            # A session of its own, so stop() can end exactly this master and its workers.
            self.process = subprocess.Popen(
                command, cwd=PROJECT_DIR, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )

    def wait_ready(self, timeout: float = 45) -> None:
        """Until /healthz/ answers 200; fails (with the server's log) if it exits or the time runs out."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"gunicorn on {self.url} exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                if requests.get(f"{self.url}/healthz/", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        pytest.fail(f"gunicorn on {self.url} was not healthy within {timeout} s:\n{self.log_tail()}")

    def worker_pids(self) -> set[int]:
        """The master's current children, read from /proc (a restarted worker would have a new pid)."""
        pids = set()
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rpartition(")")[2].split()
            except OSError:
                continue
            if int(fields[1]) == self.process.pid:
                pids.add(int(stat.parent.name))
        return pids

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=5)

    def kill(self) -> None:
        """kill -9 the master and its workers (its session): nothing finishes, in-flight requests are cut."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


@contextmanager
def serving(*servers: Gunicorn):
    """Start every server at once, wait until each is healthy, and always stop them all afterwards."""
    try:
        for server in servers:
            server.start()
        for server in servers:
            server.wait_ready()
        yield servers
    finally:
        for server in servers:
            server.stop()


def sign_in(base_url: str, username: str, password: str = PASSWORD) -> requests.Session:
    """Sign in through the real login form (CSRF token and all); the session holds the cookies."""
    session = requests.Session()
    form = session.get(f"{base_url}/accounts/login/", timeout=10)
    assert form.status_code == 200, form.text[:500]
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text).group(1)
    answer = session.post(
        f"{base_url}/accounts/login/",
        data={"username": username, "password": password, "csrfmiddlewaretoken": csrf},
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code == 302, f"sign-in failed: {answer.status_code} {answer.text[:500]}"
    assert "sessionid" in session.cookies
    return session


def database_url(*, user: str, password: str | None, host: str, port: int | str, name: str) -> str:
    credentials = quote(user, safe="") + (f":{quote(password, safe='')}" if password else "")
    return f"postgres://{credentials}@{host}:{port}/{name}"


class PgCluster:
    """A PostgreSQL cluster of its own (postgresql-common), on a free loopback port, trusted locally."""

    def __init__(self, name: str):
        versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]))
        if not versions:
            pytest.fail("PostgreSQL server binaries not found under /usr/lib/postgresql")
        self.version = versions[-1].parts[-3]
        self.name = name
        self.port = free_port()

    def _run(self, *command: str) -> None:
        result = subprocess.run(command, capture_output=True, text=True, timeout=120)
        if result.returncode != 0:
            pytest.fail(f"{' '.join(command)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")

    @property
    def data_directory(self) -> Path:
        return Path("/var/lib/postgresql") / self.version / self.name

    def bin(self, program: str) -> str:
        return f"/usr/lib/postgresql/{self.version}/bin/{program}"

    def create_standby_of(self, primary: "PgCluster") -> None:
        """Make this cluster a streaming replica of `primary`: a new cluster whose data is a pg_basebackup of it."""
        self.create()
        for entry in self.data_directory.iterdir():  # empty, keeping the directory (and its owner) for the copy
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
        self._run(
            "runuser", "-u", "postgres", "--", self.bin("pg_basebackup"), "-h", HOST, "-p", str(primary.port),
            "-U", "postgres", "-D", str(self.data_directory), "-R", "-X", "stream", "--checkpoint=fast",
        )  # fmt: skip

    def create(self) -> None:
        self._run(
            "pg_createcluster", self.version, self.name, "-p", str(self.port), "--start-conf", "manual",
            # A throwaway cluster: durability is not what these tests are about, start-up speed is.
            "-o", "fsync=off",
            "--", "--auth=trust",
        )  # fmt: skip

    def ctl(self, action: str, *options: str) -> None:
        self._run("pg_ctlcluster", "--skip-systemctl-redirect", self.version, self.name, action, *options)

    def start(self) -> None:
        self.ctl("start")
        self.wait_until(ready=True)

    def stop(self) -> None:
        self.ctl("stop", "-m", "fast")
        self.wait_until(ready=False)

    def wait_until(self, *, ready: bool, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            answer = subprocess.run(["pg_isready", "-q", "-h", HOST, "-p", str(self.port)], timeout=10)
            if (answer.returncode == 0) == ready:
                return
            time.sleep(0.2)
        pytest.fail(f"cluster {self.name} did not become {'ready' if ready else 'unreachable'} in {timeout} s")

    def drop(self) -> None:
        subprocess.run(
            ["pg_dropcluster", "--stop", self.version, self.name], capture_output=True, text=True, timeout=120
        )

    def create_database(self, name: str) -> str:
        self._run("psql", "-h", HOST, "-p", str(self.port), "-U", "postgres", "-q", "-c", f"CREATE DATABASE {name}")
        return database_url(user="postgres", password=None, host=HOST, port=self.port, name=name)


def require_pg_createcluster() -> None:
    """Skip where no cluster can be made (no postgresql-common, or not root), unless CI_REQUIRE_FAULTS is set."""
    if not (shutil.which("pg_createcluster") and shutil.which("pg_ctlcluster")):
        message = "pg_createcluster/pg_ctlcluster (postgresql-common) are not installed"
    elif os.geteuid() != 0:
        message = "pg_createcluster needs root to make a PostgreSQL cluster"
    else:
        return
    if os.environ.get("CI_REQUIRE_FAULTS"):
        pytest.fail(f"{message}, and CI_REQUIRE_FAULTS is set: the fault tests must run")
    pytest.skip(f"{message}; the fault tests need a PostgreSQL cluster of their own (set CI_REQUIRE_FAULTS to fail)")
