"""A health check of persistent database connections that costs no round trip.

Django's `CONN_HEALTH_CHECKS` sends `SELECT 1` before the first query of every request that reuses a
connection: a whole round trip, 8% of a busy API worker's time. Instead, at the start of each request we look at
the idle connection's socket without waiting (`select` with a zero timeout). An idle PostgreSQL connection has
nothing to read; when the server ends it (a restart, `pg_terminate_backend`, an idle timeout) the server sends its
error and closes the socket, which makes it readable, and we drop the connection before anyone uses it. A
connection that dies silently (a network partition) fails its first statement instead: the bearer-token lookup,
every API request's first statement, runs once more on a new connection (`tokens/selectors.py`), other requests
answer 503 once, and Django discards the broken connection at the end of that request
(`close_if_unusable_or_obsolete`). SQLite runs in-process and needs neither.
"""

import select

from django.db import connections


def drop_dead_connections(**kwargs) -> None:
    """request_started: close each initialized PostgreSQL connection whose server has hung up."""
    for conn in connections.all(initialized_only=True):
        raw = conn.connection
        if raw is None or conn.vendor != "postgresql" or conn.in_atomic_block:
            continue
        try:
            readable, _, _ = select.select([raw.fileno()], [], [], 0)
        except Exception:  # a closed or broken handle (OSError, psycopg errors): no socket to look at
            readable = True
        if readable:
            conn.close()
