"""Read replicas: lag-tolerant reads go to a replica, everything else (and every write) to the primary.

With DATABASE_REPLICA_URLS set, settings add one database alias per replica (`replica_1`, …) and this router. A
read goes to a replica only inside `lag_tolerant()` (the `replica_reads` view decorator): the usage audit, the CSV
exports, the change feed and the history API, and the attribute search (`GET /crm/attribute/`). Everything else
reads the primary, as without the setting: pages and API calls that show what was just written, every transaction,
and every write.

Read-your-writes: a client that has just written (a successful POST, PUT, PATCH or DELETE) reads from the primary
for READ_YOUR_WRITES_SECONDS afterwards, even in lag-tolerant views, on every instance. The client is its bearer
token or its session cookie (a hash of it), remembered in the default cache, which is Redis when several instances
share it. A successful write costs one cache write; the cache is read only when a lag-tolerant read is about to
happen, so other reads cost nothing more. Authentication and permissions run before the view, on the primary.
"""

import hashlib
import random
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, connections

_TOLERANT = ContextVar("replica_lag_tolerant", default=False)
_CLIENT = ContextVar("replica_client", default=None)  # the request's client key, and whether it is pinned
_CHOSEN = ContextVar("replica_chosen", default=None)
_SAFE_METHODS = {"GET", "HEAD", "OPTIONS", "TRACE"}


def aliases() -> list[str]:
    return list(settings.DATABASE_REPLICAS)


@contextmanager
def lag_tolerant() -> Iterator[None]:
    """Reads inside this block may come from a replica (unless the client has just written)."""
    reset = _TOLERANT.set(True)
    try:
        yield
    finally:
        _TOLERANT.reset(reset)


def replica_reads(view):
    """Decorate a view (function or method) whose reads tolerate replica lag."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        with lag_tolerant():
            return view(*args, **kwargs)

    return wrapped


class _Client:
    def __init__(self, key: str):
        self.key = key
        self._pinned: bool | None = None

    @property
    def pinned(self) -> bool:
        if self._pinned is None:
            self._pinned = bool(cache.get(self.key))
        return self._pinned

    def wrote(self) -> None:
        self._pinned = True
        cache.set(self.key, 1, timeout=settings.READ_YOUR_WRITES_SECONDS)


def _client_key(request) -> str | None:
    credential = request.META.get("HTTP_AUTHORIZATION") or request.COOKIES.get(settings.SESSION_COOKIE_NAME)
    if not credential:
        return None
    return "ryw:" + hashlib.sha256(credential.encode()).hexdigest()[:32]


class ReadYourWritesMiddleware:
    """Knows the request's client, so a lag-tolerant read can ask whether it wrote lately; records its writes."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not settings.DATABASE_REPLICAS:
            return self.get_response(request)
        key = _client_key(request)
        client = _Client(key) if key else None
        reset, chosen = _CLIENT.set(client), _CHOSEN.set(None)
        try:
            response = self.get_response(request)
        finally:
            _CLIENT.reset(reset)
            _CHOSEN.reset(chosen)
        if client is not None and request.method not in _SAFE_METHODS and response.status_code < 400:
            client.wrote()
        return response


def read_alias() -> str:
    """Where a read made now goes (see the module docstring)."""
    replicas = aliases()
    if not replicas or not _TOLERANT.get() or connections[DEFAULT_DB_ALIAS].in_atomic_block:
        return DEFAULT_DB_ALIAS
    client = _CLIENT.get()
    if client is not None and client.pinned:
        return DEFAULT_DB_ALIAS
    chosen = _CHOSEN.get()
    if chosen is None:
        chosen = random.choice(replicas)  # one replica for the whole request: its reads agree with each other
        _CHOSEN.set(chosen)
    return chosen


class ReplicaRouter:
    """Django database router (DATABASE_ROUTERS) for the replicas; see the module docstring."""

    def db_for_read(self, model, **hints):
        return read_alias()

    def db_for_write(self, model, **hints):
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        return True  # every alias holds the same data

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == DEFAULT_DB_ALIAS  # replicas follow the primary; nothing is migrated on them
