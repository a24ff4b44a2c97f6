"""What the operations middleware (request id, metrics, read-your-writes) costs per request, in-process.

    .venv/bin/python bench/ops_overhead.py          # PROMETHEUS_MULTIPROC_DIR=<empty dir> for multiprocess mode

Each middleware wraps a view that returns at once, so the figure is the middleware's own time per request (the
per-query wrapper of the query count comes on top: one function call per query).
"""

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm_project.settings")
os.environ.setdefault("SECRET_KEY", "bench-" + "x" * 50)
os.environ.setdefault("ENV_FILE", os.devnull)

import django  # noqa: E402

django.setup()

from django.http import HttpResponse  # noqa: E402
from django.test import RequestFactory  # noqa: E402

from crm_project.metrics import MetricsMiddleware  # noqa: E402
from crm_project.replicas import ReadYourWritesMiddleware  # noqa: E402
from crm_project.requestid import RequestIdMiddleware  # noqa: E402

REQUESTS = 20000


def main() -> None:
    response = HttpResponse("ok")

    def view(request):
        return response

    chains = {
        "none": view,
        "request id": RequestIdMiddleware(view),
        "metrics": MetricsMiddleware(view),
        "read-your-writes": ReadYourWritesMiddleware(view),
        "all three": RequestIdMiddleware(MetricsMiddleware(ReadYourWritesMiddleware(view))),
    }
    request = RequestFactory().get("/crm/attribute/")
    mode = "multiprocess" if os.environ.get("PROMETHEUS_MULTIPROC_DIR") else "single process"
    print(f"middleware cost per request ({mode} metrics, {REQUESTS} requests)")
    for name, chain in chains.items():
        started = time.perf_counter()
        for _ in range(REQUESTS):
            chain(request)
        print(f"  {name:<18} {(time.perf_counter() - started) / REQUESTS * 1e6:6.1f} µs")


if __name__ == "__main__":
    main()
