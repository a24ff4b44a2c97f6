"""`make bench`: the product under load, side by side with bare-SQL baselines measured in the same run.

Starts gunicorn with production settings on PostgreSQL (or SQLite with --sqlite), seeds the data set if
absent (seed_bench), drives load from this machine with wrk, and prints a table: scenario, requests/s,
p50, p99, the baseline's requests/s and the ratio. Then the scale sweep (bench/sweep.py) requests every GET
route of the URL configuration and prints p50, p99, bytes and status of each. Results also go to
bench/results-<database>.json (results-<database>-<only>.json with --only).

    .venv/bin/python bench/run.py [--sqlite] [--customers N] [--attributes M] [--duration S] [--only sweep]
"""

import argparse
import http.client
import json
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.jobs import job_scenarios  # noqa: E402 (run as a script: the project root first)
from bench.sweep import sweep  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
LUA = Path(__file__).resolve().parent / "lua"
TAB_CUSTOMER_ATTRIBUTES = 200


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def manage(env: dict, *args: str, capture: bool = False) -> str:
    result = subprocess.run(
        [PYTHON, "manage.py", *args], cwd=ROOT, env=env, check=True, text=True, capture_output=capture
    )
    return result.stdout if capture else ""


def prepare_database(args) -> str:
    if args.database_url:
        return args.database_url
    if args.sqlite:
        return f"sqlite:///{ROOT / 'bench' / f'bench-{args.customers}.sqlite3'}"
    name = f"crm_bench_{args.customers}"
    exists = subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-tAc", f"SELECT 1 FROM pg_database WHERE datname='{name}'"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    if not exists:
        subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", f"CREATE DATABASE {name}"], check=True)
    return f"postgres://postgres@127.0.0.1:5432/{name}"


ACCOUNTS_SCRIPT = """
from django.contrib.auth.models import Group, User
from tokens.models import ApiToken
user, _ = User.objects.get_or_create(username="bench-integration")
user.groups.add(Group.objects.get(name="Integration"))
staff, created = User.objects.get_or_create(username="bench-staff")
staff.groups.add(Group.objects.get(name="Customer admin"))
staff.set_password("bench-password-1")
staff.save()
admin, _ = User.objects.get_or_create(username="bench-admin")  # the sweep's user: sees every page
admin.is_staff = admin.is_superuser = True
admin.set_password("bench-password-1")
admin.save()
ApiToken.objects.filter(user=user).delete()
token, raw = ApiToken.issue(user=user, name="bench")
print("TOKEN=" + raw)
ApiToken.objects.filter(user=staff).delete()
print("STAFF_TOKEN=" + ApiToken.issue(user=staff, name="bench staff")[1])
ApiToken.objects.filter(user=admin).delete()
print("ADMIN_TOKEN=" + ApiToken.issue(user=admin, name="bench sweep")[1])
"""

TAB_SCRIPT = """
from attributes import services
from customers.models import Customer
customer, _ = Customer.objects.get_or_create(customer_id=TAB_ID, defaults={"customer_name": "Bench tab customer"})
services.attribute_bulk_upsert(
    items=[{"customer_id": TAB_ID, "attribute_name": f"bench_attr_{i:03d}", "attribute_value": f"value {i}"}
           for i in range(TAB_N)],
    actor=None,
)
"""

# The sweep visits a definition's and a job's pages: one inert row of each if the data set has none.
SWEEP_SCRIPT = """
from django.contrib.auth.models import User
from django.utils import timezone
from attributes.models import AttributeDefinition
from attributes.services import definition_create
from attributes.services.rename import KIND, RenameReport
from jobs.models import Job
admin = User.objects.get(username="bench-admin")
if not AttributeDefinition.objects.exists():
    definition_create(actor=admin, name="bench_sweep_note", value_type="text", description="For the sweep")
if not Job.objects.exists():
    now = timezone.now()
    Job.objects.create(
        kind=KIND, status=Job.Status.SUCCEEDED, params={"old": "bench_sweep_a", "new": "bench_sweep_b"},
        done=0, total=0, result=RenameReport().as_result(old="bench_sweep_a", new="bench_sweep_b"),
        created_by=admin, started=now, finished=now,
    )
"""


