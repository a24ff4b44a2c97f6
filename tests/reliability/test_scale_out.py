"""Scale-out: two gunicorn instances on one PostgreSQL database and one Redis cache, the production shape.

Sessions and API throttling hold across instances, and concurrent clients writing the same few names
through both instances never leave two rows for one name, nor history that disagrees with the data.
PostgreSQL only: SQLite is one file on one machine, not something several instances share.
"""

import contextlib
import os
import random
import threading
import time
from dataclasses import dataclass

import psycopg
import pytest
import redis
import requests

from .conftest import (
    ATTRIBUTE_PERMS,
    HOST,
    Gunicorn,
    database_url,
    migrate_and_seed,
    production_env,
    run_python,
    serving,
    sign_in,
)

REDIS_URL = "redis://127.0.0.1:6379/15"
THROTTLE_LIMIT = 30
CLIENTS, REQUESTS_PER_CLIENT, BURST_TIME_CAP_S = 8, 40, 30
NAMES = ["plan", "region", "vlan", "port"]
# Collisions of concurrent writers are answered, never failed: 400 (rename onto a taken name),
# 404 (deleted meanwhile) and 412 (changed meanwhile) are all fine; anything else is not.
EXPECTED_STATUSES = {200, 201, 400, 404, 412}


@dataclass
class ScaleOut:
    database_url: str
    pair: tuple[Gunicorn, Gunicorn]
    throttled: tuple[Gunicorn, Gunicorn]
    writer_tokens: list[str]
    limited_token: str
    customers: list[int]


@pytest.fixture(scope="module")
def scale_out(static_root, tmp_path_factory):
    from django.conf import settings

    db = settings.DATABASES["default"]
    if db["ENGINE"] != "django.db.backends.postgresql":
        pytest.skip("scale-out runs on PostgreSQL only (DATABASE_URL=postgres://…): SQLite is not shared by hosts")
    prefix = f"crm-scaleout-{os.getpid()}"
    cache = redis.Redis.from_url(REDIS_URL)
    try:
        cache.ping()
    except redis.ConnectionError:
        pytest.fail(
            "Redis is not reachable at 127.0.0.1:6379; start it with "
            '`redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no`'
        )
    db_name = f"crm_scaleout_{os.getpid()}"
    server = {"host": db["HOST"] or HOST, "port": db["PORT"] or 5432, "user": db["USER"], "password": db["PASSWORD"]}
    admin = psycopg.connect(dbname="postgres", autocommit=True, **{k: v for k, v in server.items() if v})
    url = database_url(**server, name=db_name)
    logs = tmp_path_factory.mktemp("scale_out")
    env = production_env(database_url=url, static_root=static_root, CACHE_URL=f"{REDIS_URL}?key_prefix={prefix}")
    try:
        _delete_keys(cache, prefix)
        admin.execute(f"CREATE DATABASE {db_name}")
        data = migrate_and_seed(
            env,
            users=[
                {"username": "writer", "perms": ATTRIBUTE_PERMS, "tokens": CLIENTS},
                {"username": "limited", "perms": ATTRIBUTE_PERMS},
            ],
            customers=3,
        )
        pair = tuple(Gunicorn(env, logs / f"{name}.log") for name in ("a", "b"))
        throttled_env = {**env, "API_THROTTLE_USER_RATE": f"{THROTTLE_LIMIT}/min"}
        throttled = tuple(Gunicorn(throttled_env, logs / f"{name}.log", workers=1) for name in ("c", "d"))
        tokens = data["tokens"]
        with serving(*pair, *throttled):
            yield ScaleOut(url, pair, throttled, tokens["writer"], tokens["limited"][0], data["customers"])
    finally:
        admin.execute(f"DROP DATABASE IF EXISTS {db_name} WITH (FORCE)")
        admin.close()
        _delete_keys(cache, prefix)


def _delete_keys(cache: redis.Redis, prefix: str) -> None:
    """Empty this test's part of the cache (not FLUSHDB: another run may share the Redis database)."""
    for key in cache.scan_iter(match=f"{prefix}:*"):
        cache.delete(key)


