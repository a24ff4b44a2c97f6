"""Sensitive attributes under load: PUT and GET of a sensitive name against a plain one, as ratios, and the marking
and unmarking jobs at scale.

    .venv/bin/python bench/sensitive.py [--database-url URL] [--customers N] [--duration S] [--mark 100000]

The product runs as `make bench` runs it (gunicorn with production settings, bench.run.Server; wrk drives the load).
Half of the customers have the plain name `bench_plain` only, the other half the sensitive `bench_secret` only;
`GET /crm/attribute/customer_id/{id}` of a customer of each half, and `PUT /crm/attribute/` of each name with a new
value, by a token holding view_sensitive_customer_attribute (so every GET of a secret decrypts it and records the
read in the reveal log, the costliest case), and the same GET by a token without it (masked). Rounds alternate.
With `--mark N`, N customers get `bench_mark` in plain and the registry marks it sensitive, then not: the two jobs
run here and are timed.
Default database: its own SQLite file bench/bench-sensitive.sqlite3.
"""

import argparse
import base64
import re
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.run import ROOT, Server, bench_env, manage, wrk  # noqa: E402

SETUP = """
from django.contrib.auth.models import Permission, User
from attributes import services
from attributes.models import Attribute, AttributeDefinition
from customers.models import Customer
from tokens.models import ApiToken
N = {customers}
have = Customer.objects.count()
Customer.objects.bulk_create([Customer(customer_name=f"Bench {{n}}") for n in range(have, N)], batch_size=5000)
ids = list(Customer.objects.order_by("pk").values_list("pk", flat=True)[:N])
print("FIRST=" + str(ids[0]))
if not AttributeDefinition.objects.filter(name="bench_secret").exists():
    services.definition_create(actor=None, name="bench_secret", sensitive=True)
half = N // 2
for name, part in (("bench_plain", ids[:half]), ("bench_secret", ids[half:])):
    for start in range(0, len(part), 1000):
        items = [{{"customer_id": c, "attribute_name": name, "attribute_value": f"sk_seed_{{c}}"}}
                 for c in part[start:start + 1000]]
        services.attribute_bulk_upsert(items=items, actor=None)
user, _ = User.objects.get_or_create(username="bench-sensitive")
user.user_permissions.add(*Permission.objects.filter(codename__in=[
    "view_customer_attribute", "create_customer_attribute", "update_customer_attribute",
    "view_sensitive_customer_attribute"]))
ApiToken.objects.filter(user=user).delete()
print("TOKEN=" + ApiToken.issue(user=user, name="bench sensitive")[1])
blind, _ = User.objects.get_or_create(username="bench-sensitive-blind")
blind.user_permissions.add(*Permission.objects.filter(codename__in=["view_customer_attribute"]))
ApiToken.objects.filter(user=blind).delete()
print("BLIND_TOKEN=" + ApiToken.issue(user=blind, name="bench blind")[1])
"""

MARK = """
import time
from attributes import services
from attributes.models import Attribute, AttributeDefinition
from customers.models import Customer
from jobs import runner
N = {mark}
have = Customer.objects.count()
Customer.objects.bulk_create([Customer(customer_name=f"Bench {{n}}") for n in range(have, N)], batch_size=5000)
AttributeDefinition.objects.filter(name="bench_mark").delete()
Attribute.objects.filter(attribute_name="bench_mark").delete()
ids = list(Customer.objects.order_by("pk").values_list("pk", flat=True)[:N])
rows = ((n, c, "bench_mark", f"sk_mark_{{c}}") for n, c in enumerate(ids, 1))
started = time.monotonic()
report = services.attribute_import(rows=rows, actor=None, dry_run=False)
print(f"SEED={{time.monotonic() - started:.1f}} created={{report.created}} updated={{report.updated}}")
definition = services.definition_create(actor=None, name="bench_mark", sensitive=True)
started = time.monotonic()
job = runner.run_here(definition.job)
print(f"MARK={{time.monotonic() - started:.1f}} status={{job.status}} done={{job.done}} total={{job.total}}")
definition = services.definition_update(definition=definition, actor=None, sensitive=False)
started = time.monotonic()
job = runner.run_here(definition.job)
print(f"UNMARK={{time.monotonic() - started:.1f}} status={{job.status}} done={{job.done}} total={{job.total}}")
"""


