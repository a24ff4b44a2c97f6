"""Many simultaneous writers of one name for one customer end with exactly one row and no error.

Runs against whichever database the suite is configured for (a file-based SQLite database by default,
PostgreSQL with DATABASE_URL=postgres://...). Writers are threads with their own database connections, and
then real HTTP requests to a gunicorn with several worker processes sharing the test database.
"""

import http.client
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from http.cookies import SimpleCookie
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.hashers import PBKDF2PasswordHasher, make_password
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import connection, connections
from django.urls import reverse

from attributes import services
from attributes.models import Attribute
from attributes.services import Result
from customers.models import Customer
from tests.factories import make_customer, make_user

pytestmark = pytest.mark.django_db(transaction=True)

WRITERS = 16
HTTP_WRITERS = 40
GUNICORN_WORKERS = 3
READY_TIMEOUT = 30.0


def run_concurrently(count: int, write) -> list:
    """Call write(i) for i in range(count), each in its own thread with its own connection, all released at once."""
    barrier = threading.Barrier(count)

    def worker(i: int):
        try:
            barrier.wait(timeout=30)
            return write(i)
        finally:
            connections.close_all()  # this thread's connections; the test database is dropped at the end

    with ThreadPoolExecutor(max_workers=count) as pool:
        futures = [pool.submit(worker, i) for i in range(count)]
        return [future.result() for future in futures]  # re-raises any writer's exception


def test_concurrent_upserts_of_one_name_leave_exactly_one_row():
    customer = make_customer()
    user = make_user("create_customer_attribute", "update_customer_attribute")

    def write(i: int) -> Result:
        actor = User.objects.get(pk=user.pk)
        target = Customer.objects.get(pk=customer.pk)
        outcome = services.attribute_upsert(customer=target, name="external_crm_id", value=f"SF-{i}", actor=actor)
        return outcome.result

    results = run_concurrently(WRITERS, write)

    rows = list(Attribute.objects.filter(customer=customer))
    assert len(rows) == 1
    assert rows[0].attribute_name == "external_crm_id"
    assert rows[0].attribute_value in {f"SF-{i}" for i in range(WRITERS)}
    assert Counter(results)[Result.CREATED] == 1
    assert set(results) <= {Result.CREATED, Result.UPDATED, Result.UNCHANGED}


def test_concurrent_upserts_of_the_same_value_report_one_creation():
    customer = make_customer()

    def write(i: int) -> Result:
        target = Customer.objects.get(pk=customer.pk)
        return services.attribute_upsert(customer=target, name="support_tier", value="premium", actor=None).result

    results = run_concurrently(WRITERS, write)

    assert Counter(results) == {Result.CREATED: 1, Result.UNCHANGED: WRITERS - 1}
    assert list(Attribute.objects.values_list("attribute_name", "attribute_value")) == [("support_tier", "premium")]


def test_concurrent_upserts_of_different_names_all_succeed():
    customer = make_customer()

    def write(i: int) -> Result:
        target = Customer.objects.get(pk=customer.pk)
        return services.attribute_upsert(customer=target, name=f"attr_{i}", value=str(i), actor=None).result

    results = run_concurrently(WRITERS, write)

    assert results == [Result.CREATED] * WRITERS
    assert Attribute.objects.filter(customer=customer).count() == WRITERS


def test_concurrent_renames_onto_one_name_leave_one_winner():
    customer = make_customer()
    attributes = [
        services.attribute_upsert(customer=customer, name=f"old_{i}", value=str(i), actor=None).attribute
        for i in range(8)
    ]

    def write(i: int) -> str:
        try:
            services.attribute_update(attribute=attributes[i], name="external_crm_id", actor=None)
        except ValidationError:
            return "refused"
        return "renamed"

    results = run_concurrently(len(attributes), write)

    assert Counter(results) == {"renamed": 1, "refused": len(attributes) - 1}
    names = Counter(Attribute.objects.filter(customer=customer).values_list("attribute_name", flat=True))
    assert names["external_crm_id"] == 1
    assert sum(names.values()) == len(attributes)