def test_cache_url_key_prefix_reaches_django(tmp_path):
    """django-environ keeps `?key_prefix=` lower-case for RedisCache; settings must hand Django KEY_PREFIX."""
    env = production_env(
        database_url=f"sqlite:///{tmp_path / 'unused.sqlite3'}",
        static_root=tmp_path,
        CACHE_URL=f"{REDIS_URL}?key_prefix=crm-a",
    )
    code = "import django; django.setup(); from django.core.cache import cache; print(cache.make_key('k'))"

    assert run_python(env, "-c", code).strip() == "crm-a:1:k"


def test_session_from_one_instance_works_on_the_other(scale_out):
    a, b = scale_out.pair
    customer = scale_out.customers[0]
    browser = sign_in(a.url, "writer")
    elsewhere = requests.Session()
    for cookie in ("sessionid", "csrftoken"):
        elsewhere.cookies.set(cookie, browser.cookies[cookie])

    page = elsewhere.get(f"{b.url}/customers/{customer}/attributes/", allow_redirects=False, timeout=10)
    write = elsewhere.put(
        f"{b.url}/crm/attribute/",
        json={"customer_id": customer, "attribute_name": "signed_in_on", "attribute_value": "a"},
        headers={"X-CSRFToken": browser.cookies["csrftoken"]},
        timeout=10,
    )
    signed_out = elsewhere.post(
        f"{b.url}/accounts/logout/",
        data={"csrfmiddlewaretoken": browser.cookies["csrftoken"]},
        allow_redirects=False,
        timeout=10,
    )
    after_sign_out = browser.get(f"{a.url}/customers/{customer}/attributes/", allow_redirects=False, timeout=10)

    assert page.status_code == 200, page.text[:300]
    assert "writer" in page.text
    assert write.status_code == 201, write.text[:300]
    assert signed_out.status_code == 302
    assert after_sign_out.status_code == 302  # signing out on B ended the session on A too
    assert "/accounts/login/" in after_sign_out.headers["Location"]


def test_throttle_limit_is_shared_by_the_instances(scale_out):
    c, d = scale_out.throttled
    path = f"/crm/attribute/customer_id/{scale_out.customers[0]}/"
    headers = {"Authorization": f"Bearer {scale_out.limited_token}"}

    answers = [
        (server, requests.get(server.url + path, headers=headers, timeout=10))
        for server in (c, d) * THROTTLE_LIMIT  # twice the limit, alternating instances
    ]

    allowed = [response for _, response in answers if response.status_code == 200]
    refused = [(server, response) for server, response in answers if response.status_code == 429]
    assert len(allowed) == THROTTLE_LIMIT, "each instance counted on its own: the throttle is not shared"
    assert len(refused) == THROTTLE_LIMIT
    assert {server for server, _ in refused} == {c, d}
    assert all(int(response.headers["Retry-After"]) > 0 for _, response in refused)


def logged_errors(scale_out: ScaleOut) -> str:
    """The error lines (exception names included) the instances logged, to say why a request failed."""
    lines = (line for server in scale_out.pair for line in server.log_tail(400).splitlines())
    return "\n".join(line for line in lines if "Error" in line or "error" in line)


