"""Request ids: one id per request, from the proxy in front of us or made here, on everything the request leaves.

`RequestIdMiddleware` (first in MIDDLEWARE) takes `X-Request-ID` from a client address in REQUEST_ID_TRUSTED_PROXIES
(a load balancer that already made one), or makes a new one, keeps it in a context variable for the request, and
returns it on every response. What the request writes carries it: every log line (`RequestIdFilter`; structured
JSON lines with LOG_FORMAT=json), every attribute history row and every change event (attributes/history.py, the
one-statement upsert), the jobs the request starts (and so their history rows and events), and every webhook
delivery of those events (in the payload and as the `X-Request-ID` header). One id leads from what a webhook
receiver got back to the request, its log lines and its history.
"""

import ipaddress
import json
import logging
import re
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache

from django.conf import settings

HEADER = "X-Request-ID"
request_logger = logging.getLogger("crm.request")
MAX_LENGTH = 64
REQUEST_ID = ContextVar("request_id", default="")
# What a proxy may send: printable, no spaces or quotes (it ends up in log lines and headers), at most 64 characters.
_ACCEPTABLE = re.compile(r"[A-Za-z0-9._:+/=@-]{1,64}")


def current() -> str:
    """The id of the request (or job) this code runs for; "" outside either."""
    return REQUEST_ID.get()


def new() -> str:
    """128 random bits as 32 hex digits (a uuid4's hex without building a UUID object on every request)."""
    return secrets.token_hex(16)


@contextmanager
def bound(request_id: str) -> Iterator[str]:
    """Code inside this block runs for `request_id` (a job resumes the id of the request that started it)."""
    reset = REQUEST_ID.set(request_id or "")
    try:
        yield request_id
    finally:
        REQUEST_ID.reset(reset)


@cache
def _trusted_networks(proxies: tuple[str, ...]) -> tuple:
    return tuple(ipaddress.ip_network(p, strict=False) for p in proxies)


def _from_trusted_proxy(request) -> bool:
    networks = _trusted_networks(tuple(settings.REQUEST_ID_TRUSTED_PROXIES))
    if not networks:
        return False
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(address in network for network in networks)


def request_id_for(request) -> str:
    """The proxy's id when a trusted proxy sent a well-formed one; otherwise a new one."""
    given = request.META.get("HTTP_X_REQUEST_ID", "")
    if given and _ACCEPTABLE.fullmatch(given) and _from_trusted_proxy(request):
        return given
    return new()


class RequestIdMiddleware:
    """Give each request its id (see the module docstring) and return it on the response, whatever answers.

    Logs one line per request on `crm.request` at INFO (LOG_LEVEL=INFO shows them): method, path, status, time."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = request_id_for(request)
        request.request_id = request_id
        started = time.perf_counter()
        with bound(request_id):
            response = self.get_response(request)
            if request_logger.isEnabledFor(logging.INFO):
                request_logger.info(
                    "%s %s %s %.1fms", request.method, request.path, response.status_code,
                    (time.perf_counter() - started) * 1000,
                )  # fmt: skip
        response[HEADER] = request_id
        return response


class RequestIdFilter(logging.Filter):
    """Puts `request_id` on every log record (the one of the request or job it was logged in; "-" outside)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", None):
            # django.request logs a 4xx/5xx after the middleware returned, with the request on the record.
            record.request_id = current() or getattr(getattr(record, "request", None), "request_id", "") or "-"
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC), level, logger, message, request_id (and the exception, if any)."""

    converter = time.gmtime

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)
