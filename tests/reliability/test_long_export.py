"""A full CSV export outlives gunicorn's worker timeout: served by the threaded workers of gunicorn.conf.py.

At 1M attributes the sweep saw every full export cut off at 30 s, when gunicorn killed the sync worker that was
still streaming it (a sync worker cannot tell the master it is alive while it serves). Here the timeout is 4 s
and a slow client takes over 10 s to read an export of about 10 MB, more than the sockets buffer: the worker's
thread is blocked writing for longer than the timeout, and the download must still arrive whole. (Not less than
4 s: gunicorn 27's threaded worker lingers up to 2 s in its main thread for the client to close, after the
response, without telling the master it is alive.)
The data is on the suite's database kind (a SQLite file, or a fresh PostgreSQL database beside the suite's),
so PostgreSQL's server-side cursor path is the one served there.
"""

import os
import socket
import time
import uuid

import psycopg
import pytest

from tests.reliability.conftest import (
    ATTRIBUTE_PERMS,
    HOST,
    Gunicorn,
    migrate_and_seed,
    production_env,
    run_python,
    serving,
)

ROWS = 50_000  # × ~200 bytes of CSV each: ~10 MB

SEED_SCRIPT = """
import sys
import django
django.setup()
from attributes.models import Attribute
customer = int(sys.argv[1])
Attribute.objects.bulk_create(
    (
        Attribute(customer_id=customer, attribute_name=f"name_{n:06d}", attribute_value="v" * 140)
        for n in range(int(sys.argv[2]))
    ),
    batch_size=5000,
)
"""


@pytest.fixture(scope="module")
def database(tmp_path_factory):
    suite_url = os.environ.get("DATABASE_URL", "")
    if not suite_url.startswith("postgres"):
        yield f"sqlite:///{tmp_path_factory.mktemp('long-export') / 'db.sqlite3'}"
        return
    name = f"crm_long_export_{uuid.uuid4().hex[:8]}"
    admin = {"host": "127.0.0.1", "user": "postgres", "dbname": "postgres", "autocommit": True}
    with psycopg.connect(**admin) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgres://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(**admin) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def site(database, static_root, tmp_path_factory):
    env = production_env(database_url=database, static_root=static_root, API_THROTTLE_USER_RATE="1000/min")
    data = migrate_and_seed(env, users=[{"username": "exporter", "perms": ATTRIBUTE_PERMS}], customers=1)
    run_python(env, "-c", SEED_SCRIPT, str(data["customers"][0]), str(ROWS))
    server = Gunicorn(env, tmp_path_factory.mktemp("long-export-log") / "gunicorn.log", workers=1, timeout=4)
    with serving(server):
        yield server, data["tokens"]["exporter"][0]


def slow_download(server: Gunicorn, path: str, token: str) -> tuple[bytes, float]:
    """GET `path` through a socket with a small receive buffer, reading 16 KB every 10 ms (about 1.6 MB/s)."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8192)
    sock.settimeout(30)
    sock.connect((HOST, server.port))
    request = f"GET {path} HTTP/1.1\r\nHost: {HOST}\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n"
    sock.sendall(request.encode())
    started = time.monotonic()
    received = bytearray()
    while chunk := sock.recv(16384):
        received += chunk
        time.sleep(0.01)
    sock.close()
    return bytes(received), time.monotonic() - started


def dechunk(body: bytes) -> bytes:
    out, rest = bytearray(), body
    while True:
        size_line, _, rest = rest.partition(b"\r\n")
        assert size_line, f"the download was cut off after {len(out):,} bytes"
        size = int(size_line, 16)
        if size == 0:
            return bytes(out)
        out += rest[:size]
        rest = rest[size + 2 :]


def test_a_slow_full_export_is_not_cut_off_by_the_worker_timeout(site):
    server, token = site
    log_before = server.log_path.read_bytes()  # a worker may have timed out while booting (on a busy machine)

    raw, seconds = slow_download(server, "/crm/attribute/export", token)
    head, _, body = raw.partition(b"\r\n\r\n")
    if b"transfer-encoding: chunked" in head.lower():
        body = dechunk(body)
    lines = body.decode().splitlines()

    assert head.startswith(b"HTTP/1.1 200"), head[:200]
    assert seconds > 2 * server.timeout, f"the download took only {seconds:.1f} s"  # it did outlast the timeout
    assert len(lines) == 1 + ROWS
    assert lines[-1].startswith('"') and lines[-1].count('","') == 4
    assert b"WORKER TIMEOUT" not in server.log_path.read_bytes()[len(log_before) :]
