"""Running jobs in a worker: the lease, the outcome, and the sweeper that re-queues what is due.

A worker claims a job with one conditional UPDATE (queued, or running with an expired lease), so two workers
never both hold it; every chunk's commit renews the lease and fails if the worker lost it, so a stalled worker
cannot write after another took over. A `kill -9` leaves the job running with a lease that runs out; the
sweeper (in every worker, every JOBS_SWEEP_SECONDS) queues it again and the next run resumes from the
checkpoint its last committed chunk wrote.
"""

import logging
import signal
import threading
import uuid
from collections.abc import Callable
from datetime import timedelta

from django.db import transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from crm_project import requestid

from . import engine
from .models import Job

logger = logging.getLogger("jobs")

# Set by the worker's SIGTERM/SIGINT handler: the running job stops at its next chunk boundary.
stopping = threading.Event()
worker_id = f"worker-{uuid.uuid4().hex[:12]}"
Progress = Callable[[int, int | None], None]


def claim(job_id: str, owner: str) -> Job | None:
    """Take the job's lease if it is free: queued, or running under a lease that ran out."""
    now = timezone.now()
    claimed = (
        Job.objects.filter(pk=job_id)
        .filter(Q(status=Job.Status.QUEUED) | Q(status=Job.Status.RUNNING, lease_expires__lt=now))
        .update(
            status=Job.Status.RUNNING,
            lease_owner=owner,
            lease_expires=now + timedelta(seconds=engine.lease_seconds()),
            started=Coalesce(F("started"), now),
            attempts=F("attempts") + 1,
        )
    )
    return Job.objects.get(pk=job_id) if claimed else None


def _finish(job: Job, owner: str, **fields) -> bool:
    fields.setdefault("finished", timezone.now())
    return bool(
        Job.objects.filter(pk=job.pk, status=Job.Status.RUNNING, lease_owner=owner).update(
            lease_owner="", lease_expires=None, **fields
        )
    )


def run(job_id: str, *, owner: str | None = None, progress: Progress | None = None) -> Job | None:
    """Run one job to its end (or to a cancel, a shutdown, a lost lease); None if it was not free to run.
    `progress(done, total)` is called after each committed chunk."""
    owner = owner or worker_id
    job = claim(job_id, owner)
    if job is None:
        return None  # finished, cancelled, or another worker holds it
    with requestid.bound(job.request_id):
        return _run_claimed(job, owner, progress)


def _run_claimed(job: Job, owner: str, progress: Progress | None) -> Job:
    context = engine.JobContext(job, worker_id=owner, should_stop=stopping.is_set, progress=progress)
    logger.info("job %s (%s) started, attempt %s", job.pk, job.kind, job.attempts)
    try:
        if job.cancel_requested:
            raise engine.Cancelled()
        result = engine.kind(job.kind).run(context)
    except engine.Cancelled:
        _finish(job, owner, status=Job.Status.CANCELLED)
        logger.info("job %s cancelled after %s of %s", job.pk, job.done, job.total)
    except engine.Interrupted:
        # Back to the queue with its checkpoint; another worker (or this one, restarted) resumes it.
        with transaction.atomic():
            if _finish(job, owner, status=Job.Status.QUEUED, finished=None):
                engine.deliver(job.pk)
        logger.info("job %s interrupted by shutdown at %s of %s; queued again", job.pk, job.done, job.total)
    except engine.LeaseLost:
        logger.warning("job %s: lease lost to another worker; this run stops", job.pk)
    except engine.JobFailed as failure:
        _finish(job, owner, status=Job.Status.FAILED, error=str(failure), result=failure.result)
    except Exception as error:
        logger.exception("job %s (%s) failed", job.pk, job.kind)
        _finish(job, owner, status=Job.Status.FAILED, error=f"{type(error).__name__}: {error}")
    else:
        _finish(job, owner, status=Job.Status.SUCCEEDED, result=result)
    job.refresh_from_db()
    return job


