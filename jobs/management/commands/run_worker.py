"""`manage.py run_worker`: one background worker in the foreground, whatever engine is behind the jobs.

It runs django-tasks' database worker (the engine) and, beside it, the sweeper that queues again the jobs
a dead worker left and starts the periodic kinds that are due (`runner.start_periodic`). SIGTERM or Ctrl-C:
the running job stops at its next chunk boundary, goes back to the queue with its checkpoint, and the worker
exits; a second signal exits at once.
"""

import logging
import signal
import threading

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import close_old_connections, connection
from django_tasks_db.management.commands.db_worker import Worker

from crm_project import requestid
from jobs import runner

logger = logging.getLogger("jobs")


class JobWorker(Worker):
    def shutdown(self, signum, frame) -> None:
        runner.stopping.set()  # the job in hand checkpoints and returns to the queue
        super().shutdown(signum, frame)


class Command(BaseCommand):
    help = "Run one background worker (jobs: renames, imports, ...) until SIGTERM or Ctrl-C."

    def add_arguments(self, parser):
        parser.add_argument("--interval", type=float, default=0.5, help="Seconds between polls when idle.")
        parser.add_argument("--batch", action="store_true", help="Run what is queued now, then exit.")
        parser.add_argument("--worker-id", default=runner.worker_id, help="Unique across the worker pool.")

    def handle(self, *, interval: float, batch: bool, worker_id: str, verbosity: int, **options):
        runner.worker_id = worker_id
        if verbosity:
            handler = logging.StreamHandler(self.stdout)
            # Each line names the request that started the job it is about (crm_project/requestid.py).
            handler.addFilter(requestid.RequestIdFilter())
            handler.setFormatter(
                requestid.JsonFormatter()
                if settings.LOG_FORMAT == "json"
                else logging.Formatter("%(asctime)s %(name)s %(levelname)s [%(request_id)s] %(message)s")
            )
            for name in ("jobs", "django_tasks", "django_tasks_db"):
                logging.getLogger(name).addHandler(handler)
                logging.getLogger(name).setLevel(logging.INFO if verbosity == 1 else logging.DEBUG)
        if batch:
            runner.sweep(stale_after=0)
            runner.run_queued(owner=worker_id)
            return
        sweeper = threading.Thread(target=self.sweep_forever, name="job-sweeper", daemon=True)
        sweeper.start()
        self.stdout.write(f"Worker {worker_id} started (Ctrl-C or SIGTERM stops it).")
        worker = JobWorker(
            queue_names=["default"],
            interval=interval,
            batch=False,
            backend_name="default",
            startup_delay=False,
            max_tasks=None,
            worker_id=worker_id,
            excluded_queue_names=[],
        )
        worker.configure_signals()
        signal.signal(signal.SIGTERM, worker.shutdown)
        worker.run()

    @staticmethod
    def sweep_forever() -> None:
        while not runner.stopping.wait(settings.JOBS_SWEEP_SECONDS):
            try:
                runner.sweep(stale_after=settings.JOBS_STALE_SECONDS)
                runner.start_periodic()
            except Exception:  # a database blip: try again next round
                logger.exception("sweep failed")
            finally:
                close_old_connections()
        connection.close()
