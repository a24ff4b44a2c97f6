"""The job engine's own rules, with handlers defined here: transactional start, lease, checkpoint, cancel,
shutdown and the sweeper. The attribute jobs (rename, import) and the worker processes are tested elsewhere."""

import threading
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from jobs import engine, runner
from jobs.models import Job
from tests.jobs.handlers import CALLS

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _reset():
    CALLS.clear()
    runner.stopping.clear()
    yield
    runner.stopping.clear()


def test_a_started_job_is_queued_with_its_engine_message_and_runs_to_success():
    job = engine.start("tests.count", params={"to": 5})
    assert job.status == Job.Status.QUEUED
    assert DBTaskResult.objects.filter(pk=job.task_id, status="READY").exists()
    [ran] = runner.run_queued()
    assert (ran.status, ran.done, ran.total) == (Job.Status.SUCCEEDED, 5, 5)
    assert ran.result == {"counted": 5, "chunks": [2, 4, 5]}
    assert ran.started and ran.finished and not ran.lease_owner


def test_a_job_started_in_a_rolled_back_transaction_leaves_nothing():
    with transaction.atomic():
        engine.start("tests.count", params={"to": 5})
        transaction.set_rollback(True)
    assert not Job.objects.exists()
    assert not DBTaskResult.objects.exists()


def test_an_unknown_kind_is_refused():
    with pytest.raises(ValueError):
        engine.start("tests.nothing")


def test_a_job_runs_once_even_when_its_message_is_delivered_twice():
    job = engine.start("tests.count", params={"to": 2})
    engine.deliver(job.pk)
    assert runner.run(str(job.pk)) is not None
    assert runner.run(str(job.pk)) is None
    assert CALLS == [f"{job.pk}:2"]


def test_a_held_lease_keeps_a_second_worker_out():
    job = engine.start("tests.count", params={"to": 2})
    assert runner.claim(str(job.pk), "first") is not None
    assert runner.claim(str(job.pk), "second") is None
    Job.objects.filter(pk=job.pk).update(lease_expires=timezone.now() - timedelta(seconds=1))
    assert runner.claim(str(job.pk), "second").lease_owner == "second"


def test_refusal_and_crash_fail_the_job_with_a_reason():
    refused = engine.start("tests.refuse")
    crashed = engine.start("tests.crash")
    runner.run_queued()
    refused.refresh_from_db()
    crashed.refresh_from_db()
    assert (refused.status, refused.error, refused.result) == (
        Job.Status.FAILED,
        "Nothing to do here.",
        {"why": "test"},
    )
    assert (crashed.status, crashed.error) == (Job.Status.FAILED, "RuntimeError: boom")


def test_cancel_before_it_runs_and_cancel_while_it_runs():
    queued = engine.start("tests.count", params={"to": 4})
    assert engine.cancel(queued).status == Job.Status.CANCELLED
    running = engine.start("tests.count", params={"to": 10, "hook": "cancel"})
    runner.run_queued()
    running.refresh_from_db()
    assert running.status == Job.Status.CANCELLED
    assert (running.done, running.result) == (4, {"counted": 4, "chunks": [2, 4]})  # it says what was done
    assert not [call for call in CALLS if call.startswith(str(queued.pk))]


def test_shutdown_returns_the_job_to_the_queue_and_the_next_run_resumes_from_the_checkpoint():
    job = engine.start("tests.count", params={"to": 8, "hook": "shutdown"})
    runner.run_queued()
    job.refresh_from_db()
    assert (job.status, job.done, job.checkpoint) == (Job.Status.QUEUED, 4, {"at": 4})
    assert DBTaskResult.objects.filter(pk=job.task_id, status="READY").exists()  # handed to the engine again
    runner.stopping.clear()
    Job.objects.filter(pk=job.pk).update(params={"to": 8})
    runner.run_queued()
    job.refresh_from_db()
    assert (job.status, job.done, job.attempts) == (Job.Status.SUCCEEDED, 8, 2)
    assert CALLS == [f"{job.pk}:{n}" for n in (2, 4, 6, 8)]  # no chunk twice


def test_a_worker_that_lost_its_lease_cannot_commit_any_more():
    job = engine.start("tests.count", params={"to": 6, "hook": "steal"})
    runner.run_queued()
    job.refresh_from_db()
    assert job.done == 2 and job.status == Job.Status.RUNNING and job.lease_owner == "someone-else"


def test_the_sweeper_queues_again_what_a_dead_worker_left_and_lost_messages():
    dead = engine.start("tests.count", params={"to": 2})
    runner.claim(str(dead.pk), "dead-worker")
    lost = engine.start("tests.count", params={"to": 2})
    DBTaskResult.objects.filter(pk=lost.task_id).delete()  # the engine lost its message
    fresh = engine.start("tests.count", params={"to": 2})
    assert runner.sweep(stale_after=30) == 0  # the lease still holds; the lost message is not stale yet
    Job.objects.filter(pk=dead.pk).update(lease_expires=timezone.now() - timedelta(seconds=1))
    Job.objects.filter(pk=lost.pk).update(queued_at=timezone.now() - timedelta(seconds=60))
    Job.objects.filter(pk=fresh.pk).update(queued_at=timezone.now() - timedelta(seconds=60))  # its message waits
    assert runner.sweep(stale_after=30) == 2
    runner.run_queued()
    assert set(Job.objects.values_list("status", flat=True)) == {Job.Status.SUCCEEDED}


def test_run_here_reports_progress_after_each_chunk_and_returns_the_ended_job():
    job = engine.start("tests.count", params={"to": 5})
    seen = []

    ended = runner.run_here(job, progress=lambda done, total: seen.append((done, total)))

    assert ended.status == Job.Status.SUCCEEDED and ended.result["counted"] == 5
    assert seen == [(0, 5), (2, 5), (4, 5), (5, 5)]  # the total once known, then every committed chunk


@pytest.mark.django_db(transaction=True)
def test_run_here_follows_a_job_another_worker_holds_until_it_ends():
    job = engine.start("tests.count", params={"to": 2})
    assert runner.claim(str(job.pk), "other-worker") is not None

    def other_worker_finishes():
        Job.objects.filter(pk=job.pk).update(status=Job.Status.SUCCEEDED, done=2, total=2, lease_owner="")
        connection.close()  # this thread's own connection

    timer = threading.Timer(0.3, other_worker_finishes)
    timer.start()
    seen = []
    ended = runner.run_here(job, progress=lambda done, total: seen.append(done), poll_seconds=0.01)
    timer.join()

    assert ended.status == Job.Status.SUCCEEDED  # it waited for the other worker instead of returning at once
    assert seen and seen[0] == 0  # progress read from the Job row while following
