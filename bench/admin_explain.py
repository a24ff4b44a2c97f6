"""EXPLAIN ANALYZE of every query Django admin's changelists run, against the database in DATABASE_URL.

Read-only (the connection is set `default_transaction_read_only`, the user is never saved), so it can run against
the shared benchmark database:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_bench_100000 DEBUG=true \\
        .venv/bin/python bench/admin_explain.py "/admin/attributes/attribute/?q=SF-00" …
"""

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm_project.settings")

import django  # noqa: E402

django.setup()

from django.contrib import admin  # noqa: E402
from django.contrib.auth.models import User  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import RequestFactory  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import resolve  # noqa: E402

DEFAULT_URLS = [
    "/admin/attributes/attribute/",
    "/admin/attributes/attribute/?q=SF-00",
    "/admin/attributes/attribute/?q=external_crm_id%3DSF-00",
    "/admin/attributes/attribute/?q=bill",
    "/admin/attributes/attribute/?q=4242",
    "/admin/attributes/attribute/?p=5000",
    "/admin/customers/customer/",
    "/admin/customers/customer/?q=4242",
    "/admin/jobs/job/",
    "/admin/tokens/apitoken/",
]


def main(urls: list[str]) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET default_transaction_read_only = on")
    user = User(username="explain", is_staff=True, is_superuser=True, is_active=True)
    for url in urls:
        request = RequestFactory().get(url)
        request.user = user
        request.session = {}
        match = resolve(request.path_info)
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = match.func(request, *match.args, **match.kwargs)
            if hasattr(response, "render"):
                response.render()
            elapsed = (time.perf_counter() - started) * 1000
        print(
            f"\n=== {url}: {response.status_code}, {elapsed:.0f} ms, {len(response.content)} bytes, "
            f"{len(queries)} queries"
        )
        for query in queries.captured_queries:
            sql = query["sql"]
            if not sql.lstrip().upper().startswith("SELECT"):
                continue
            print(f"--- {query['time']} s  {sql[:300]}")
            with connection.cursor() as cursor:
                prefix = "EXPLAIN ANALYZE " if connection.vendor == "postgresql" else "EXPLAIN QUERY PLAN "
                cursor.execute(prefix + sql)
                print("\n".join("    " + str(row[-1]) for row in cursor.fetchall()))


if __name__ == "__main__":
    assert admin.site  # the admin is registered by django.setup()
    main(sys.argv[1:] or DEFAULT_URLS)
