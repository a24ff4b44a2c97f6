"""gunicorn settings: read from the working directory by every `gunicorn` started here (`make serve`, the bench,
the reliability tests, and production per the README). Command-line options override them.

Threaded workers (gthread): a worker's main thread tells the master it is alive while its threads serve, so a
long streamed CSV export of millions of rows is not killed by `timeout` mid-download as a sync worker would be
(the sweep at 1M attributes saw exactly that). `timeout` still replaces a worker that hangs; every database
statement is bounded by `DB_STATEMENT_TIMEOUT_MS`.
"""

import os

wsgi_app = "crm_project.wsgi"
worker_class = "gthread"


def _default_threads() -> int:
    """4 threads per worker on PostgreSQL, 1 on SQLite (issue 17, measured with `make bench`).

    A thread lets a worker serve another request while one waits for PostgreSQL. SQLite runs inside the process and
    never waits that way, so more threads only take turns holding Python's GIL: on SQLite one thread per worker
    served the list endpoint 1.6 times as fast (768 against 466 requests/s) and the upsert 1.2 times (324 against
    270), where the bare WSGI app gained 3%. DATABASE_URL is read as settings read it: the environment, then .env.
    """
    url = os.environ.get("DATABASE_URL")
    if url is None:
        url = _from_env_file(
            os.environ.get("ENV_FILE", os.path.join(os.path.dirname(os.path.abspath(__file__)), ".env"))
        )
    return 1 if not url or url.startswith("sqlite") else 4


def _from_env_file(path: str) -> str:
    """DATABASE_URL's value in a .env file (`NAME=value` lines), or "" without one."""
    try:
        with open(path) as lines:
            for line in lines:
                name, _, value = line.strip().partition("=")
                if name.removeprefix("export ").strip() == "DATABASE_URL":
                    return value.strip().strip("'\"")
    except OSError:
        pass
    return ""


# Workers come from WEB_CONCURRENCY (gunicorn's own variable) or --workers; threads from GUNICORN_THREADS.
threads = int(os.environ.get("GUNICORN_THREADS") or _default_threads())
timeout = 30
graceful_timeout = 30
keepalive = 5


# Metrics (crm_project/metrics.py): with PROMETHEUS_MULTIPROC_DIR set, every worker writes its series to files there
# and a scrape sums them. The directory must start empty (files of an earlier run would be counted again), and an
# exited worker's live gauges must go: prometheus-client's two documented hooks.
def on_starting(server):
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        os.makedirs(directory, exist_ok=True)
        for name in os.listdir(directory):
            if name.endswith(".db"):
                os.remove(os.path.join(directory, name))


def child_exit(server, worker):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        prometheus_multiprocess.mark_process_dead(worker.pid)


if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    # Imported with the configuration, in the master: child_exit runs in its main loop, never waiting on an import.
    from prometheus_client import multiprocess as prometheus_multiprocess


# With --access-logfile, each line ends with the request id the app returned (X-Request-ID), as the app's logs do.
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %({x-request-id}o)s'
