"""/metrics under a real gunicorn with two worker processes (PROMETHEUS_MULTIPROC_DIR): a scrape answered by either
worker adds up both, a killed worker's counts stay, and a request id given on a request is on its JSON log line."""

import json
import os
import signal
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.ops.metrics_text import samples, value

from .conftest import ATTRIBUTE_PERMS, Gunicorn, migrate_and_seed, production_env, serving

TOKEN = "scrape-" + "t" * 40
HEALTH_REQUESTS = 30


def scrape(server: Gunicorn) -> dict:
    response = requests.get(f"{server.url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)
    assert response.status_code == 200, response.text[:300]
    return samples(response.text)


def health(server: Gunicorn) -> int:
    return requests.get(f"{server.url}/healthz/", timeout=10, headers={"Connection": "close"}).status_code


def writers(multiproc) -> set[int]:
    """The processes that wrote series: prometheus-client names each file after its pid (counter_1234.db)."""
    return {int(name.rpartition("_")[2].removesuffix(".db")) for name in os.listdir(multiproc)}


def healthz_count(server: Gunicorn) -> float:
    return value(scrape(server), "crm_http_requests_total", route="healthz", status="200")


@pytest.fixture
def instance(static_root, tmp_path):
    multiproc = tmp_path / "prometheus"
    multiproc.mkdir()
    (multiproc / "counter_999999.db").write_bytes(b"stale file of an earlier run")  # on_starting removes it
    env = production_env(
        database_url=f"sqlite:///{tmp_path / 'metrics.sqlite3'}",
        static_root=static_root,
        PROMETHEUS_MULTIPROC_DIR=str(multiproc),
        METRICS_TOKEN=TOKEN,
        LOG_FORMAT="json",
        LOG_LEVEL="INFO",
        REQUEST_ID_TRUSTED_PROXIES="127.0.0.1",
        GUNICORN_THREADS="1",  # a busy worker leaves the next connection to the other
    )
    data = migrate_and_seed(env, users=[{"username": "writer", "perms": ATTRIBUTE_PERMS}], customers=1)
    server = Gunicorn(env, tmp_path / "gunicorn.log", workers=2)
    with serving(server):
        yield server, multiproc, data


def test_a_scrape_of_either_worker_adds_up_both_and_keeps_a_killed_workers_counts(instance):
    server, multiproc, _ = instance
    start = healthz_count(server)

    workers = server.worker_pids()
    assert len(workers) == 2
    sent = 0
    # Concurrent requests on new connections, one thread a worker: until both workers have served some.
    with ThreadPoolExecutor(max_workers=6) as pool:
        while sent < 50 * HEALTH_REQUESTS and not workers <= writers(multiproc):
            answers = list(pool.map(lambda _: health(server), range(HEALTH_REQUESTS)))
            assert answers == [200] * HEALTH_REQUESTS
            sent += HEALTH_REQUESTS

    assert workers <= writers(multiproc), "each worker writes its own series (multiprocess mode)"
    assert 999999 not in writers(multiproc), "gunicorn's on_starting hook empties the directory"
    counts = {healthz_count(server) for _ in range(8)}  # whichever worker answers each scrape
    assert counts == {start + sent}

    killed = next(iter(workers))
    os.kill(killed, signal.SIGKILL)
    deadline = time.monotonic() + 45  # a new worker boots Django; slow on a busy CI machine
    while (len(server.worker_pids()) != 2 or killed in server.worker_pids()) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert killed not in server.worker_pids() and len(server.worker_pids()) == 2, server.log_tail()
    assert {healthz_count(server) for _ in range(4)} == {start + sent}


def test_the_request_id_given_on_a_write_is_on_its_json_log_line_history_row_and_event(instance):
    server, _, data = instance
    request_id = f"edge-{uuid.uuid4().hex}"
    token, customer = data["tokens"]["writer"][0], data["customers"][0]

    response = requests.put(
        f"{server.url}/crm/attribute/",
        json={"customer_id": customer, "attribute_name": "vlan_id", "attribute_value": "1"},
        headers={"Authorization": f"Bearer {token}", "X-Request-ID": request_id},
        timeout=10,
    )
    assert response.status_code == 201, response.text
    assert response.headers["X-Request-ID"] == request_id
    history = requests.get(
        f"{server.url}/crm/attribute/customer_id/{customer}/history/",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    feed = requests.get(f"{server.url}/crm/event/", headers={"Authorization": f"Bearer {token}"}, timeout=10)

    lines = [json.loads(line) for line in server.log_path.read_text().splitlines() if line.startswith("{")]
    [line] = [line for line in lines if line["request_id"] == request_id]
    assert line["logger"] == "crm.request" and line["message"].startswith("PUT /crm/attribute/ 201")
    assert feed.status_code == 200, feed.text[:300]
    assert [e["request_id"] for e in feed.json()["events"]] == [request_id]
    assert history.status_code == 200, history.text[:300]
    assert [row["request_id"] for row in history.json()] == [request_id]