EXPLAIN_SCRIPT = """
from django.db import connection
from django.http import QueryDict
from attributes.filters import CustomerAttributeFilterSet
from attributes.models import Attribute
from customers.models import Customer
find = QueryDict("attribute_name=support_tier&attribute_value=enterprise")
queries = {
    "find customers (selective)": CustomerAttributeFilterSet(
        find, queryset=Customer.objects.order_by("customer_id")
    ).qs[:100],
    "list a customer's attributes": Attribute.objects.filter(customer_id=4242).order_by("attribute_name"),
}
prefix = "EXPLAIN ANALYZE " if connection.vendor == "postgresql" else "EXPLAIN QUERY PLAN "
for label, queryset in queries.items():
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(prefix + sql, params)
        print("## " + label)
        for row in cursor.fetchall():
            print("   " + " ".join(str(c) for c in row))
"""


class Server:
    """gunicorn with production settings (gunicorn.conf.py: threaded workers); bare-Django baselines mounted at
    /bench/. With `app` (and `health`) another WSGI app, served the same way: the bare-WSGI baseline
    (bench/bare_wsgi.py)."""

    def __init__(self, env: dict, workers: int, app: str = "crm_project.wsgi", health: str = "/healthz/"):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [
                str(Path(PYTHON).with_name("gunicorn")),
                app,
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(workers),
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=env,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                status, _, _ = self.request("GET", health)
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError("gunicorn did not become healthy within 30 s")

    def request(self, method: str, path: str, body=None, headers=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            payload = json.dumps(body) if body is not None else None
            all_headers = {"Content-Type": "application/json", **(headers or {})}
            conn.request(method, path, body=payload, headers=all_headers)
            response = conn.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            conn.close()

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()


def wrk(url: str, script: str, env: dict, *, duration: float, connections: int, threads: int = 2) -> dict:
    """Run wrk with a Lua script; return requests/s, p50 and p99 in ms, and error counts."""
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(duration))}s",
        "--latency",
        "-s",
        str(LUA / script),
        url,
    ]
    output = subprocess.run(command, env={**os.environ, **env}, capture_output=True, text=True, check=True).stdout
    return parse_wrk(output)


