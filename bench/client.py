"""The Python client against the specification's hand-written `requests` loops, on a production-style server.

    .venv/bin/python bench/client.py --sqlite              # a fresh SQLite file under bench/
    .venv/bin/python bench/client.py --database-url postgres://postgres@127.0.0.1:5432/crm_bench_client

gunicorn (gunicorn.conf.py) serves the product; `--customers` customers (default 2000), every tenth with
support_tier=premium. Three comparisons, each the same work both ways, one after the other in this process:
1. Onboarding sync of `--items` attributes (default 3000): the specification's loop (one `requests.put` per
   attribute) against `Client.bulk_upsert` (chunks of 1000).
2. "Find premium customers": the specification's loop (every customer, then each one's attributes) against
   `Client.find_customers("support_tier", value="premium")`.
3. The client's own cost per request: `--single` (default 500) single upserts (each a create) with `Client.upsert`
   against as many `requests.Session.put` calls, alternating, three rounds each.
"""

import argparse
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "client"))

from crm_attributes_client import Client  # noqa: E402

from bench.run import ACCOUNTS_SCRIPT, ROOT, Server, bench_env, manage  # noqa: E402

SEED_SCRIPT = """
from attributes import services
from customers.models import Customer
from attributes.models import Attribute
Attribute.objects.all().delete()
Customer.objects.all().delete()
customers = Customer.objects.bulk_create([Customer(customer_name=f"Client bench {n}") for n in range(N)])
items = [{"customer_id": c.pk, "attribute_name": "support_tier", "attribute_value": "premium"}
         for c in customers[::10]]
for start in range(0, len(items), 1000):
    services.attribute_bulk_upsert(items=items[start:start + 1000], actor=None)
print("IDS=" + ",".join(str(c.pk) for c in customers))
"""


def timed(function) -> tuple[float, object]:
    started = time.perf_counter()
    result = function()
    return time.perf_counter() - started, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--database-url")
    group.add_argument("--sqlite", action="store_true")
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--items", type=int, default=3000)
    parser.add_argument("--single", type=int, default=500)
    args = parser.parse_args()
    database_url = args.database_url or f"sqlite:///{ROOT / 'bench' / 'bench-client.sqlite3'}"
    env = bench_env(database_url, tempfile.mkdtemp(prefix="crm-bench-static-"))
    manage(env, "migrate", "--noinput", "-v0")
    token = re.search(r"^TOKEN=(\S+)", manage(env, "shell", "-c", ACCOUNTS_SCRIPT, capture=True), re.M).group(1)
    seeded = manage(env, "shell", "-c", SEED_SCRIPT.replace("range(N)", f"range({args.customers})"), capture=True)
    ids = [int(i) for i in re.search(r"^IDS=(\S+)", seeded, re.M).group(1).split(",")]
    server = Server(env, 4)
    try:
        crm = Client(server.base, token)
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {token}"
        api = f"{server.base}/crm"
        items = [(ids[n % len(ids)], f"sync_{n // len(ids)}", f"v{n}") for n in range(args.items)]

        def spec_sync():
            for customer_id, name, value in items:
                attr = {"customer_id": customer_id, "attribute_name": name + "_spec", "attribute_value": value}
                assert session.put(f"{api}/attribute/", json=attr).status_code in (200, 201)

        loop_s, _ = timed(spec_sync)
        sent = crm.requests_sent
        bulk_s, _ = timed(lambda: crm.bulk_upsert(items))
        print(f"onboarding sync of {args.items} attributes: spec loop {loop_s:.2f} s ({args.items} requests), "
              f"bulk_upsert {bulk_s:.2f} s ({crm.requests_sent - sent} requests): {loop_s / bulk_s:.1f}x")  # fmt: skip

        def spec_find():
            found = []
            for customer in session.get(f"{api}/customer/").json():  # the first page (1000), as the spec's loop
                attributes = session.get(f"{api}/attribute/customer_id/{customer['customer_id']}").json()
                for attr in attributes:
                    if attr["attribute_name"] == "support_tier" and attr["attribute_value"] == "premium":
                        found.append(customer["customer_name"])
            return found

        spec_find_s, spec_found = timed(spec_find)
        sent = crm.requests_sent
        find_s, found = timed(lambda: [c.customer_name for c in crm.find_customers("support_tier", value="premium")])
        print(f"find premium customers: spec loop {spec_find_s:.2f} s ({len(spec_found)} found in the first 1000 "
              f"customers, {min(args.customers, 1000) + 1} requests), find_customers {find_s:.3f} s "
              f"({len(found)} found in all {args.customers}, {crm.requests_sent - sent} requests)")  # fmt: skip

        def raw_single(tag):
            for n in range(args.single):
                attr = {"customer_id": ids[n % len(ids)], "attribute_name": f"raw_{tag}", "attribute_value": str(n)}
                assert session.put(f"{api}/attribute/", json=attr).status_code in (200, 201)

        def client_single(tag):
            for n in range(args.single):
                crm.upsert(ids[n % len(ids)], f"client_{tag}", str(n))

        raw, client = [], []
        for round_ in range(3):  # alternating, so load from elsewhere on the machine hits both alike
            raw.append(timed(lambda r=round_: raw_single(r))[0] * 1000 / args.single)
            client.append(timed(lambda r=round_: client_single(r))[0] * 1000 / args.single)
        print(f"{args.single} single upserts x 3 rounds, alternating: requests.Session "
              f"{' / '.join(f'{t:.2f}' for t in raw)} ms each (median {statistics.median(raw):.2f}), Client.upsert "
              f"{' / '.join(f'{t:.2f}' for t in client)} ms each (median {statistics.median(client):.2f})")  # fmt: skip
    finally:
        server.stop()


if __name__ == "__main__":
    main()
