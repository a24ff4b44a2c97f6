"""The reference deployment, tested as one system: the README's Production topology on this one machine.

A PostgreSQL primary and a streaming replica (pg_createcluster + pg_basebackup), one Redis, two gunicorn instances
(reads that tolerate lag go to the replica) and two job workers. Clients write through both instances (single PUTs
and bulk writes, each client on names of its own, retrying an unanswered request on the other instance), start a
rename job and an import job, search, and follow the change feed; a webhook receiver takes every event. Meanwhile
the worker holding a job is killed (kill -9) and restarted, and one web instance is killed (kill -9) and restarted.

Afterwards: every acknowledged write is stored (0 lost writes), every event arrived at the receiver (deduplicated
by id: none lost, none unknown) carrying the request id of the request that caused it, the feed gave every event,
every job finished (the killed worker's job was resumed by a worker), the replica converged on the primary, a
streamed export answered from the replica finished across a graceful shutdown (SIGTERM) of its instance, and the
metrics agree.

Runs with the PostgreSQL run of the suite (its clusters are its own, whatever the suite's database), in about a
minute; CI_REQUIRE_FAULTS makes a missing pg_createcluster a failure, not a skip.
"""

import os
import random
import threading
import time
import uuid
from dataclasses import dataclass, field

import psycopg
import pytest
import redis
import requests

from tests.ops.metrics_text import samples, value
from tests.webhooks.receiver import Receiver
from tests.workers import Workers, wait_for

from .conftest import (
    ATTRIBUTE_PERMS,
    Gunicorn,
    PgCluster,
    migrate_and_seed,
    production_env,
    require_pg_createcluster,
)

REDIS_URL = "redis://127.0.0.1:6379/14"
CLIENTS = 6
WORKLOAD_SECONDS = 14
CUSTOMERS = 24
IMPORT_ROWS = 1200
METRICS_TOKEN = "reference-" + "m" * 40
PERMS = [*ATTRIBUTE_PERMS, "manage_attribute_registry", "manage_webhooks"]
JOB_ENV = {
    "JOBS_LEASE_SECONDS": "3",
    "JOBS_SWEEP_SECONDS": "1",
    "JOBS_STALE_SECONDS": "2",
    "ATTRIBUTES_IMPORT_CHUNK": "5",  # many chunks, so the import is still running when its worker dies
    "ATTRIBUTES_RENAME_CHUNK": "2",
    "WEBHOOKS_ALLOW_PRIVATE_NETWORKS": "true",
    "WEBHOOKS_RETRY_SCHEDULE": "1,1,1,1,1,1,1,1,1,1",
    "WEBHOOKS_DISPATCH_SECONDS": "1",
    "WEBHOOKS_IDLE_SECONDS": "5",
}


@dataclass
class Deployment:
    primary_url: str
    replica_url: str
    web: tuple[Gunicorn, Gunicorn]
    workers: Workers
    receiver: Receiver
    tokens: list[str]
    customers: list[int]
    worker_env: dict[str, str]


@pytest.fixture(scope="module")
def deployment(static_root, tmp_path_factory):
    from django.conf import settings

    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        pytest.skip("the reference deployment runs with the suite's PostgreSQL run (DATABASE_URL=postgres://…)")
    require_pg_createcluster()
    cache = redis.Redis.from_url(REDIS_URL)
    try:
        cache.ping()
    except redis.ConnectionError:
        pytest.fail("Redis is not reachable at 127.0.0.1:6379 (see tests/reliability/test_scale_out.py)")
    prefix = f"crm-reference-{os.getpid()}"
    logs = tmp_path_factory.mktemp("reference")
    primary, replica = PgCluster(f"crmrefp{os.getpid()}"), PgCluster(f"crmrefr{os.getpid()}")
    receiver = Receiver()
    workers = Workers(logs)
    web: tuple[Gunicorn, ...] = ()
    try:
        primary.create()
        primary.start()
        primary_url = primary.create_database("crm")
        replica.create_standby_of(primary)
        replica.start()
        replica_url = primary_url.replace(f":{primary.port}/", f":{replica.port}/")
        common = {
            "DATABASE_URL": primary_url,
            "DATABASE_REPLICA_URLS": replica_url,
            "CACHE_URL": f"{REDIS_URL}?key_prefix={prefix}",
            "METRICS_TOKEN": METRICS_TOKEN,
            "REQUEST_ID_TRUSTED_PROXIES": "127.0.0.1",
            "CONN_MAX_AGE": "60",
            "API_THROTTLE_USER_RATE": "100000/min",
            **JOB_ENV,
        }
        env = production_env(database_url=primary_url, static_root=static_root, **common)
        data = migrate_and_seed(
            env, users=[{"username": "ops", "perms": PERMS, "tokens": CLIENTS + 2}], customers=CUSTOMERS
        )
        web = tuple(
            Gunicorn({**env, "PROMETHEUS_MULTIPROC_DIR": str(logs / f"metrics-{name}")}, logs / f"web-{name}.log")
            for name in ("a", "b")
        )
        worker_env = {"DATABASE_URL": primary_url, **JOB_ENV}
        for server in web:
            server.start()
        for server in web:
            server.wait_ready()
        for name in ("worker-1", "worker-2"):
            workers.start(name, **worker_env)
        yield Deployment(
            primary_url, replica_url, web, workers, receiver, data["tokens"]["ops"], data["customers"], worker_env
        )
    finally:
        workers.close()
        for server in web:
            server.stop()
        receiver.close()
        replica.drop()
        primary.drop()
        for key in cache.scan_iter(match=f"{prefix}:*"):
            cache.delete(key)


