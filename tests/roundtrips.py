"""Count what a request costs the database: round trips on the wire (PostgreSQL), statements (both).

PostgreSQL: `WireCounter` is a TCP proxy between Django and the server that reads the client's side of the
frontend/backend protocol. Every round trip ends with a Query message ('Q': simple protocol, which BEGIN, COMMIT
and Django's health check `SELECT 1` use) or a Sync message ('S': the extended protocol's end of a batch), and
the client then waits for the server's ReadyForQuery. So the count of those two messages is the count of round
trips, whatever sends them: the ORM, a raw cursor, psycopg's own BEGIN, or a health check.

SQLite runs in-process (no round trips); there the budget counts statements, BEGIN and COMMIT included.
"""

import contextlib
import select
import socket
import struct
import threading

from django.db import connection
from django.test.utils import CaptureQueriesContext

_STARTUP_CODES = {80877103, 80877104, 80877102}  # SSLRequest, GSSENCRequest, CancelRequest: no type byte


class WireCounter:
    def __init__(self, host: str, port: int):
        self.target = (host, port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.round_trips = 0
        self.messages: list[str] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def reset(self) -> None:
        with self._lock:
            self.round_trips = 0
            self.messages = []

    def close(self) -> None:
        self._stop.set()
        self.listener.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.target)
            threading.Thread(target=self._pump, args=(client, server), daemon=True).start()

    def _pump(self, client: socket.socket, server: socket.socket) -> None:
        buffer, started = b"", False
        try:
            while not self._stop.is_set():
                readable, _, _ = select.select([client, server], [], [], 0.5)
                if server in readable:
                    data = server.recv(65536)
                    if not data:
                        return
                    client.sendall(data)
                if client in readable:
                    data = client.recv(65536)
                    if not data:
                        return
                    buffer += data
                    buffer, started = self._count(buffer, started)
                    server.sendall(data)
        except OSError:
            return
        finally:
            client.close()
            server.close()

    def _count(self, buffer: bytes, started: bool) -> tuple[bytes, bool]:
        while True:
            if not started:  # untyped startup packets: length, then a protocol version or request code
                if len(buffer) < 8:
                    return buffer, started
                length, code = struct.unpack("!ii", buffer[:8])
                if len(buffer) < length:
                    return buffer, started
                buffer = buffer[length:]
                started = code not in _STARTUP_CODES
                continue
            if len(buffer) < 5:
                return buffer, started
            kind, length = buffer[:1], struct.unpack("!i", buffer[1:5])[0]
            if len(buffer) < 1 + length:
                return buffer, started
            if kind in (b"Q", b"S"):
                with self._lock:
                    self.round_trips += 1
                    if kind == b"Q":
                        self.messages.append(buffer[5 : 1 + length].rstrip(b"\0").decode(errors="replace")[:120])
                    else:
                        self.messages.append("<extended protocol batch>")
            buffer = buffer[1 + length :]


@contextlib.contextmanager
def through_counter():
    """Reconnect Django's default connection through a WireCounter for the block (PostgreSQL only)."""
    settings = connection.settings_dict
    original = settings["HOST"], settings["PORT"], dict(settings["OPTIONS"])
    counter = WireCounter(settings["HOST"] or "127.0.0.1", int(settings["PORT"] or 5432))
    connection.close()
    settings["HOST"], settings["PORT"] = "127.0.0.1", counter.port
    settings["OPTIONS"].update(sslmode="disable", gssencmode="disable")
    try:
        yield counter
    finally:
        connection.close()
        settings["HOST"], settings["PORT"] = original[0], original[1]
        settings["OPTIONS"].clear()
        settings["OPTIONS"].update(original[2])
        counter.close()


class Cost:
    """What one block cost: `statements` (every statement Django sent, BEGIN and COMMIT included) and, on
    PostgreSQL, `round_trips` on the wire (None on SQLite)."""

    def __init__(self, counter: WireCounter | None):
        self.counter = counter
        self.statements: list[str] = []
        self.round_trips: int | None = None
        self.wire: list[str] = []


@contextlib.contextmanager
def measure(counter: WireCounter | None):
    cost = Cost(counter)
    if counter is not None:
        counter.reset()
    with CaptureQueriesContext(connection) as captured:
        yield cost
    cost.statements = [query["sql"] for query in captured.captured_queries]
    if counter is not None:
        cost.round_trips, cost.wire = counter.round_trips, list(counter.messages)

    def describe() -> str:
        return "\n".join(["statements:", *cost.statements, "wire:", *cost.wire])

    cost.describe = describe


class WsgiResponse:
    def __init__(self, status: str, body: bytes):
        self.status_code = int(status.split()[0])
        self.content = body

    def json(self):
        import json

        return json.loads(self.content)


class WsgiClient:
    """Requests through Django's real WSGI handler, as gunicorn calls it: unlike the test client, request_started
    and request_finished run `close_old_connections` (the test client disconnects it), so a reused connection's
    health check and age limit apply exactly as in production."""

    def __init__(self, token: str):
        from django.core.handlers.wsgi import WSGIHandler

        self.handler = WSGIHandler()
        self.token = token

    def request(self, method: str, path: str, body: bytes = b"") -> WsgiResponse:
        import io
        import json

        if not isinstance(body, bytes):
            body = json.dumps(body).encode()
        environ = {
            "REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": "", "SERVER_NAME": "testserver",
            "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "127.0.0.1",
            "HTTP_HOST": "testserver", "HTTP_AUTHORIZATION": f"Bearer {self.token}", "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(body), "wsgi.errors": io.StringIO(), "wsgi.version": (1, 0),
            "wsgi.multithread": False, "wsgi.multiprocess": True, "wsgi.run_once": False,
            "CONTENT_TYPE": "application/json", "CONTENT_LENGTH": str(len(body)),
        }  # fmt: skip
        started = {}

        def start_response(status, headers, exc_info=None):
            started["status"] = status

        result = self.handler(environ, start_response)
        try:
            content = b"".join(result)
        finally:
            result.close()  # request_finished, as a WSGI server sends it
        return WsgiResponse(started["status"], content)

    def get(self, path: str) -> WsgiResponse:
        return self.request("GET", path)

    def put(self, path: str, body) -> WsgiResponse:
        return self.request("PUT", path, body)