def _key() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=f"sqlite:///{ROOT / 'bench' / 'bench-sensitive.sqlite3'}")
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--duration", type=float, default=5.0, help="seconds of load per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--mark", type=int, default=0, help="also time marking and unmarking N values")
    parser.add_argument(
        "--keys-file",
        type=Path,
        default=ROOT / "bench" / ".sensitive-keys",
        help="the benchmark database's keys (made on the first run, reused after)",
    )
    args = parser.parse_args(argv)
    keys = {"ATTRIBUTE_ENCRYPTION_KEYS": _key(), "ATTRIBUTE_INDEX_KEY": _key()}
    keys_file = args.keys_file  # the same keys on every run against the same database
    if keys_file.exists():
        keys = dict(line.split("=", 1) for line in keys_file.read_text().split())
    else:
        keys_file.write_text("".join(f"{k}={v}\n" for k, v in keys.items()))
    with tempfile.TemporaryDirectory() as static_root:
        env = bench_env(args.database_url, static_root, **keys)
        manage(env, "migrate", "--noinput", "--verbosity", "0")
        manage(env, "collectstatic", "--noinput", "--verbosity", "0")
        out = manage(env, "shell", "-c", SETUP.format(customers=args.customers), capture=True)
        token = re.search(r"^TOKEN=(\S+)", out, re.M).group(1)
        blind_token = re.search(r"^BLIND_TOKEN=(\S+)", out, re.M).group(1)
        first = int(re.search(r"^FIRST=(\d+)", out, re.M).group(1))
        half = args.customers // 2
        server = Server(env, args.workers)
        results: dict[str, list[float]] = {}
        try:
            cases = {
                "PUT plain": ("sensitive_put.lua", "bench_plain", first - 1, token),
                "PUT sensitive": ("sensitive_put.lua", "bench_secret", first - 1 + half, token),
                "GET plain": ("sensitive_get.lua", "bench_plain", first - 1, token),
                "GET sensitive": ("sensitive_get.lua", "bench_secret", first - 1 + half, token),
                "GET sensitive masked": ("sensitive_get.lua", "bench_secret", first - 1 + half, blind_token),
            }
            for _ in range(args.rounds):
                for label, (script, name, offset, who) in cases.items():
                    lua_env = {"BENCH_TOKEN": who, "BENCH_CUSTOMERS": str(half), "BENCH_NAME": name,
                               "BENCH_OFFSET": str(offset)}  # fmt: skip
                    measured = wrk(server.base, script, lua_env, duration=args.duration, connections=args.connections)
                    if measured["errors"]:
                        raise SystemExit(f"{label}: {measured['errors']} errors")
                    results.setdefault(label, []).append(measured["rps"])
        finally:
            server.stop()
        database = "PostgreSQL" if args.database_url.startswith("postgres") else "SQLite"
        print(f"\n{database}, {args.customers} customers, {args.rounds} rounds of {args.duration:.0f} s, "
              f"{args.connections} connections, {args.workers} workers (median requests/s)")  # fmt: skip
        medians = {label: statistics.median(values) for label, values in results.items()}
        for verb in ("PUT", "GET"):
            plain, secret = medians[f"{verb} plain"], medians[f"{verb} sensitive"]
            print(f"  {verb}: plain {plain:8.0f}/s   sensitive {secret:8.0f}/s   ratio {secret / plain:.2f}")
        masked = medians["GET sensitive masked"]
        print(
            f"  GET by a reader without the permission (masked, nothing logged): {masked:8.0f}/s   "
            f"ratio {masked / medians['GET plain']:.2f}"
        )
        if args.mark:
            started = time.monotonic()
            print(manage(env, "shell", "-c", MARK.format(mark=args.mark), capture=True).strip())
            print(f"  (marking run {time.monotonic() - started:.0f} s in all)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