class Client(threading.Thread):
    """One API client: random upserts, renames, bulk writes and deletes, alternating between the instances."""

    def __init__(self, number: int, token: str, scale_out: ScaleOut, known_ids: list[int], deadline: float):
        super().__init__(name=f"client-{number}")
        self.number, self.scale_out, self.known_ids, self.deadline = number, scale_out, known_ids, deadline
        self.random = random.Random(number)
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {token}"
        self.outcomes: list[tuple[str, int | str, str]] = []

    def run(self) -> None:
        for n in range(REQUESTS_PER_CLIENT):
            if time.monotonic() > self.deadline:
                return
            try:
                self.request(n)
            except Exception as error:  # a bug in the client must fail the test, not vanish with the thread
                self.outcomes.append(("client", "crashed", repr(error)))
                return

    def request(self, n: int) -> None:
        base = self.scale_out.pair[(self.number + n) % 2].url + "/crm/attribute"
        operation = self.random.choice(["upsert", "upsert", "rename", "bulk", "bulk", "bulk", "delete"])
        attribute_id = self.some_known_id()
        if attribute_id is None and operation in {"rename", "delete"}:
            operation = "upsert"
        value = f"c{self.number}-{n}"
        if operation == "upsert":
            customer, name = self.random.choice(self.scale_out.customers), self.random.choice(NAMES)
            body = {"customer_id": customer, "attribute_name": name, "attribute_value": value}
            method, url = "PUT", f"{base}/"
        elif operation == "bulk":
            keys = [(c, name) for c in self.scale_out.customers for name in NAMES]
            body = [
                {"customer_id": c, "attribute_name": name, "attribute_value": value}
                for c, name in self.random.sample(keys, k=self.random.randint(2, 5))
            ]
            method, url = "PUT", f"{base}/bulk/"
        elif operation == "rename":
            body = {"attribute_name": self.random.choice(NAMES), "attribute_value": value}
            method, url = "PATCH", f"{base}/attribute_id/{attribute_id}"
        else:
            method, url, body = "DELETE", f"{base}/attribute_id/{attribute_id}", None
        try:
            response = self.http.request(method, url, json=body, timeout=20)
        except requests.RequestException as error:
            self.outcomes.append((operation, "no answer", repr(error)))
            return
        self.outcomes.append((operation, response.status_code, response.text[:300]))
        if response.ok and method == "PUT":
            written = response.json() if operation == "bulk" else [response.json()]
            self.known_ids.extend(item["attribute_id"] for item in written)
        elif method == "DELETE" and response.status_code in {200, 404}:
            with contextlib.suppress(ValueError):  # another client may have dropped it first
                self.known_ids.remove(attribute_id)

    def some_known_id(self) -> int | None:
        """An id some client wrote (maybe deleted since); the list is shared, so it may shrink meanwhile."""
        try:
            return self.random.choice(self.known_ids)
        except IndexError:
            return None


def test_concurrent_writes_through_both_instances_keep_data_and_history_consistent(scale_out):
    known_ids: list[int] = []  # shared by the clients: list operations are atomic under the GIL
    deadline = time.monotonic() + BURST_TIME_CAP_S
    clients = [Client(n, token, scale_out, known_ids, deadline) for n, token in enumerate(scale_out.writer_tokens)]
    for client in clients:
        client.start()
    for client in clients:
        client.join(timeout=BURST_TIME_CAP_S + 30)
    assert not any(client.is_alive() for client in clients), "a client is still waiting for an answer"

    outcomes = [outcome for client in clients for outcome in client.outcomes]
    unexpected = [outcome for outcome in outcomes if outcome[1] not in EXPECTED_STATUSES]
    assert not unexpected, (
        f"{len(unexpected)} of {len(outcomes)} failed, e.g. {unexpected[:5]}\n{logged_errors(scale_out)}"
    )
    succeeded = {operation for operation, status, _ in outcomes if status in {200, 201}}
    assert succeeded == {"upsert", "rename", "bulk", "delete"}, "the burst did not exercise every kind of write"

    with psycopg.connect(scale_out.database_url) as db:
        duplicates = db.execute(
            "SELECT customer_id, attribute_name, count(*) FROM attributes_attribute "
            "GROUP BY customer_id, attribute_name HAVING count(*) > 1"
        ).fetchall()
        current = {
            row[0]: row[1:]
            for row in db.execute(
                "SELECT attribute_id, customer_id, attribute_name, attribute_value FROM attributes_attribute"
            )
        }
        # The newest history row of each attribute id, newest as the history API orders it.
        latest = {
            row[0]: row[1:]
            for row in db.execute(
                "SELECT DISTINCT ON (attribute_id) attribute_id, history_type, customer_id, attribute_name, "
                "attribute_value FROM attributes_historicalattribute "
                "ORDER BY attribute_id, history_date DESC, history_id DESC"
            )
        }

    assert duplicates == []
    assert current, "the burst left no attributes at all"
    for attribute_id, state in current.items():
        assert attribute_id in latest, f"attribute {attribute_id} has no history"
        history_type, *recorded = latest[attribute_id]
        assert history_type != "-", f"attribute {attribute_id} exists, but its history ends with a delete"
        assert tuple(recorded) == state, f"attribute {attribute_id} is {state}, its history says {recorded}"
    alive_in_history = {attribute_id for attribute_id, (history_type, *_) in latest.items() if history_type != "-"}
    assert alive_in_history == set(current), "history says these exist: " + str(alive_in_history - set(current))
