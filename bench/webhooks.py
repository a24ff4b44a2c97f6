"""Webhooks under load: PUT throughput with 3 endpoints subscribed against none, and how fast one worker delivers.

    .venv/bin/python bench/webhooks.py --database-url postgres://postgres@127.0.0.1:5432/crm_bench_100000 \
        --customers 100000

The product runs as in production: gunicorn (gunicorn.conf.py, 4 workers) and one `run_worker` at nice 5. A local
receiver (an HTTP server in this process, answering 204) stands in for the integrations; the endpoints are
created through `POST /crm/webhook/` with WEBHOOKS_ALLOW_PRIVATE_NETWORKS=true (it is on loopback).

1. Throughput: the upsert scenario of `make bench` (wrk, 8 clients, random customers and names) with no endpoint,
   then with 3 endpoints subscribed to every event, alternating, `--rounds` times each; the worker delivers
   meanwhile. Also how long after the load the receiver had every event (the backlog the load left).
2. Delivery rate: one endpoint; one bulk PUT of 1000 items `--bulk` times; events per second from the first PUT
   to the last event received (each event is one signed POST).
"""

import argparse
import json
import re
import statistics
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.jobs import WorkerProcess  # noqa: E402
from bench.run import ACCOUNTS_SCRIPT, PYTHON, Server, bench_env, manage, wrk  # noqa: E402


class Receiver:
    """Counts POSTs per path; answers 204."""

    def __init__(self):
        self.counts: dict[str, int] = {}
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver.lock:
                    receiver.counts[self.path] = receiver.counts.get(self.path, 0) + 1
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def total(self) -> int:
        with self.lock:
            return sum(self.counts.values())


def events_count(env: dict) -> int:
    out = manage(env, "shell", "-c", "from events.models import Event; print(Event.objects.count())", capture=True)
    return int(out.strip().splitlines()[-1])


def wait_for(receiver: Receiver, target: int, timeout: float = 600) -> float:
    started = time.monotonic()
    while receiver.total() < target:
        if time.monotonic() - started > timeout:
            raise RuntimeError(f"the receiver got {receiver.total()} of {target} deliveries in {timeout:.0f} s")
        time.sleep(0.05)
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--customers", type=int, required=True)
    parser.add_argument("--duration", type=float, default=10)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--bulk", type=int, default=5, help="1000-item bulk PUTs for the delivery rate")
    args = parser.parse_args()
    env = bench_env(
        args.database_url, tempfile.mkdtemp(prefix="crm-bench-static-"), WEBHOOKS_ALLOW_PRIVATE_NETWORKS="true"
    )
    manage(env, "migrate", "--noinput", "-v0")
    accounts = manage(env, "shell", "-c", ACCOUNTS_SCRIPT, capture=True)
    token = re.search(r"^TOKEN=(\S+)", accounts, re.M).group(1)
    admin = {"Authorization": "Bearer " + re.search(r"^ADMIN_TOKEN=(\S+)", accounts, re.M).group(1)}
    manage(env, "shell", "-c", "from webhooks.models import Webhook; Webhook.objects.all().delete()")
    lua = {"BENCH_TOKEN": token, "BENCH_CUSTOMERS": str(args.customers)}
    receiver = Receiver()
    server = Server(env, 4)
    worker = WorkerProcess(env, PYTHON, "bench-webhooks")
    hooks: list[str] = []

    def subscribe(n: int) -> None:
        for _ in range(n):
            body = {"url": f"http://127.0.0.1:{receiver.port}/hook{len(hooks)}", "event_types": ["*"]}
            status, _, raw = server.request("POST", "/crm/webhook/", body, admin)
            assert status == 201, raw
            hooks.append(json.loads(raw)["webhook_id"])

    def unsubscribe() -> None:
        while hooks:
            status, _, raw = server.request("DELETE", f"/crm/webhook/{hooks.pop()}", None, admin)
            assert status in (200, 204), raw

    runs: dict[str, list[dict]] = {"no webhook": [], "3 webhooks": []}
    try:
        for _ in range(args.rounds):
            for state in runs:
                if state == "3 webhooks":
                    subscribe(3)
                before_events, before_received = events_count(env), receiver.total()
                result = wrk(server.base, "upsert.lua", lua, duration=args.duration, connections=8)
                runs[state].append(result)
                line = (
                    f"{state:11} {result['rps']:7.1f} req/s  p99 {result['p99_ms']:6.1f} ms  errors {result['errors']}"
                )
                if hooks:
                    new_events = events_count(env) - before_events
                    backlog = wait_for(receiver, before_received + new_events * len(hooks))
                    line += f"  ({new_events} events x {len(hooks)} delivered {backlog:.1f} s after the load)"
                    unsubscribe()
                print(line, flush=True)
        subscribe(1)
        time.sleep(2)  # the delivery job is running
        start_received = receiver.total()
        items = [
            {"customer_id": 1 + (n * 7919) % args.customers, "attribute_name": "bench_hook", "attribute_value": f"v{n}"}
            for n in range(1000)
        ]
        started = time.monotonic()
        for b in range(args.bulk):
            for item in items:
                item["attribute_value"] = f"b{b}-{item['customer_id']}"
            status, _, raw = server.request("PUT", "/crm/attribute/bulk", items, {"Authorization": "Bearer " + token})
            assert status == 200, raw[:300]
        wait_for(receiver, start_received + 1000 * args.bulk)
        seconds = time.monotonic() - started
        unsubscribe()
    finally:
        worker.stop()
        server.stop()
        receiver.server.shutdown()
    for state, results in runs.items():
        print(f"{state}: median {statistics.median(r['rps'] for r in results):.1f} req/s over {len(results)} runs")
    ratio = statistics.median(r["rps"] for r in runs["3 webhooks"]) / statistics.median(
        r["rps"] for r in runs["no webhook"]
    )
    print(f"ratio with 3 webhooks: {ratio:.2f}")
    print(
        f"one worker delivered {1000 * args.bulk} events in {seconds:.1f} s: {1000 * args.bulk / seconds:.0f} events/s"
    )


if __name__ == "__main__":
    main()
