"""Start and cancel jobs, and the registry of what each kind of job runs: the module other apps call.

    from jobs import engine

    @engine.handler("attributes.rename")
    def rename(ctx: engine.JobContext) -> dict: ...

    job = engine.start("attributes.rename", params={...}, actor=request.user)

`start` joins the caller's transaction: the Job row and the engine's message are written with the data that
asked for them, so a rolled-back request starts nothing. A handler works in chunks, each one transaction in
`with ctx.chunk():` that ends with `ctx.commit(...)` (progress and checkpoint, in the same transaction as the
chunk's writes), and calls `ctx.check()` between chunks, where a cancel or a worker shutdown stops it.
"""

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from crm_project import requestid

from .models import Job

logger = logging.getLogger("jobs")
SQLITE_PAUSE_SECONDS = 0.1

Handler = Callable[["JobContext"], Any]


@dataclass(frozen=True)
class Kind:
    """A kind of job: what runs it, what users call it, and the template that shows its result."""

    name: str
    run: Handler
    label: str
    result_template: str = ""  # rendered with `job` on the job's page once it has a result
    every: float | None = None  # periodic: workers start one this many seconds after the last one finished
    when: Callable[[], bool] | None = None  # periodic: started only while this says there is work for it


_kinds: dict[str, Kind] = {}


class JobFailed(Exception):
    """A handler's clear refusal (conflicts, a bad file): the job fails with this message and `result`."""

    def __init__(self, message: str, result: Any = None):
        super().__init__(message)
        self.result = result


class Cancelled(Exception):
    """Raised by `check()` when the job was cancelled: the runner records what was done."""


class Interrupted(Exception):
    """Raised by `check()` when the worker is shutting down: the job goes back to the queue, resumable."""


class LeaseLost(Exception):
    """Another worker took the job over (this one stalled past its lease): stop, write nothing more."""


def handler(
    kind: str,
    *,
    label: str = "",
    result_template: str = "",
    every: float | None = None,
    when: Callable[[], bool] | None = None,
) -> Callable[[Handler], Handler]:
    """Register the function that runs jobs of `kind` (imported from an AppConfig.ready(), so workers have it).

    With `every` (seconds) the kind is periodic: the workers' sweeper starts one (no actor, no params) when none
    is queued or running and the last one finished at least `every` seconds ago (`runner.start_periodic`), and
    `when()` (if given) is true: a cheap query saying there is something to do (webhook delivery: an enabled
    endpoint), so idle kinds fill no table.
    """

    def register(function: Handler) -> Handler:
        _kinds[kind] = Kind(kind, function, label or kind, result_template, every, when)
        return function

    return register


def kind(name: str) -> Kind:
    return _kinds[name]


def kinds() -> dict[str, Kind]:
    return dict(_kinds)


def lease_seconds() -> float:
    return settings.JOBS_LEASE_SECONDS


def start(kind: str, *, params: dict | None = None, payload: str = "", actor=None, total: int | None = None) -> Job:
    """Record a job and hand it to the engine, in the caller's transaction."""
    if kind not in _kinds:
        raise ValueError(f"No job handler for {kind!r}.")
    with transaction.atomic():
        job = Job(
            kind=kind, params=params or {}, payload=payload, created_by=actor, total=total,
            request_id=requestid.current() or requestid.new(),
        )  # fmt: skip
        job.task_id = _enqueue(job.pk)
        job.save(force_insert=True)
    return job


def _enqueue(job_id) -> str:
    from .tasks import run_job  # the task module imports this one

    return run_job.enqueue(str(job_id)).id


def deliver(job_id) -> None:
    """Hand a queued job to the engine again (the sweeper, a shutdown): a worker will pick it up."""
    Job.objects.filter(pk=job_id).update(task_id=_enqueue(job_id), queued_at=timezone.now())


def cancel(job: Job) -> Job:
    """Cancel a job: a queued one at once, a running one at its next chunk boundary. Finished jobs stay as they are."""
    now = timezone.now()
    if Job.objects.filter(pk=job.pk, status=Job.Status.QUEUED).update(
        status=Job.Status.CANCELLED, cancel_requested=True, finished=now, lease_owner="", lease_expires=None
    ):
        logger.info("job %s cancelled before it ran", job.pk)
    else:
        Job.objects.filter(pk=job.pk, status=Job.Status.RUNNING).update(cancel_requested=True)
    job.refresh_from_db()
    return job


class JobContext:
    """What a handler gets: the job's inputs and checkpoint, chunks that commit progress, and stop checks."""

    def __init__(
        self,
        job: Job,
        *,
        worker_id: str,
        should_stop: Callable[[], bool],
        progress: Callable[[int, int | None], None] | None = None,
    ):
        self.job = job
        self.worker_id = worker_id
        self._should_stop = should_stop
        self._progress = progress  # called with (done, total) once a chunk's progress is committed

    @property
    def params(self) -> dict:
        return self.job.params

    @property
    def payload(self) -> str:
        return self.job.payload

    @property
    def checkpoint(self) -> dict:
        return self.job.checkpoint

    @contextmanager
    def chunk(self) -> Iterator[None]:
        """One bounded transaction of the job's work; end it with `commit`."""
        with transaction.atomic():
            yield
        if self._progress is not None:  # the chunk and its progress are committed
            self._progress(self.job.done, self.job.total)

    def commit(self, *, done: int, checkpoint: dict, total: int | None = None, result: Any = None) -> None:
        """Record progress with the chunk's writes, renewing the lease; raises LeaseLost (rolling the chunk back)
        if another worker holds the job now. `result` is what the job has done so far (shown if it is cancelled)."""
        fields = {
            "done": done,
            "checkpoint": checkpoint,
            "lease_expires": timezone.now() + timedelta(seconds=lease_seconds()),
        }
        if total is not None:
            fields["total"] = total
        if result is not None:
            fields["result"] = result
        updated = Job.objects.filter(pk=self.job.pk, status=Job.Status.RUNNING, lease_owner=self.worker_id).update(
            **fields
        )
        if not updated:
            raise LeaseLost(f"job {self.job.pk} is no longer leased to {self.worker_id}")
        for name, value in fields.items():
            setattr(self.job, name, value)

    def set_total(self, total: int) -> None:
        """Say how much work there is (before the first chunk), so readers see a progress bar at once."""
        Job.objects.filter(pk=self.job.pk, lease_owner=self.worker_id).update(total=total)
        self.job.total = total
        if self._progress is not None:
            self._progress(self.job.done, total)

    def check(self) -> None:
        """Between chunks: stop if the job was cancelled or the worker is shutting down.

        On SQLite, whose one write lock a busy writer waits for by polling, it first pauses a moment so the web
        requests' writes (a cancel among them) get the lock between two chunks instead of waiting for the end.
        """
        if connection.vendor == "sqlite":
            time.sleep(SQLITE_PAUSE_SECONDS)
        if self._should_stop():
            raise Interrupted()
        if Job.objects.filter(pk=self.job.pk, cancel_requested=True).exists():
            raise Cancelled()
