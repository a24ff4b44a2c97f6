"""The bare-WSGI baseline of `make bench`: the list and upsert SQL through psycopg (or sqlite3), no Django at all.

Served by gunicorn like the product (`gunicorn bench.bare_wsgi:application`, gunicorn.conf.py's threaded workers),
with one persistent connection per worker thread. It answers the same JSON as the API for the same rows, so the
ratio of an endpoint to this app is what everything above the database driver costs: Django, DRF, authentication,
permissions, validation, history.
Unauthenticated on purpose; never part of a deployment (bench/run.py starts it on a loopback port).

    GET /attributes/<customer_id>   the customer's attributes, sorted by name
    POST /upsert                    {"customer_id", "attribute_name", "attribute_value"}: INSERT … ON CONFLICT
    GET /healthz                    200 once the database answers
"""

import json
import os
import sqlite3
import threading
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

URL = os.environ.get("DATABASE_URL", "")
TZ = ZoneInfo(os.environ.get("TIME_ZONE", "UTC"))
FMT = "%Y-%m-%d %H:%M:%S"
SQLITE = URL.startswith("sqlite:")
PARAM = "?" if SQLITE else "%s"
LIST = (
    "SELECT attribute_id, customer_id, attribute_name, attribute_value, created, last_modified "
    f"FROM attributes_attribute WHERE customer_id = {PARAM} ORDER BY attribute_name"
)
UPSERT = (
    "INSERT INTO attributes_attribute (customer_id, attribute_name, attribute_value, created, last_modified) "
    f"VALUES ({PARAM}, {PARAM}, {PARAM}, {PARAM}, {PARAM}) ON CONFLICT (customer_id, attribute_name) DO UPDATE SET "
    "attribute_value = excluded.attribute_value, last_modified = excluded.last_modified "
    "RETURNING attribute_id, customer_id, attribute_name, attribute_value, created, last_modified"
)
_local = threading.local()  # a connection per thread, as Django keeps one


def _connect():
    if getattr(_local, "connection", None) is None:
        if SQLITE:
            _local.connection = sqlite3.connect(URL.removeprefix("sqlite://"), timeout=20, isolation_level=None)
            _local.connection.execute("PRAGMA journal_mode=WAL")
            _local.connection.execute("PRAGMA synchronous=NORMAL")
        else:
            import psycopg

            _local.connection = psycopg.connect(URL, autocommit=True)
    return _local.connection


def _stamp(value) -> str:
    if isinstance(value, str):  # SQLite: naive UTC text, as Django stores it
        value = datetime.fromisoformat(value).replace(tzinfo=UTC)
    return value.astimezone(TZ).strftime(FMT)


def _row(row) -> dict:
    attribute_id, customer_id, name, value, created, modified = row
    return {
        "attribute_id": attribute_id,
        "customer_id": customer_id,
        "attribute_name": name,
        "attribute_value": value,
        "created": _stamp(created),
        "last_modified": _stamp(modified),
    }


def _answer(start_response, status: str, body) -> list[bytes]:
    payload = json.dumps(body).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))])
    return [payload]


def application(environ, start_response):
    method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO", "")
    try:
        connection = _connect()
        if method == "GET" and path.startswith("/attributes/"):
            rows = connection.execute(LIST, [int(path.rsplit("/", 1)[1])]).fetchall()
            return _answer(start_response, "200 OK", [_row(row) for row in rows])
        if method == "POST" and path == "/upsert":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = json.loads(environ["wsgi.input"].read(length))
            now = datetime.now(UTC)
            stamp = now.strftime("%Y-%m-%d %H:%M:%S.%f") if SQLITE else now
            params = [int(body["customer_id"]), str(body["attribute_name"]), str(body["attribute_value"]), stamp, stamp]
            if SQLITE:
                connection.execute("BEGIN IMMEDIATE")
                row = connection.execute(UPSERT, params).fetchone()
                connection.execute("COMMIT")
            else:
                row = connection.execute(UPSERT, params).fetchone()
            return _answer(start_response, "200 OK", _row(row))
        if method == "GET" and path == "/healthz":
            connection.execute("SELECT 1").fetchone()
            return _answer(start_response, "200 OK", {"status": "ok"})
        return _answer(start_response, "404 Not Found", {"detail": "Not found."})
    except (ValueError, KeyError, TypeError):
        return _answer(start_response, "400 Bad Request", {"detail": "bad request"})
    except Exception:
        connection, _local.connection = getattr(_local, "connection", None), None
        if connection is not None:
            connection.close()
        raise