def _ms(text: str) -> float:
    number, unit = re.match(r"([\d.]+)(\w+)", text).groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def parse_wrk(output: str) -> dict:
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", output, re.M).group(1))
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", output, re.M).group(1))
    total = int(re.search(r"(\d+) requests in", output).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    errors = int(non2xx.group(1)) if non2xx else 0
    if socket_errors:
        errors += sum(int(g) for g in socket_errors.groups())
    return {"rps": rps, "p50_ms": p50, "p99_ms": p99, "requests": total, "errors": errors}


def session_cookie(server: Server, username: str = "bench-staff") -> str:
    """Sign in through the real login form; return the Cookie header value for the session."""
    status, headers, body = server.request("GET", "/accounts/login/")
    csrf = re.search(r"csrftoken=([^;]+)", headers.get("Set-Cookie", "")).group(1)
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    conn.request(
        "POST",
        "/accounts/login/",
        body=f"username={username}&password=bench-password-1&csrfmiddlewaretoken={csrf}",
        headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": f"csrftoken={csrf}"},
    )
    response = conn.getresponse()
    response.read()
    session = re.search(r"sessionid=([^;]+)", response.getheader("Set-Cookie", "")).group(1)
    conn.close()
    return f"sessionid={session}; csrftoken={csrf}"


def bulk_versus_single(server: Server, token: str, customers: int, count: int = 1000) -> dict:
    """`count` single PUTs one after another against one bulk PUT of as many items (each creating new names)."""
    auth = {"Authorization": f"Bearer {token}"}
    tag = random.randrange(10**6)
    items = [
        {"customer_id": random.randint(1, customers), "attribute_name": f"bulk_{tag}_{i}", "attribute_value": "x"}
        for i in range(count)
    ]
    started = time.perf_counter()
    for item in items:
        status, _, _ = server.request("PUT", "/crm/attribute/", {**item, "attribute_value": "single"}, auth)
        assert status in (200, 201), status
    single = time.perf_counter() - started
    for item in items:
        item["attribute_name"] += "_b"
    started = time.perf_counter()
    status, _, body = server.request("PUT", "/crm/attribute/bulk/", items, auth)
    bulk = time.perf_counter() - started
    assert status == 200, body[:300]
    return {"single_s": single, "bulk_s": bulk, "speedup": single / bulk}


def workaround_versus_filter(server: Server, token: str, customers: int, sample: int, filter_p50_ms: float) -> dict:
    """The specification's fetch-everything loop, timed on a sample of customers and scaled to all."""
    auth = {"Authorization": f"Bearer {token}"}
    started = time.perf_counter()
    status, _, body = server.request("GET", f"/crm/customer/?limit={sample}", None, auth)
    assert status == 200
    for customer in json.loads(body):
        server.request("GET", f"/crm/attribute/customer_id/{customer['customer_id']}", None, auth)
    per_customer = (time.perf_counter() - started) / sample
    scaled = per_customer * customers
    return {"workaround_s": scaled, "sample": sample, "ratio": scaled * 1000 / filter_p50_ms}


def bench_env(database_url: str, static_root: str, **extra: str) -> dict:
    """The environment of the product under benchmark: production settings on plain HTTP, throttles out of the way."""
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "bench-" + "x" * 50,
        "DEBUG": "false",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",
        "SESSION_COOKIE_SECURE": "false",
        "CSRF_COOKIE_SECURE": "false",
        "SECURE_HSTS_SECONDS": "0",
        "CRM_BENCH": "true",
        "CONN_MAX_AGE": "600",
        "API_THROTTLE_USER_RATE": "100000000/min",
        "API_THROTTLE_ANON_RATE": "100000000/min",
        "STATIC_ROOT": static_root,
        "AXES_ENABLED": "false",
        "METRICS_ALLOWED_IPS": "127.0.0.1",  # the sweep reads /metrics too (its scrape-time queries)
        **extra,
    }