class Client(threading.Thread):
    """Writes names of its own (so its last acknowledged value of each is what must be stored) through both
    instances; an unanswered request is sent again to the other instance until one answers."""

    def __init__(self, number: int, token: str, deployment: Deployment, stop: threading.Event):
        super().__init__(name=f"client-{number}", daemon=True)
        self.number, self.deployment, self.stop = number, deployment, stop
        self.random = random.Random(number)
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {token}"
        self.acknowledged: dict[tuple[int, str], str] = {}  # (customer, name) -> last acknowledged value
        self.request_ids: dict[str, tuple[int, str, str]] = {}  # request id -> the single write it made
        self.unanswered = 0
        self.failures: list[str] = []
        self.searches = 0
        self.turn = 0

    def send(self, method: str, path: str, **kwargs) -> requests.Response:
        for _ in range(40):
            self.turn += 1  # each request (and each retry) to the other instance than the last one
            server = self.deployment.web[(self.number + self.turn) % 2]
            try:
                return self.http.request(method, server.url + path, timeout=20, **kwargs)
            except requests.RequestException:
                self.unanswered += 1
                time.sleep(0.05)
        raise AssertionError(f"{method} {path}: no instance answered 40 times")

    def run(self) -> None:
        n = 0
        try:
            while not self.stop.is_set():
                n += 1
                self.step(n)
        except Exception as error:  # a failure in the client must fail the test, not vanish with the thread
            self.failures.append(repr(error))

    def key(self) -> tuple[int, str]:
        return self.random.choice(self.deployment.customers), f"c{self.number}_{self.random.randrange(4)}"

    def step(self, n: int) -> None:
        kind = self.random.choice(["put", "put", "bulk", "find"])
        value_ = f"v{self.number}-{n}"
        if kind == "put":
            (customer, name), request_id = self.key(), uuid.uuid4().hex
            body = {"customer_id": customer, "attribute_name": name, "attribute_value": value_}
            response = self.send("PUT", "/crm/attribute/", json=body, headers={"X-Request-ID": request_id})
            if response.status_code not in (200, 201):
                self.failures.append(f"PUT {response.status_code} {response.text[:200]}")
                return
            self.acknowledged[(customer, name)] = value_
            self.request_ids[request_id] = (customer, name, value_)
        elif kind == "bulk":
            keys = {self.key() for _ in range(self.random.randint(2, 4))}
            body = [{"customer_id": c, "attribute_name": name, "attribute_value": value_} for c, name in keys]
            response = self.send("PUT", "/crm/attribute/bulk/", json=body)
            if response.status_code != 200:
                self.failures.append(f"bulk {response.status_code} {response.text[:200]}")
                return
            self.acknowledged.update(dict.fromkeys(keys, value_))
        else:
            response = self.send("GET", f"/crm/attribute/?attribute_name=c{self.number}_0&limit=50")
            if response.status_code != 200:
                self.failures.append(f"find {response.status_code} {response.text[:200]}")
            self.searches += 1


class FeedReader(threading.Thread):
    """Follows the change feed through both instances (it reads the replica) and keeps every event id it saw."""

    def __init__(self, token: str, deployment: Deployment, stop: threading.Event):
        super().__init__(name="feed", daemon=True)
        self.deployment, self.stop = deployment, stop
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {token}"
        self.after, self.seen, self.sequences, self.failures = 0, set(), [], []
        self.turn = 0

    def run(self) -> None:
        while not self.stop.is_set():
            self.read_once()
            time.sleep(0.1)

    def read_once(self) -> int:
        self.turn += 1
        server = self.deployment.web[self.turn % 2]
        try:
            response = self.http.get(f"{server.url}/crm/event/?after={self.after}&limit=1000", timeout=20)
        except requests.RequestException:
            return 0
        if response.status_code != 200:
            self.failures.append(f"feed {response.status_code} {response.text[:200]}")
            return 0
        page = response.json()
        for event in page["events"]:
            self.seen.add(event["event_id"])
            self.sequences.append(event["sequence"])
        self.after = page["next"]
        return len(page["events"])


