"""The hot paths in one process: requests through the real WSGI application, one at a time, no network.

    .venv/bin/python bench/hotpath.py [--sqlite | --database-url URL] [--requests N] [--only list,upsert]
                                      [--profile list] [--instructions]

On `make bench`'s data set (100,000 customers on PostgreSQL unless --sqlite or --database-url says otherwise; seeded
here if absent) with the benchmark's production settings, it prints the time per request of the list endpoint, the
upsert and their bare Django views (`bench/views.py`), and how much of it was this process's CPU (the rest is waiting
for the database). `--profile NAME` prints cProfile's top functions (CPU time) for that scenario.

`--instructions` runs the same under valgrind's callgrind and prints the instructions each request took in this
process: repeatable to a fraction of a percent whatever else the machine does, where times on a shared machine vary
by 20% between runs. Only the measured requests are counted (collection is on only inside `itertools.starmap`,
which serves them), so Django's start and the warm-up are left out.
"""

import argparse
import collections
import cProfile
import io
import itertools
import json
import os
import pstats
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def environ(method: str, path: str, *, token: str = "", body: bytes = b"") -> dict:
    env = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1:8000",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        "wsgi.version": (1, 0),
    }
    if token:
        env["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    if body:
        env["CONTENT_TYPE"] = "application/json"
        env["CONTENT_LENGTH"] = str(len(body))
    return env


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url")
    parser.add_argument("--sqlite", action="store_true")
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--attributes", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--callgrind", action="store_true", help="under callgrind: dump its counts per scenario")
    parser.add_argument("--warm", type=int, default=200, help="requests before measuring")
    parser.add_argument("--profile", help="a scenario to profile with cProfile")
    parser.add_argument("--instructions", action="store_true", help="count instructions per request (callgrind)")
    parser.add_argument("--only", help="comma-separated scenarios")
    args = parser.parse_args(argv)
    if args.instructions:
        return count_instructions(argv if argv is not None else sys.argv[1:], args.requests)

    from bench.run import bench_env, manage, prepare_database

    url = args.database_url or prepare_database(
        argparse.Namespace(database_url=None, sqlite=args.sqlite, customers=args.customers)
    )
    os.environ.update(bench_env(url, tempfile.mkdtemp(prefix="crm-hotpath-static-"), ENV_FILE=os.devnull))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm_project.settings")
    manage(dict(os.environ), "migrate", "--noinput", "-v0")  # nothing to do once `make bench` has run
    seed = ["seed_bench", "--customers", str(args.customers), "--attributes", str(args.attributes)]
    manage(dict(os.environ), *seed)  # a data set that exists is kept

    import crm_project.wsgi  # sets Django up: the models below import after it

    application = crm_project.wsgi.application
    from django.contrib.auth.models import Group, User

    from tokens.models import ApiToken

    user, _ = User.objects.get_or_create(username="bench-hotpath")
    user.groups.add(Group.objects.get(name="Integration"))
    ApiToken.objects.filter(user=user).delete()
    _, token = ApiToken.issue(user=user, name="hotpath")
    customers = args.customers
    names = ["billing_method", "support_tier", "vlan_id", "plan_code", "service_region"]

    def upsert_body() -> bytes:
        item = {
            "customer_id": random.randint(1, customers),
            "attribute_name": random.choice(names),
            "attribute_value": f"v{random.randint(1, 1000)}",
        }
        return json.dumps(item).encode()

    scenarios = {
        "list": lambda: environ("GET", f"/crm/attribute/customer_id/{random.randint(1, customers)}", token=token),
        "list_django": lambda: environ("GET", f"/bench/attributes/{random.randint(1, customers)}"),
        "upsert": lambda: environ("PUT", "/crm/attribute/", token=token, body=upsert_body()),
        "upsert_django": lambda: environ("POST", "/bench/upsert", body=upsert_body()),
    }
    if args.only:
        scenarios = {k: v for k, v in scenarios.items() if k in args.only.split(",")}

    def start_response(status, headers, exc_info=None):
        if not status.startswith(("200", "201")):
            raise RuntimeError(status)

    def serve(make) -> None:
        for _chunk in application(make(), start_response):
            pass

    for name, make in scenarios.items():
        requests = [make for _ in range(args.requests)]
        for make_ in requests[: args.warm]:  # warm: prepared statements, caches
            serve(make_)
        profiler = cProfile.Profile(time.process_time) if args.profile == name else None  # CPU, not waits
        started, cpu = time.perf_counter(), time.process_time()
        if profiler:
            profiler.enable()
        # Through itertools.starmap, so that callgrind can count exactly these requests:
        # valgrind --tool=callgrind --collect-atstart=no --toggle-collect=starmap_next ... (see --help)
        collections.deque(itertools.starmap(serve, [(make_,) for make_ in requests]), maxlen=0)
        if profiler:
            profiler.disable()
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        if args.callgrind:  # a dump per scenario: its instructions alone
            subprocess.run(["callgrind_control", "--dump=" + name, str(os.getpid())], check=True, capture_output=True)
        if not args.requests:
            continue
        print(
            f"{name:<15} {elapsed / args.requests * 1e6:8.0f} µs/request, {cpu / args.requests * 1e6:6.0f} µs of it "
            f"this process's CPU ({args.requests} requests)",
            flush=True,
        )
        if profiler:
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(60)
            print(out.getvalue())
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(40)
            print(out.getvalue())
    return 0


def count_instructions(argv: list[str], requests: int) -> int:
    """This script again under callgrind, one dump per scenario (`--callgrind`); print instructions per request."""
    if shutil.which("valgrind") is None:
        print("valgrind is not installed: apt-get install valgrind", file=sys.stderr)
        return 2
    argv = [a for a in argv if a != "--instructions"]
    with tempfile.TemporaryDirectory(prefix="crm-hotpath-callgrind-") as directory:
        out = Path(directory) / "callgrind.out"
        command = [
            "valgrind", "--tool=callgrind", "--collect-atstart=no", "--toggle-collect=starmap_next",
            f"--callgrind-out-file={out}", sys.executable, __file__, "--callgrind", "--warm", "30", *argv,
        ]  # fmt: skip
        completed = subprocess.run(command, capture_output=True, text=True)
        if completed.returncode != 0:
            print(completed.stdout[-2000:] + completed.stderr[-2000:], file=sys.stderr)
            return completed.returncode
        for dump in sorted(Path(directory).glob("callgrind.out.*"), key=lambda p: int(p.suffix[1:])):
            text = dump.read_text(errors="replace")
            name = re.search(r"^desc: Trigger: dump (\S+)", text, re.M).group(1)
            total = int(re.search(r"^totals: (\d+)", text, re.M).group(1))
            print(f"{name:<15} {total / requests / 1e6:6.2f} M instructions/request ({requests} requests)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
