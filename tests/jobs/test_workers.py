"""Real `run_worker` processes: kill -9 mid-job, SIGTERM mid-job, and two workers sharing the queue.

Each committed chunk appends its position to the job's result in the same transaction, so a chunk applied
twice (or lost) shows in the final result.
"""

import pytest

from jobs import engine
from jobs.models import Job
from tests.jobs import handlers  # noqa: F401 (registers the job kinds used here)
from tests.workers import wait_for

pytestmark = pytest.mark.django_db(transaction=True)
EXTRA = {"JOBS_EXTRA_MODULES": "tests.jobs.handlers"}
EVERY_CHUNK = list(range(2, 41, 2))


def _job(pk) -> Job:
    return Job.objects.get(pk=pk)


def _progress_never_goes_back(pk, until_status, timeout=90):
    """Poll the job as a reader would until it reaches `until_status`; the done counts seen never decrease."""
    seen = []

    def reached():
        job = _job(pk)
        seen.append(job.done)
        return job if job.status == until_status else None

    job = wait_for(reached, timeout=timeout, message=f"job {until_status}")
    assert seen == sorted(seen), seen
    return job


def test_a_job_killed_with_its_worker_is_finished_by_the_next_one_exactly(workers):
    job = engine.start("tests.count", params={"to": 40, "sleep": 0.15})
    first = workers.start("first", **EXTRA)
    wait_for(lambda: 6 <= _job(job.pk).done <= 30, message="the job to be half done")
    first.kill()
    assert _job(job.pk).status == Job.Status.RUNNING  # left with its lease, as a dead machine leaves it
    workers.start("second", **EXTRA)
    done = _progress_never_goes_back(job.pk, Job.Status.SUCCEEDED)
    assert done.result["chunks"] == EVERY_CHUNK, workers.logs()
    assert (done.done, done.attempts) == (40, 2)


def test_sigterm_checkpoints_the_job_and_exits_then_it_resumes(workers):
    job = engine.start("tests.count", params={"to": 40, "sleep": 0.15})
    first = workers.start("first", **EXTRA)
    wait_for(lambda: _job(job.pk).done >= 6, message="the job to be running")
    assert first.stop() == 0
    stopped = _job(job.pk)
    assert stopped.status == Job.Status.QUEUED and 6 <= stopped.done < 40, workers.logs()
    workers.start("second", **EXTRA)
    done = _progress_never_goes_back(job.pk, Job.Status.SUCCEEDED)
    assert done.result["chunks"] == EVERY_CHUNK


def test_two_workers_share_the_queue_and_never_run_one_job_twice(workers):
    jobs = [engine.start("tests.count", params={"to": 10, "sleep": 0.05}) for _ in range(6)]
    workers.start("a", **EXTRA)
    workers.start("b", **EXTRA)
    wait_for(lambda: all(_job(j.pk).status == Job.Status.SUCCEEDED for j in jobs), message="all jobs done")
    for job in jobs:
        finished = _job(job.pk)
        assert (finished.attempts, finished.result["chunks"]) == (1, [2, 4, 6, 8, 10]), workers.logs()
    owners = {line.split()[0] for line in workers.logs().splitlines() if "started, attempt" in line}
    assert owners  # the workers logged their runs


def test_cancel_reaches_a_job_running_in_a_worker(workers):
    job = engine.start("tests.count", params={"to": 40, "sleep": 0.15})
    workers.start("first", **EXTRA)
    wait_for(lambda: _job(job.pk).done >= 4, message="the job to be running")
    engine.cancel(_job(job.pk))
    cancelled = wait_for(lambda: (j := _job(job.pk)).status == Job.Status.CANCELLED and j, timeout=30, message="cancel")
    assert 4 <= cancelled.done < 40
    assert cancelled.result["chunks"] == EVERY_CHUNK[: cancelled.done // 2]