def run(args) -> list[dict]:
    database_url = prepare_database(args)
    static_root = tempfile.mkdtemp(prefix="crm-bench-static-")
    env = bench_env(database_url, static_root)
    db_label = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    print(f"== database: {db_label}; data set: {args.customers:,} customers, ~{args.attributes:,} attributes")
    manage(env, "migrate", "--noinput", "-v0")
    manage(env, "collectstatic", "--noinput", "-v0")
    seed_started = time.monotonic()
    manage(env, "seed_bench", "--customers", str(args.customers), "--attributes", str(args.attributes))
    seed_s = time.monotonic() - seed_started
    print(f"seed_bench: {seed_s:.0f} s")
    # Jobs an interrupted run left queued (a rename holds its names: every PUT of them would answer 409).
    manage(env, "run_worker", "--batch", "--worker-id", "bench-drain")
    tokens = manage(env, "shell", "-c", ACCOUNTS_SCRIPT, capture=True)
    token = re.search(r"^TOKEN=(\S+)", tokens, re.M).group(1)
    staff_token = re.search(r"^STAFF_TOKEN=(\S+)", tokens, re.M).group(1)
    admin_token = re.search(r"^ADMIN_TOKEN=(\S+)", tokens, re.M).group(1)
    scenarios, sweeping = args.only in ("all", "scenarios", "hot"), args.only in ("all", "sweep")
    tab_id = args.customers + 1
    summary = {
        "database": db_label,
        "customers": args.customers,
        "attributes": args.attributes,
        "seed_s": seed_s,
        "duration_s": args.duration,
        "workers": args.workers,
    }
    if scenarios:
        tab = TAB_SCRIPT.replace("TAB_ID", str(tab_id)).replace("TAB_N", str(TAB_CUSTOMER_ATTRIBUTES))
        manage(env, "shell", "-c", tab)
        summary["explain"] = manage(env, "shell", "-c", EXPLAIN_SCRIPT, capture=True)
        print("\nQuery plans at this size:\n" + summary["explain"])
    if sweeping:
        manage(env, "shell", "-c", SWEEP_SCRIPT)
        # The usage audit reads a summary that workers refresh every minute; no worker runs here, so build it
        # now (a first build covers every name: O(rows), which is why it is a job and not a request).
        refresh_started = time.monotonic()
        manage(env, "refresh_usage")
        summary["usage_refresh_s"] = time.monotonic() - refresh_started
        print(f"refresh_usage: {summary['usage_refresh_s']:.0f} s")

    server = Server(env, args.workers)
    bare = Server(env, args.workers, app="bench.bare_wsgi:application", health="/healthz") if scenarios else None
    try:
        if scenarios:
            summary.update(
                run_scenarios(server, args, env, token=token, staff_token=staff_token, tab_id=tab_id, bare=bare)
            )
        elif args.only == "jobs":
            lua_env = {"BENCH_TOKEN": token, "BENCH_CUSTOMERS": str(args.customers)}
            summary["jobs"] = run_jobs(server, args, env, lua_env, staff_token)
            print_jobs(summary["jobs"])
        if sweeping:
            plan = json.loads(manage(env, "sweep_plan", capture=True))  # after the scenarios: their jobs exist
            print(f"\n== sweep: every GET route, {args.sweep_requests} requests each, one at a time")
            summary["sweep"] = sweep(
                plan,
                port=server.port,
                master_pid=server.process.pid,
                cookie=session_cookie(server, "bench-admin"),
                token=admin_token,
                requests=args.sweep_requests,
                budget_s=args.sweep_budget,
            )
    finally:
        server.stop()
        if bare is not None:
            bare.stop()
        shutil.rmtree(static_root, ignore_errors=True)
    suffix = "" if args.only == "all" else f"-{args.only}"
    out = Path(args.results) if args.results else ROOT / "bench" / f"results-{db_label}{suffix}.json"
    out.write_text(json.dumps(summary, indent=2))
    print(f"\nresults written to {out}")
    return summary