@dataclass
class Kills:
    job_of_killed_worker: str | None = None
    notes: list[str] = field(default_factory=list)


def running_job(db_url: str) -> tuple[str, str] | None:
    with psycopg.connect(db_url, autocommit=True) as db:
        row = db.execute(
            "SELECT job_id::text, lease_owner FROM jobs_job WHERE status = 'running' AND lease_owner <> '' "
            "AND kind IN ('attributes.import', 'attributes.rename') LIMIT 1"
        ).fetchone()
    return tuple(row) if row else None


def rows(url: str, sql: str) -> list[tuple]:
    with psycopg.connect(url, autocommit=True) as db:
        return db.execute(sql).fetchall()


def test_reference_deployment_survives_a_killed_instance_and_worker(deployment):
    d = deployment
    ops = requests.Session()
    ops.headers["Authorization"] = f"Bearer {d.tokens[-1]}"
    a, b = d.web
    hook = ops.post(f"{b.url}/crm/webhook/", json={"url": d.receiver.url, "event_types": ["*"]}, timeout=20)
    assert hook.status_code == 201, hook.text
    d.receiver.secrets.append(hook.json()["secret"])
    legacy = [{"customer_id": c, "attribute_name": "legacy_tier", "attribute_value": f"t{c}"} for c in d.customers]
    assert ops.put(f"{b.url}/crm/attribute/bulk/", json=legacy, timeout=20).status_code == 200

    stop = threading.Event()
    clients = [Client(n, d.tokens[n], d, stop) for n in range(CLIENTS)]
    feed = FeedReader(d.tokens[CLIENTS], d, stop)
    for thread in (*clients, feed):
        thread.start()
    started = time.monotonic()
    kills = Kills()
    try:
        time.sleep(2)
        csv = "customer_id,attribute_name,attribute_value\n" + "".join(
            f"{d.customers[i % CUSTOMERS]},imp_{i // CUSTOMERS},i{i}\n" for i in range(IMPORT_ROWS)
        )
        imported = ops.post(f"{b.url}/crm/attribute/import", data=csv.encode(), timeout=30,
                            headers={"Content-Type": "text/csv"})  # fmt: skip
        renamed = ops.post(
            f"{b.url}/crm/attribute/rename", json={"old_name": "legacy_tier", "new_name": "service_tier"}, timeout=30
        )
        assert (imported.status_code, renamed.status_code) == (202, 202), imported.text + renamed.text
        job_ids = {imported.json()["job_id"], renamed.json()["job_id"]}

        # kill -9 the worker that holds a job, mid-job; it comes back two seconds later.
        job, owner = wait_for(lambda: running_job(d.primary_url), timeout=20, interval=0.01, message="a running job")
        victim = next(w for w in d.workers.started if w.name == owner and w.process.poll() is None)
        victim.kill()
        if _still_owned(d.primary_url, job, owner):
            kills.job_of_killed_worker = job
        kills.notes.append(f"killed {owner} holding job {job}")
        time.sleep(1)
        a.kill()  # kill -9 one web instance (master and workers) under load
        time.sleep(2)
        d.workers.start(f"{owner}-restarted", **d.worker_env)
        a.start()  # same port: the clients come back to it
        a.wait_ready()
        time.sleep(max(0.0, WORKLOAD_SECONDS - (time.monotonic() - started)))
    finally:
        stop.set()
        for thread in (*clients, feed):
            thread.join(timeout=60)

    failures = [f for c in clients for f in c.failures] + feed.failures
    assert not failures, failures[:10]
    assert sum(c.unanswered for c in clients) > 0, "the killed instance cut no request: the kill proved nothing"
    assert all(c.searches for c in clients)

    # Every job finished, the killed worker's included (resumed from its checkpoint by another worker).
    def jobs_done():
        found = rows(d.primary_url, "SELECT job_id::text, status, attempts FROM jobs_job")
        mine = {j: (s, n) for j, s, n in found if j in job_ids}
        return mine if all(s in ("succeeded", "failed", "cancelled") for s, _ in mine.values()) else None

    finished = wait_for(jobs_done, timeout=90, interval=0.5, message="the import and rename jobs")
    assert {s for s, _ in finished.values()} == {"succeeded"}, finished
    if kills.job_of_killed_worker:
        assert finished[kills.job_of_killed_worker][1] >= 2, "the killed worker's job was not resumed"

    # 0 lost writes: every acknowledged value is the stored one; the jobs' writes are all there.
    stored = {(c, n): v for c, n, v in rows(d.primary_url, "SELECT customer_id, attribute_name, attribute_value "
                                                            "FROM attributes_attribute")}  # fmt: skip
    acknowledged = {k: v for c in clients for k, v in c.acknowledged.items()}
    lost = {k: (v, stored.get(k)) for k, v in acknowledged.items() if stored.get(k) != v}
    assert not lost, f"{len(lost)} of {len(acknowledged)} acknowledged writes lost, e.g. {list(lost.items())[:5]}"
    assert len(acknowledged) > 50
    assert {(c, n) for (c, n) in stored if n == "service_tier"} == {(c, "service_tier") for c in d.customers}
    assert not [k for k in stored if k[1] == "legacy_tier"]
    assert sum(1 for k in stored if k[1].startswith("imp_")) == IMPORT_ROWS

    # 0 lost or unknown events at the receiver (deduplicated by webhook-id), each with its request's id.
    events = {e: r for e, r in rows(d.primary_url, "SELECT event_id::text, request_id FROM events_event")}

    def delivered():
        got = {m.message_id for m in d.receiver.accepted()}
        return got if got >= set(events) else None

    wait_for(delivered, timeout=90, interval=0.5, message=f"{len(events)} events at the webhook receiver")
    messages = {}
    for message in d.receiver.accepted():
        messages.setdefault(message.message_id, message)
    assert set(messages) == set(events), "the receiver got events the database does not have"
    assert all(m.headers.get("x-request-id") == events[i] != "" for i, m in messages.items())
    by_request = {events[i]: m.body["data"] for i, m in messages.items()}
    for client in clients:
        for request_id, (customer, name, value_) in client.request_ids.items():
            event = by_request.get(request_id)
            assert event is not None, f"no event at the receiver carries request id {request_id}"
            assert (event["customer_id"], event["data"]["attribute_name"], event["data"]["attribute_value"]) == (
                customer, name, value_,
            )  # fmt: skip
    duplicates = len(d.receiver.accepted()) - len(messages)

    # The feed (read from the replica) gave every event once, in sequence order.
    wait_for(lambda: feed.read_once() == 0 and feed.seen >= set(events), timeout=60, interval=0.2,
             message="the change feed to give every event")  # fmt: skip
    assert feed.seen == set(events)
    assert feed.sequences == sorted(set(feed.sequences))

    # The replica converged on the primary.
    table = "SELECT customer_id, attribute_name, attribute_value FROM attributes_attribute ORDER BY 1, 2"
    wait_for(lambda: rows(d.replica_url, table) == rows(d.primary_url, table), timeout=30, interval=0.2,
             message="the replica to converge")  # fmt: skip
    assert rows(d.replica_url, "SELECT pg_is_in_recovery()") == [(True,)]

    # A streamed export (read from the replica) finishes across a graceful shutdown of its instance.
    fresh = requests.Session()
    fresh.headers["Authorization"] = f"Bearer {d.tokens[CLIENTS + 1]}"  # has not written: reads the replica
    export = fresh.get(f"{b.url}/crm/attribute/export/", stream=True, timeout=30)
    assert export.status_code == 200
    chunks = export.iter_content(chunk_size=4096)
    first = next(chunks)
    b.process.terminate()  # SIGTERM: gunicorn stops accepting and finishes what is in flight
    body = first + b"".join(chunks)
    assert b.process.wait(timeout=30) == 0
    assert body.count(b"\n") == len(stored) + 1, "the export was cut by the shutdown"

    # The metrics agree with the database.
    metrics = samples(requests.get(f"{a.url}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"},
                                   timeout=10).text)  # fmt: skip
    assert value(metrics, "crm_events_written_total") == len(events)
    assert value(metrics, "crm_jobs", status="running") <= 2  # periodic ones (delivery, upkeep): one a live worker
    assert value(metrics, "crm_jobs_oldest_due_age_seconds") < 10  # nothing waits for a worker
    assert value(metrics, "crm_webhook_deliveries", outcome="succeeded") == len(events)
    print(
        f"\nreference deployment: {len(acknowledged)} keys acknowledged, {len(events)} events "
        f"({duplicates} duplicate deliveries), {sum(c.unanswered for c in clients)} unanswered requests retried, "
        f"jobs {finished}; {'; '.join(kills.notes)}"
    )


def _still_owned(db_url: str, job: str, owner: str) -> bool:
    """Right after the kill: the job is still running under the dead worker's lease (so it must be resumed)."""
    found = rows(db_url, f"SELECT status, lease_owner FROM jobs_job WHERE job_id = '{job}'")
    return found == [("running", owner)]
