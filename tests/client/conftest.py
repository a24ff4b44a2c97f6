"""The Python client against a live server of this project: real HTTP, real database, real tokens.

Data is committed (`transactional_db`) so the live server's thread sees it. `crm(*codenames)` is a client for a new
user with exactly those permissions; `proxy` sits between a client and the server when a test breaks the wire.
"""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from crm_attributes_client import Client
from django.db import connection

from tests.factories import make_user
from tokens.models import ApiToken

from .proxy import Proxy

ALL_ATTRIBUTE_PERMS = (
    "view_customer_attribute",
    "create_customer_attribute",
    "update_customer_attribute",
    "delete_customer_attribute",
)


@pytest.fixture(autouse=True)
def _committed(transactional_db):
    """Every test here commits what it writes: the live server answers from its own thread and connection."""


@pytest.fixture
def recorded_sleeps():
    """Waits the client asked for, recorded and not waited (the tests see the backoff; they do not time it)."""
    return []


@pytest.fixture
def crm(live_server, recorded_sleeps):
    """`crm(*codenames, url=..., **options)`: a Client with a fresh token of a new user with those permissions."""
    clients = []

    def _crm(*codenames: str, url: str | None = None, username: str | None = None, **options) -> Client:
        user = make_user(*codenames, username=username)
        _, raw = ApiToken.issue(user=user, name="client-tests")
        options.setdefault("backoff", 0.01)
        options.setdefault("sleep", recorded_sleeps.append)
        client = Client(url or live_server.url, raw, **options)
        client.user = user
        client.raw_token = raw
        clients.append(client)
        return client

    yield _crm
    for client in clients:
        client.close()


@pytest.fixture
def writer(crm):
    """A client that may view, create, update and delete attributes."""
    return crm(*ALL_ATTRIBUTE_PERMS)


@pytest.fixture
def proxy(live_server):
    server = Proxy(live_server.url)
    yield server
    server.close()


@pytest.fixture
def run_jobs():
    """`with run_jobs():` runs queued jobs in a thread of this process while the block waits on them (a worker)."""

    class Worker:
        def __init__(self):
            self.stop = threading.Event()
            self.thread = threading.Thread(target=self._loop, daemon=True)

        def _loop(self):
            from jobs.runner import run_queued

            try:
                while not self.stop.is_set():
                    if not run_queued(owner="client-tests"):
                        self.stop.wait(0.05)
            finally:
                connection.close()

        def __enter__(self):
            self.thread.start()
            return self

        def __exit__(self, *exc):
            self.stop.set()
            self.thread.join(30)

    return Worker


class RawReceiver:
    """A webhook receiver that keeps every request's raw body and headers, as a receiving app gets them."""

    def __init__(self):
        self.requests: list[tuple[bytes, dict[str, str]]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's naming)
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.requests.append((raw, dict(self.headers.items())))
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    def bodies(self) -> list[dict]:
        return [json.loads(raw) for raw, _ in self.requests]


@pytest.fixture
def receiver(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS = True  # the receiver listens on 127.0.0.1, as an intranet one would
    server = RawReceiver()
    yield server
    server.close()
