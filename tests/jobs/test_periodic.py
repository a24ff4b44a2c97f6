"""Periodic kinds: `runner.start_periodic` (the workers' sweeper) starts one when it is due, and only then."""

from datetime import timedelta

from django.utils import timezone

from jobs import runner
from jobs.models import Job

from . import handlers  # noqa: F401 (registers tests.periodic)

KIND = "tests.periodic"


def started(**kwargs) -> list[Job]:
    return [job for job in runner.start_periodic(**kwargs) if job.kind == KIND]


def test_starts_a_periodic_kind_when_none_ran(db):
    [job] = started()

    assert job.status == Job.Status.QUEUED and job.created_by is None


def test_does_not_start_one_while_another_is_queued_or_running(db):
    [job] = started()
    assert started() == []

    Job.objects.filter(pk=job.pk).update(status=Job.Status.RUNNING)
    assert started() == []


def test_starts_again_only_an_interval_after_the_last_finished(db):
    [job] = started()
    runner.run(str(job.pk))

    assert started() == []
    assert len(started(now=timezone.now() + timedelta(seconds=61))) == 1


def test_keeps_only_the_latest_finished_runs(db):
    now = timezone.now()
    for i in range(15):
        Job.objects.create(kind=KIND, status=Job.Status.SUCCEEDED, finished=now - timedelta(hours=1, minutes=i))

    started()

    assert Job.objects.filter(kind=KIND).exclude(status__in=Job.ACTIVE).count() == runner.PERIODIC_KEEP
    assert Job.objects.filter(kind=KIND, status=Job.Status.QUEUED).count() == 1


def test_kinds_without_an_interval_are_never_started(db):
    runner.start_periodic()

    assert not Job.objects.filter(kind="tests.count").exists()
