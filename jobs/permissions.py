"""Who may see and cancel which job, for the API, the pages and admin alike.

A user sees (and may cancel) the jobs they started; a user holding settings.JOBS_VIEW_ALL_PERMISSION
(`attributes.view_all_jobs`) sees and cancels everyone's. Anyone else's job does not exist for them (a 404,
never a 403 that would say it does).
"""

from django.conf import settings
from django.db.models import QuerySet

from .models import Job


def sees_all(user) -> bool:
    return bool(user and user.is_authenticated and user.has_perm(settings.JOBS_VIEW_ALL_PERMISSION))


def visible_jobs(user) -> QuerySet[Job]:
    """The jobs `user` may see, newest first (none for an anonymous user)."""
    jobs = Job.objects.order_by("-created", "-pk")
    if sees_all(user):
        return jobs
    if not (user and user.is_authenticated):
        return jobs.none()
    return jobs.filter(created_by=user)


def may_see(user, job: Job) -> bool:
    if not (user and user.is_authenticated):
        return False
    return job.created_by_id == user.pk or sees_all(user)


def may_cancel(user, job: Job) -> bool:
    """The same users who may see a job may cancel it."""
    return may_see(user, job)
