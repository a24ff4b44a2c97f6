"""A real local webhook receiver: an HTTP server in a thread that verifies every signature with `standardwebhooks`.

`answer` decides the status of the next requests (a number, or a callable of the message); every request is kept
with what it was answered and which of `secrets` verified its signature.
"""

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


@dataclass
class Received:
    headers: dict[str, str]
    body: dict
    verified_with: list[int] = field(default_factory=list)  # indexes into the receiver's secrets that verified
    status: int = 0  # what the receiver answered

    @property
    def message_id(self) -> str:
        return self.headers["webhook-id"]


class Receiver:
    def __init__(self):
        self.secrets: list[str] = []
        self.received: list[Received] = []
        self.answer = 204
        self.retry_after: str | None = None
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's naming)
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                headers = {k.lower(): v for k, v in self.headers.items()}
                verified = []
                for i, secret in enumerate(list(receiver.secrets)):
                    try:
                        Webhook(secret).verify(raw, headers)
                        verified.append(i)
                    except WebhookVerificationError:
                        pass
                message = Received(headers, json.loads(raw), verified)
                with receiver.lock:
                    status = receiver.answer(message) if callable(receiver.answer) else receiver.answer
                    message.status = status
                    receiver.received.append(message)
                self.send_response(status)
                if receiver.retry_after and status in (429, 503):
                    self.send_header("Retry-After", receiver.retry_after)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/crm"

    def accepted(self) -> list[Received]:
        """Messages whose signature verified and that the receiver took (2xx), in arrival order."""
        with self.lock:
            return [r for r in self.received if r.verified_with and 200 <= r.status < 300]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
