"""A real TCP proxy between the client and the live server, in threads, that can break the wire on purpose.

One request per connection (each response it passes on says `Connection: close`), so "the next request" is exact:
- `cut(after_bytes)`: forward the next request, then pass on only the first `after_bytes` bytes of its response
  and drop the connection (0: the server applied the request and the answer is lost; negative: all but the last
  that many bytes, so the connection drops mid-body);
- `answer(raw)`: answer the next request with these bytes instead of forwarding it (a 503 or 429 of a proxy);
- `stall()`: read the next request and never answer (a hung server).
Every request is recorded in `seen` (method, path, headers); those that reached the server in `forwarded`.
"""

import socket
import threading
from dataclasses import dataclass
from urllib.parse import urlsplit


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    forwarded: bool = False


@dataclass
class _Plan:
    kind: str  # "cut", "answer", "stall"
    after_bytes: int = 0
    raw: bytes = b""


def _read_request(conn: socket.socket) -> bytes | None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        body += chunk
    return head + b"\r\n\r\n" + body


def _with_connection_close(message: bytes) -> bytes:
    head, _, body = message.partition(b"\r\n\r\n")
    lines = [line for line in head.split(b"\r\n") if not line.lower().startswith(b"connection:")]
    return b"\r\n".join([*lines, b"Connection: close"]) + b"\r\n\r\n" + body


class Proxy:
    def __init__(self, upstream_url: str):
        parts = urlsplit(upstream_url)
        self.upstream = (parts.hostname or "localhost", parts.port or 80)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://localhost:{self.listener.getsockname()[1]}"  # a host the live server allows
        self.seen: list[Seen] = []
        self.plans: list[_Plan] = []
        self.cuts = 0
        self.lock = threading.Lock()
        self.closed = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    # -- what the test asks for ---------------------------------------------------------------------------------

    def cut(self, after_bytes: int = 0) -> None:
        with self.lock:
            self.plans.append(_Plan("cut", after_bytes=after_bytes))

    def answer(self, status: int, *, headers: dict[str, str] | None = None, body: bytes = b"{}") -> None:
        lines = [f"HTTP/1.1 {status} Proxy", "Content-Type: application/json", f"Content-Length: {len(body)}"]
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        with self.lock:
            self.plans.append(_Plan("answer", raw="\r\n".join(lines).encode() + b"\r\n\r\n" + body))

    def stall(self) -> None:
        with self.lock:
            self.plans.append(_Plan("stall"))

    @property
    def forwarded(self) -> list[Seen]:
        return [s for s in self.seen if s.forwarded]

    def close(self) -> None:
        self.closed = True
        self.listener.close()

    # -- the wire -----------------------------------------------------------------------------------------------

    def _serve(self) -> None:
        while not self.closed:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        with conn:
            request = _read_request(conn)
            if request is None:
                return
            head = request.partition(b"\r\n\r\n")[0].decode("latin-1").split("\r\n")
            method, path, _ = head[0].split(" ", 2)
            headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in head[1:])}
            seen = Seen(method, path, headers)
            with self.lock:
                self.seen.append(seen)
                plan = self.plans.pop(0) if self.plans else None
            if plan is not None and plan.kind == "answer":
                conn.sendall(_with_connection_close(plan.raw))
                return
            if plan is not None and plan.kind == "stall":
                while conn.recv(65536):
                    pass
                return
            seen.forwarded = True
            response = self._forward(_with_connection_close(request))
            if plan is not None and plan.kind == "cut":
                assert b"content-length:" in response.partition(b"\r\n\r\n")[0].lower(), "a cut needs a length"
                conn.sendall(response[: plan.after_bytes])  # a negative count keeps all but the last bytes
                with self.lock:
                    self.cuts += 1
                conn.shutdown(socket.SHUT_RDWR)
                return
            conn.sendall(_with_connection_close(response))

    def _forward(self, request: bytes) -> bytes:
        with socket.create_connection(self.upstream) as upstream:
            upstream.sendall(request)
            chunks = []
            while chunk := upstream.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks)