# --- gunicorn with several workers ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url() -> str:
    """The URL of the test database this test runs against, for a separate server process."""
    db = connection.settings_dict
    if db["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{Path(db['NAME']).resolve()}"  # sqlite:////abs/path
    if db["ENGINE"] == "django.db.backends.postgresql":
        user = urllib.parse.quote(db["USER"] or "", safe="")
        password = urllib.parse.quote(db["PASSWORD"] or "", safe="")
        credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
        host = db["HOST"] or "localhost"
        port = f":{db['PORT']}" if db["PORT"] else ""
        return f"postgres://{credentials}{host}{port}/{db['NAME']}"
    pytest.fail(f"no DATABASE_URL for {db['ENGINE']}")
    return ""


class Browser:
    """A minimal cookie-keeping HTTP client on the standard library (no redirects followed)."""

    def __init__(self, port: int, cookies: dict[str, str] | None = None):
        self.port = port
        self.cookies: dict[str, str] = dict(cookies or {})

    def request(self, method: str, path: str, form: dict | None = None, timeout: float = 60.0):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            headers = {"Host": "127.0.0.1"}
            if self.cookies:
                headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
            body = None
            if form is not None:
                body = urllib.parse.urlencode(form)
                headers["Content-Type"] = "application/x-www-form-urlencoded"
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            text = response.read().decode("utf-8", "replace")
            for header in response.headers.get_all("Set-Cookie") or []:
                for name, morsel in SimpleCookie(header).items():
                    self.cookies[name] = morsel.value
            return response.status, response.headers, text
        finally:
            conn.close()

    def sign_in(self, username: str, password: str) -> None:
        status, _, page = self.request("GET", reverse("login"))
        assert status == 200, page[:500]
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        status, headers, page = self.request(
            "POST", reverse("login"), {"username": username, "password": password, "csrfmiddlewaretoken": token}
        )
        assert status == 302, f"sign-in failed ({status}): {page[:500]}"
        assert "sessionid" in self.cookies


@pytest.fixture
def gunicorn(tmp_path):
    """A gunicorn with several workers serving the app from the test database; yields its port."""
    port = free_port()
    env = {
        **os.environ,
        "ENV_FILE": os.devnull,  # a developer's .env must not point the server at another database
        "DATABASE_URL": database_url(),
        "SECRET_KEY": "gunicorn-test-secret-key-" + "x" * 32,
        "DEBUG": "false",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "SESSION_COOKIE_SECURE": "false",
        "CSRF_COOKIE_SECURE": "false",
        "STATIC_ROOT": str(tmp_path / "static"),
        "LOG_LEVEL": "WARNING",
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    # With DEBUG off the pages link to hashed static files from the manifest, so collect them as a deploy would.
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"],
        cwd=settings.BASE_DIR,
        env=env,
        check=True,
        timeout=300,
    )
    gunicorn_bin = Path(sys.executable).with_name("gunicorn")
    command = [str(gunicorn_bin)] if gunicorn_bin.exists() else [sys.executable, "-m", "gunicorn"]
    log = (tmp_path / "gunicorn.log").open("w+")
    server = subprocess.Popen(
        [
            *command,
            "crm_project.wsgi",
            "--workers",
            str(GUNICORN_WORKERS),
            "--bind",
            f"127.0.0.1:{port}",
            "--timeout",
            "60",
            "--graceful-timeout",
            "10",
        ],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_until_ready(server, port, log)
        yield port
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)
        log.close()
        shutil.rmtree(tmp_path / "static", ignore_errors=True)


def wait_until_ready(server: subprocess.Popen, port: int, log) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if server.poll() is not None:
            log.seek(0)
            pytest.fail(f"gunicorn exited with {server.returncode}:\n{log.read()[-3000:]}")
        try:
            status, _, _ = Browser(port).request("GET", "/healthz/", timeout=2)
        except OSError:
            status = None
        if status == 200:
            return
        time.sleep(0.2)
    log.seek(0)
    pytest.fail(f"gunicorn did not answer /healthz/ within {READY_TIMEOUT}s:\n{log.read()[-3000:]}")


def test_concurrent_adds_through_gunicorn_workers_leave_exactly_one_row(gunicorn):
    customer = make_customer()
    password = "a-long-password-for-gunicorn-1"
    user = make_user(
        "view_customer", "view_customer_attribute", "create_customer_attribute", "update_customer_attribute"
    )
    # The server process hashes with the project's own hashers, not the fast test-only one.
    user.password = make_password(password, hasher=PBKDF2PasswordHasher())
    user.save(update_fields=["password"])
    browser = Browser(gunicorn)
    browser.sign_in(user.username, password)
    add_url = reverse("attributes:create", args=[customer.pk])
    token = browser.cookies["csrftoken"]

    def post(i: int) -> tuple[int, str]:
        # Each writer its own copy of the signed-in cookies: responses set cookies (messages) concurrently.
        status, headers, body = Browser(gunicorn, browser.cookies).request(
            "POST",
            add_url,
            {"attribute_name": "external_crm_id", "attribute_value": f"SF-{i}", "csrfmiddlewaretoken": token},
        )
        return status, headers.get("Location", "") or body[:300]

    with ThreadPoolExecutor(max_workers=HTTP_WRITERS) as pool:
        responses = list(pool.map(post, range(HTTP_WRITERS)))

    statuses = Counter(status for status, _ in responses)
    assert set(statuses) <= {200, 302}, responses
    tab = reverse("attributes:tab", args=[customer.pk])
    assert all(location.endswith(tab) for status, location in responses if status == 302)
    rows = list(Attribute.objects.filter(customer=customer).values_list("attribute_name", "attribute_value"))
    assert len(rows) == 1
    assert rows[0][0] == "external_crm_id"
    assert rows[0][1] in {f"SF-{i}" for i in range(HTTP_WRITERS)}
    # The server saw the same database: the tab it serves shows the value that won.
    status, _, page = browser.request("GET", tab)
    assert status == 200
    assert rows[0][1] in page


def test_a_write_that_waited_for_anothers_lock_is_later_in_time_and_in_history():
    """Writer B starts while A holds the row's lock and writes after A: B's last_modified and history time must be
    later than A's, so the newest history row is the stored value. (The one-statement upsert took its time before
    the statement, i.e. before waiting; the two-instance scale-out test caught the history ordering the writes the
    other way round.)"""
    customer = make_customer()
    services.attribute_upsert(customer=customer, name="plan", value="start", actor=None)
    locked, b_started = threading.Event(), threading.Event()

    def writer_a():
        from django.db import transaction

        try:
            with transaction.atomic():
                row = Attribute.objects.select_for_update().get(customer=customer, attribute_name="plan")
                locked.set()
                b_started.wait(5)
                time.sleep(0.3)  # B is waiting for this lock now (SQLite: for the write lock)
                row.attribute_value = "from-a"
                row.save()
        finally:
            connections.close_all()

    def writer_b():
        try:
            locked.wait(5)
            b_started.set()
            services.attribute_upsert(customer=customer.pk, name="plan", value="from-b", actor=None)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer_a), threading.Thread(target=writer_b)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    stored = Attribute.objects.get(customer=customer, attribute_name="plan")
    newest = stored.history.order_by("-history_date", "-history_id").first()
    assert stored.attribute_value == "from-b"
    assert newest.attribute_value == "from-b", [
        (h.attribute_value, h.history_date) for h in stored.history.order_by("history_date")
    ]
