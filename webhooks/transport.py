"""One webhook POST, guarded against server-side request forgery.

The host is resolved here, every address checked (public unicast only, unless
settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS), and the connection made to the checked address itself, with the
original host name for TLS (SNI and certificate check) and the Host header. So a name that resolves to a public
address when the endpoint is saved and to 127.0.0.1 at delivery (DNS rebinding) is refused at delivery.
Redirects are answers like any other (never followed): a 3xx is a failed delivery.
"""

import http.client
import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

MAX_BODY = 4096  # of the answer: read (so the connection ends cleanly) but not kept


class Refused(Exception):
    """The URL may not be called: the message is shown to users and logged (it never contains a secret)."""


@dataclass(frozen=True)
class Answer:
    status_code: int | None
    duration_ms: int
    error: str = ""
    retry_after: float | None = None

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def allow_private() -> bool:
    return settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS


def check_url(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of a URL webhooks may use, or Refused. Literal addresses are checked here too."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme != "https" and not (scheme == "http" and allow_private()):
        raise Refused("Webhook URLs must use https://.")
    if not parts.hostname:
        raise Refused("The webhook URL has no host.")
    if parts.username or parts.password:
        raise Refused("The webhook URL may not contain credentials.")
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError as error:
        raise Refused("The webhook URL has an invalid port.") from error
    try:
        check_address(ipaddress.ip_address(parts.hostname))
    except ValueError:
        pass  # a name: checked on its resolved addresses at delivery
    return scheme, parts.hostname, port


def check_address(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> None:
    if allow_private():
        return
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    if not address.is_global or address.is_multicast:
        raise Refused(f"{address} is a private, loopback, link-local or reserved address; webhooks go to public ones.")


def resolve(host: str, port: int) -> str:
    """The first address of `host`, all of whose addresses must pass `check_address`."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        raise Refused(f"Cannot resolve {host}.") from error
    addresses = [info[4][0] for info in infos]
    for address in addresses:
        check_address(ipaddress.ip_address(address.split("%")[0]))
    return addresses[0]


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to an address resolved (and checked) beforehand, verifying the certificate for the host name."""

    def __init__(self, host: str, address: str, port: int, timeout: float):
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self):
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host: str, address: str, port: int, timeout: float):
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self):
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


def post(url: str, body: bytes, headers: dict[str, str], *, timeout: float | None = None) -> Answer:
    """POST `body`; never raises for network trouble (the Answer says what happened)."""
    timeout = timeout or settings.WEBHOOKS_TIMEOUT_SECONDS
    started = time.monotonic()

    def elapsed() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        scheme, host, port = check_url(url)
        address = resolve(host, port)
    except Refused as refusal:
        return Answer(None, elapsed(), str(refusal))
    parts = urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    connection_class = _PinnedHTTPSConnection if scheme == "https" else _PinnedHTTPConnection
    connection = connection_class(host, address, port, timeout)
    try:
        connection.request("POST", target, body=body, headers={"Content-Type": "application/json", **headers})
        response = connection.getresponse()
        response.read(MAX_BODY)
        return Answer(response.status, elapsed(), retry_after=_retry_after(response.getheader("Retry-After")))
    except (OSError, http.client.HTTPException, ssl.SSLError) as error:
        return Answer(None, elapsed(), f"{type(error).__name__}: {error}"[:300])
    finally:
        connection.close()


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        from email.utils import parsedate_to_datetime

        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
        except (TypeError, ValueError):
            return None
