"""PUT /crm/attribute/ throughput with and without the value index (`attribute_value_idx`), on the bench database.

The index serves the admin's value search and the find-by-value filters; every write also maintains it. This runs
the upsert scenario of `make bench` (8 clients, random customers and names) three times in each state, alternating,
and prints requests/s and p99 of each run. It drops and rebuilds the index, so run it on a bench database only:

    .venv/bin/python bench/put_index.py --database-url postgres://postgres@127.0.0.1:5432/crm_bench_1000000 \
        --customers 1000000
"""

import argparse
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.run import ACCOUNTS_SCRIPT, Server, bench_env, manage, wrk  # noqa: E402

DROP = "DROP INDEX IF EXISTS attribute_value_idx"
CREATE = "CREATE INDEX IF NOT EXISTS attribute_value_idx ON attributes_attribute (attribute_value)"


def sql(env: dict, statement: str) -> float:
    started = time.monotonic()
    manage(env, "shell", "-c", f"from django.db import connection\nconnection.cursor().execute({statement!r})")
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--customers", type=int, required=True)
    parser.add_argument("--duration", type=float, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    env = bench_env(args.database_url, tempfile.mkdtemp(prefix="crm-bench-static-"))
    token = re.search(r"^TOKEN=(\S+)", manage(env, "shell", "-c", ACCOUNTS_SCRIPT, capture=True), re.M).group(1)
    lua = {"BENCH_TOKEN": token, "BENCH_CUSTOMERS": str(args.customers)}
    runs: dict[str, list[dict]] = {"with index": [], "without index": []}
    server = Server(env, 4)
    try:
        for _ in range(args.rounds):
            for state in runs:
                seconds = sql(env, CREATE if state == "with index" else DROP)
                result = wrk(server.base, "upsert.lua", lua, duration=args.duration, connections=8)
                runs[state].append(result)
                print(f"{state:14} {result['rps']:7.1f} req/s  p99 {result['p99_ms']:6.1f} ms  "
                      f"errors {result['errors']}  (index change {seconds:.1f} s)", flush=True)  # fmt: skip
    finally:
        server.stop()
        sql(env, CREATE)
    for state, results in runs.items():
        rps = [r["rps"] for r in results]
        print(f"{state}: median {statistics.median(rps):.1f} req/s over {len(rps)} runs of {args.duration:.0f} s")


if __name__ == "__main__":
    main()