def run_scenarios(
    server: Server, args, env: dict, *, token: str, staff_token: str, tab_id: int, bare: Server | None = None
) -> dict:
    """The wrk scenarios against their baselines, bulk against single writes, and the jobs under load.

    Two baselines where they exist: the bare Django view (`bench/views.py`, same SQL through Django's connection)
    and the bare WSGI app (`bench/bare_wsgi.py`, same SQL through psycopg or sqlite3, no Django)."""
    results = []
    lua_env = {"BENCH_TOKEN": token, "BENCH_CUSTOMERS": str(args.customers), "BENCH_TAB": str(tab_id)}
    cookie = session_cookie(server)
    d, c = args.duration, args.connections

    def scenario(name, script, baseline_script=None, connections=c, extra=None, note="", bare_script=None):
        """The endpoint and its baselines in alternating rounds (`--rounds`, the duration split between them): a
        shared machine's speed drifts by tens of percent within a minute, and a ratio of two runs minutes apart
        measured that drift too. Requests/s and ratios are the rounds' medians; errors add up."""
        env_ = {**lua_env, **(extra or {})}
        rounds = max(1, args.rounds)
        d_round = max(1.0, d / rounds)
        runs: dict[str, list[dict]] = {"measured": [], "baseline": [], "bare": []}
        # Unmeasured first: a worker's first requests load code lazily and its connection prepares the statements
        # (after five runs); in a first round that cost tens of percent, in the product's rounds more than the bare
        # app's.
        targets = [(server, script), (server, baseline_script), (bare, bare_script)]
        for target, warm_script in targets:
            if target is not None and warm_script:
                wrk(target.base, warm_script, env_, duration=1.0, connections=connections)
        for _ in range(rounds):
            runs["measured"].append(wrk(server.base, script, env_, duration=d_round, connections=connections))
            if baseline_script:
                runs["baseline"].append(
                    wrk(server.base, baseline_script, env_, duration=d_round, connections=connections)
                )
            if bare_script and bare is not None:
                runs["bare"].append(wrk(bare.base, bare_script, env_, duration=d_round, connections=connections))
        measured = {
            "rps": statistics.median(r["rps"] for r in runs["measured"]),
            "p50_ms": statistics.median(r["p50_ms"] for r in runs["measured"]),
            "p99_ms": max(r["p99_ms"] for r in runs["measured"]),
            "requests": sum(r["requests"] for r in runs["measured"]),
            "errors": sum(r["errors"] for r in runs["measured"]),
        }
        row = {"scenario": name, "connections": connections, **measured, "note": note, "rounds": rounds}
        row["rounds_rps"] = {kind: [r["rps"] for r in found] for kind, found in runs.items() if found}
        if runs["baseline"]:
            pairs = list(zip(runs["measured"], runs["baseline"], strict=True))
            row.update(
                baseline_rps=statistics.median(b["rps"] for b in runs["baseline"]),
                baseline_p50_ms=statistics.median(b["p50_ms"] for b in runs["baseline"]),
                ratio=statistics.median(m["rps"] / b["rps"] for m, b in pairs),
            )
        if runs["bare"]:
            pairs = list(zip(runs["measured"], runs["bare"], strict=True))
            row.update(
                bare_rps=statistics.median(b["rps"] for b in runs["bare"]),
                bare_p50_ms=statistics.median(b["p50_ms"] for b in runs["bare"]),
                bare_errors=sum(b["errors"] for b in runs["bare"]),
                bare_ratio=statistics.median(m["rps"] / b["rps"] for m, b in pairs),
            )
        results.append(row)
        print_row(row)

    print_header()
    scenario("list a customer's attributes (GET, Bearer)", "list.lua", "list_baseline.lua", bare_script="list_bare.lua")
    scenario(
        "upsert (PUT, 8 clients)", "upsert.lua", "upsert_baseline.lua", connections=8, bare_script="upsert_bare.lua"
    )
    if args.only == "hot":  # the two hot paths against their baselines, nothing else
        return {"scenarios": results}
    # Latency scenarios: two clients, so p50 is the time one request takes, not time queued behind others.
    latency = min(2, c)
    finds = (("selective", "support_tier", "enterprise"), ("unselective", "auto_provision", "true"))
    for selectivity, name, value in finds:
        scenario(
            f"find customers, {selectivity} ({name}={value})",
            "find.lua",
            "find_baseline.lua",
            connections=latency,
            extra={"BENCH_NAME": name, "BENCH_VALUE": value},
        )
    scenario(
        f"Attributes tab page, {TAB_CUSTOMER_ATTRIBUTES} attributes (session)",
        "tab.lua",
        connections=latency,
        extra={"BENCH_COOKIE": cookie},
    )
    selective = next(r for r in results if r["scenario"].startswith("find customers, selective"))
    sample = min(args.sample, args.customers)
    spec = workaround_versus_filter(server, token, args.customers, sample, selective["p50_ms"])
    bulk = bulk_versus_single(server, token, args.customers, args.bulk_items)
    jobs = run_jobs(server, args, env, lua_env, staff_token)
    print()
    print(
        f"specification's fetch-everything workaround: {spec['workaround_s']:.1f} s for all {args.customers:,} "
        f"customers (measured on {spec['sample']}, scaled) vs {selective['p50_ms']:.1f} ms for the filter: "
        f"{spec['ratio']:,.0f}x"
    )
    print(
        f"bulk: {args.bulk_items} single PUTs {bulk['single_s']:.2f} s vs one {args.bulk_items}-item bulk PUT "
        f"{bulk['bulk_s'] * 1000:.0f} ms: "
        f"{bulk['speedup']:.0f}x faster"
    )
    print_jobs(jobs)
    return {"scenarios": results, "spec_workaround": spec, "bulk": bulk, "jobs": jobs}


