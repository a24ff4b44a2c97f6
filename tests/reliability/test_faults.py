"""Faults: the database goes away and comes back, and a query waits too long.

Runs against a PostgreSQL cluster made for this module (never the shared one), on every test run,
whatever database the rest of the suite uses. One gunicorn with persistent connections serves it.
"""

import json
import os
import time
from dataclasses import dataclass

import psycopg
import pytest
import requests

from .conftest import (
    ATTRIBUTE_PERMS,
    Gunicorn,
    PgCluster,
    migrate_and_seed,
    production_env,
    require_pg_createcluster,
    run_python,
    serving,
    sign_in,
)

STATEMENT_TIMEOUT_MS = 1000
RECOVERY_WINDOW_S = 30
# What a stack trace or a leaked driver error would show; none of it may reach a client.
LEAKS = ("Traceback", 'File "', "OperationalError", "psycopg", "django.db")


@dataclass
class Site:
    server: Gunicorn
    database_url: str
    browser: requests.Session
    token: str
    customer_id: int

    def page(self) -> requests.Response:
        return self.browser.get(f"{self.server.url}/customers/{self.customer_id}/attributes/", allow_redirects=False)

    def api(self) -> requests.Response:
        url = f"{self.server.url}/crm/attribute/customer_id/{self.customer_id}/"
        return requests.get(url, headers={"Authorization": f"Bearer {self.token}"}, timeout=15)

    def healthz(self) -> requests.Response:
        return requests.get(f"{self.server.url}/healthz/", timeout=15)


@pytest.fixture(scope="module")
def cluster():
    require_pg_createcluster()
    cluster = PgCluster(f"crmfault{os.getpid()}")
    try:
        cluster.create()
        cluster.start()
        yield cluster
    finally:
        cluster.drop()


@pytest.fixture(scope="module")
def site(cluster, static_root, tmp_path_factory):
    url = cluster.create_database("crm")
    env = production_env(
        database_url=url,
        static_root=static_root,
        CONN_MAX_AGE="60",  # persistent connections: the ones open at the outage must be noticed and replaced
        DB_STATEMENT_TIMEOUT_MS=str(STATEMENT_TIMEOUT_MS),
    )
    data = migrate_and_seed(env, users=[{"username": "reader", "perms": ATTRIBUTE_PERMS}], customers=1)
    server = Gunicorn(env, tmp_path_factory.mktemp("faults") / "gunicorn.log")
    with serving(server):
        yield Site(server, url, sign_in(server.url, "reader"), data["tokens"]["reader"][0], data["customers"][0])


def assert_all_ok(site: Site) -> None:
    page, api, health = site.page(), site.api(), site.healthz()
    assert page.status_code == 200, page.text[:300]
    assert "Reliability 0" in page.text
    assert api.status_code == 200, api.text[:300]
    assert api.json() == []
    assert health.status_code == 200
    assert health.json() == {"status": "ok", "database": "ok"}


def assert_unavailable_page(response: requests.Response) -> None:
    assert response.status_code == 503, response.text[:300]
    assert response.headers["Content-Type"].startswith("text/html")
    assert response.headers["Retry-After"]
    assert "Temporarily unavailable" in response.text
    assert "database is unavailable" in response.text
    for leak in LEAKS:
        assert leak not in response.text


def assert_unavailable_json(response: requests.Response) -> None:
    assert response.status_code == 503, response.text[:300]
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["Retry-After"]
    assert list(response.json()) == ["detail"]
    assert "database is unavailable" in response.json()["detail"]
    for leak in LEAKS:
        assert leak not in response.text


def test_database_outage_answers_503_and_the_same_processes_recover(site, cluster):
    assert_all_ok(site)  # also opens the persistent connections the outage will break
    workers = site.server.worker_pids()
    assert len(workers) == 2

    cluster.stop()
    try:
        for _ in range(3):  # more requests than workers, so each worker meets its broken connection
            assert_unavailable_page(site.page())
            assert_unavailable_json(site.api())
            health = site.healthz()
            assert health.status_code == 503
            assert health.json() == {"status": "error", "database": "unreachable"}
    finally:
        cluster.start()

    deadline = time.monotonic() + RECOVERY_WINDOW_S
    while site.healthz().status_code != 200:
        assert time.monotonic() < deadline, f"not recovered within {RECOVERY_WINDOW_S} s:\n{site.server.log_tail()}"
        time.sleep(0.5)
    for _ in range(3):
        assert_all_ok(site)  # still signed in: the session outlived the outage
    assert site.server.worker_pids() == workers, "workers were replaced; recovery must not need a restart"


CANCELLED_QUERY = """
import json, time
import django
django.setup()
from django.db import OperationalError, connection

with connection.cursor() as cursor:
    cursor.execute("SHOW statement_timeout")
    setting = cursor.fetchone()[0]
started = time.monotonic()
try:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_sleep(2)")
    outcome = "completed"
except OperationalError as error:
    outcome = type(error.__cause__).__name__
print(json.dumps({"setting": setting, "outcome": outcome, "seconds": time.monotonic() - started}))
"""


def test_statement_timeout_cancels_a_slow_query(site, static_root):
    env = production_env(database_url=site.database_url, static_root=static_root, DB_STATEMENT_TIMEOUT_MS="200")

    answer = json.loads(run_python(env, "-c", CANCELLED_QUERY))

    assert answer["setting"] == "200ms"
    assert answer["outcome"] == "QueryCanceled"
    assert answer["seconds"] < 1.5


def test_request_held_past_the_statement_timeout_answers_503(site):
    # Another session holds the attributes table, so the request's query waits until the timeout ends it.
    with psycopg.connect(site.database_url) as blocker:
        blocker.execute("LOCK TABLE attributes_attribute IN ACCESS EXCLUSIVE MODE")
        started = time.monotonic()
        api = site.api()
        api_seconds = time.monotonic() - started
        page = site.page()
        blocker.rollback()

    assert_unavailable_json(api)
    assert api_seconds < STATEMENT_TIMEOUT_MS / 1000 + 3
    assert_unavailable_page(page)
    assert_all_ok(site)  # the workers are free again
