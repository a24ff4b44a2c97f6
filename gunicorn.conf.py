"""gunicorn settings: read from the working directory by every `gunicorn` started here (`make serve`, the bench,
the reliability tests, and production per the README). Command-line options override them.

Threaded workers (gthread), even with one thread: a worker's main thread tells the master it is alive while its
thread serves, so a long streamed CSV export of millions of rows is not killed by `timeout` mid-download as a sync
worker would be (the sweep at 1M attributes saw exactly that). `timeout` still replaces a worker that hangs; every
database statement is bounded by `DB_STATEMENT_TIMEOUT_MS`.
"""

import os

wsgi_app = "crm_project.wsgi"
worker_class = "gthread"


# Workers come from WEB_CONCURRENCY (gunicorn's own variable) or --workers; threads from GUNICORN_THREADS, 1 by
# default on either database (issue 17, measured with `make bench` on 2 cores and 4 workers). Python runs one thread
# of a process at a time (the GIL): the threads of a worker only took turns, and handing the GIL between them cost
# more than the database waits they overlapped, which the other workers' processes overlap anyway. On SQLite, one
# thread served the list 1.6 times as fast as 4 (768 against 466 requests/s); on PostgreSQL, in alternating rounds,
# 1,515 against 1,392 requests/s, 0.38 of the bare WSGI app against 0.31. More threads pay off when requests wait
# long on something else (many long CSV exports at once, slow clients without a buffering proxy).
threads = int(os.environ.get("GUNICORN_THREADS") or 1)
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
