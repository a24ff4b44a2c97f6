"""Every write to a job that users make (the API, the pages and admin call these; workers use the engine)."""

from django.http import Http404

from . import engine
from .models import Job
from .permissions import may_cancel


class AlreadyFinished(Exception):
    """The job ended before the cancel reached it: nothing to stop (the API answers 409)."""

    def __init__(self, job: Job):
        super().__init__(f"The job has already finished ({job.status}); there is nothing to cancel.")
        self.job = job


def job_cancel(*, job: Job, actor) -> Job:
    """Cancel `job` for `actor`: a queued job at once, a running one at its next chunk boundary.

    Raises Http404 when the actor may not see the job, AlreadyFinished when it has ended (also when it ended
    while this cancel was on its way)."""
    if not may_cancel(actor, job):
        raise Http404("No such job.")
    job.refresh_from_db()
    if not job.active:
        raise AlreadyFinished(job)
    job = engine.cancel(job)
    if job.status in (Job.Status.SUCCEEDED, Job.Status.FAILED):
        raise AlreadyFinished(job)
    return job