def run_jobs(server: Server, args, env: dict, lua_env: dict, staff_token: str) -> dict:
    """The rename (and back) and the CSV import as jobs, with PUTs of other names under way (bench/jobs.py)."""
    return job_scenarios(
        base=server.base,
        port=server.port,
        token=staff_token,
        customers=args.customers,
        env=env,
        lua_env=lua_env,
        python=PYTHON,
        lua_dir=LUA,
        parse_wrk=parse_wrk,
    )


def print_jobs(jobs: dict) -> None:
    for label, job in jobs.items():
        other = job["other_writes"]
        print(
            f"job {label}: 202 in {job['accepted_ms']:.0f} ms, done in {job['job_s']:.1f} s; meanwhile PUT of other "
            f"names: p50 {other['p50_ms']:.1f} ms, p99 {other['p99_ms']:.1f} ms, {other['requests']} requests, "
            f"{other['errors']} errors"
        )


def print_header() -> None:
    print()
    print(
        f"{'scenario':<58} {'conns':>5} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} "
        f"{'django req/s':>12} {'ratio':>6} {'wsgi req/s':>10} {'ratio':>6}"
    )
    print("-" * 138)


def print_row(row: dict) -> None:
    """`django`: the bare Django view's baseline; `wsgi`: the bare WSGI app's (no Django)."""
    base = f"{row['baseline_rps']:>12.0f} {row['ratio']:>6.2f}" if "ratio" in row else f"{'':>12} {'':>6}"
    bare = f"{row['bare_rps']:>10.0f} {row['bare_ratio']:>6.2f}" if "bare_ratio" in row else f"{'':>10} {'':>6}"
    print(
        f"{row['scenario']:<58} {row['connections']:>5} {row['rps']:>8.0f} {row['p50_ms']:>8.2f} {row['p99_ms']:>8.2f} "
        f"{row['errors']:>7} {base} {bare}",
        flush=True,
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sqlite", action="store_true", help="benchmark on SQLite instead of PostgreSQL")
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--attributes", type=int, default=1_000_000)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of load per scenario")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument(
        "--rounds", type=int, default=3, help="alternating rounds of each scenario and its baselines (medians)"
    )
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument("--sample", type=int, default=300, help="customers for the workaround measurement")
    parser.add_argument("--bulk-items", type=int, default=1000, help="items in the bulk vs single comparison")
    parser.add_argument("--database-url", help="use this database instead of the benchmark's own")
    parser.add_argument("--results", help="where to write the JSON results (default bench/results-<db>.json)")
    parser.add_argument(
        "--only",
        choices=["all", "scenarios", "hot", "sweep", "jobs"],
        default="all",
        help="the wrk scenarios and jobs, only the list and upsert scenarios (hot), the sweep, or only the jobs",
    )
    parser.add_argument("--sweep-requests", type=int, default=20, help="requests per route in the sweep")
    parser.add_argument("--sweep-budget", type=float, default=20.0, help="seconds per route before stopping early")
    parser.add_argument("--strict", action="store_true", help="fail when a swept route breaks the limits")
    args = parser.parse_args(argv)
    if args.only != "sweep" and shutil.which("wrk") is None:
        print("wrk is not installed: apt-get install wrk", file=sys.stderr)
        return 2
    summary = run(args)
    failed = any(r["errors"] for r in summary.get("scenarios", []))
    if "sweep" in summary:
        swept = summary["sweep"]
        broken = any(row.get("broken") for row in swept["rows"])  # a 4xx, 5xx or dropped connection
        failed = failed or bool(swept["unfilled"]) or broken or (args.strict and not swept["ok"])
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