def run_here(job: Job, *, progress: Progress | None = None, poll_seconds: float = 0.25) -> Job:
    """Run a started job in this process to its end, and return it as it ended: for commands that run their job in
    the foreground (`import_attributes`, `rename_attribute`) and trusted code that wants the outcome now.

    A worker may have taken the job first: then this follows its Job row until it ends (taking it over if it goes
    back to the queue). `progress(done, total)` is called after each committed chunk, or as the row shows more done.
    In the main thread, Ctrl-C stops the job at its next chunk boundary: it goes back to the queue with its
    checkpoint (status queued), for a worker to finish.
    """
    in_main_thread = threading.current_thread() is threading.main_thread()
    if in_main_thread:
        previous = signal.signal(signal.SIGINT, lambda signum, frame: stopping.set())
    try:
        ran = run(str(job.pk), progress=progress)
        if ran is not None and not ran.active:
            return ran
        shown = -1
        while not stopping.is_set():
            job.refresh_from_db()
            if not job.active:
                break
            if progress is not None and job.done > shown:
                shown = job.done
                progress(job.done, job.total)
            if job.status == Job.Status.QUEUED and run(str(job.pk), progress=progress) is not None:
                continue
            stopping.wait(poll_seconds)
    finally:
        if in_main_thread:
            signal.signal(signal.SIGINT, previous)
            stopping.clear()
    job.refresh_from_db()
    return job


def sweep(*, stale_after: float = 30.0) -> int:
    """Queue again what a dead worker left (running, lease expired) and queued jobs whose engine message is gone
    (not waiting in the engine's queue after `stale_after` seconds); returns how many it handed to the engine."""
    from django_tasks_db.models import DBTaskResult

    now = timezone.now()
    waiting = DBTaskResult.objects.filter(status="READY").values("id")
    due = Q(status=Job.Status.RUNNING, lease_expires__lt=now) | (
        Q(status=Job.Status.QUEUED, queued_at__lt=now - timedelta(seconds=stale_after)) & ~Q(task_id__in=waiting)
    )
    delivered = 0
    for job_id in Job.objects.filter(due).values_list("pk", flat=True)[:100]:
        with transaction.atomic():
            # Conditional, so a job claimed meanwhile (or swept by another worker) is left alone.
            if Job.objects.filter(due, pk=job_id).update(status=Job.Status.QUEUED, lease_owner="", lease_expires=None):
                engine.deliver(job_id)
                delivered += 1
    if delivered:
        logger.info("sweeper queued %s job(s) again", delivered)
    return delivered


PERIODIC_KEEP = 10  # finished runs of a periodic kind kept for the Jobs page; older ones are deleted


def start_periodic(*, now=None) -> list[Job]:
    """Start each periodic kind that is due: none queued or running, the last one finished `every` seconds ago.

    Two workers sweeping at the same instant may both start one; periodic handlers are idempotent, so the second
    run only repeats the work. Finished runs beyond the latest PERIODIC_KEEP are deleted, so a job a minute does
    not fill the Jobs page.
    """
    now = now or timezone.now()
    started = []
    for kind in engine.kinds().values():
        if not kind.every:
            continue
        runs = Job.objects.filter(kind=kind.name)
        if runs.filter(status__in=Job.ACTIVE).exists():
            continue
        if runs.filter(finished__gt=now - timedelta(seconds=kind.every)).exists():
            continue
        if kind.when is not None and not kind.when():
            continue
        started.append(engine.start(kind.name))
        keep = runs.exclude(status__in=Job.ACTIVE).order_by("-created").values_list("pk", flat=True)[:PERIODIC_KEEP]
        runs.exclude(status__in=Job.ACTIVE).exclude(pk__in=list(keep)).delete()
    return started


def run_queued(*, owner: str | None = None) -> list[Job]:
    """Run every job that is queued now, in order, in this process (tests, `run_worker --batch`)."""
    ran = []
    for job_id in Job.objects.filter(status=Job.Status.QUEUED).order_by("created").values_list("pk", flat=True):
        if (job := run(str(job_id), owner=owner)) is not None:
            ran.append(job)
    return ran
