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
# Workers come from WEB_CONCURRENCY (gunicorn's own variable) or --workers; threads from GUNICORN_THREADS.
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
timeout = 30
graceful_timeout = 30
keepalive = 5
