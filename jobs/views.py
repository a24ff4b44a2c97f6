"""The Jobs pages: the list of recent jobs and a job's page, whose progress part refreshes itself.

One view serves a page and its htmx fragment (django-htmx's `request.htmx`): while a job is active the fragment
asks for itself again every second (`hx-trigger="every 1s"`); a finished job's fragment carries no trigger, so
the polling stops. Without JavaScript the same URLs are plain pages that show the state when loaded.
"""

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST, require_safe

from crm_project.paging import CappedPaginator

from . import engine, services
from .models import Job
from .permissions import sees_all, visible_jobs

PAGE_SIZE = 25


def describe(job: Job) -> Job:
    """Attach what the templates show about the job's kind: its label and its result template."""
    kind = engine.kinds().get(job.kind)
    job.label = kind.label if kind else job.kind
    job.result_template = kind.result_template if kind else ""
    return job


def _result_rows(result) -> list[tuple[str, str]] | None:
    """A flat result (`{"renamed": 12, ...}`) as rows of a definition list; None for anything nested."""
    if isinstance(result, dict) and all(isinstance(v, (str, int, float, bool)) or v is None for v in result.values()):
        return [(str(key).replace("_", " "), "—" if value is None else str(value)) for key, value in result.items()]
    return None


@login_required
@require_safe
def job_list(request):
    """Recent jobs the user may see; the table refreshes itself while any job on the page is active."""
    jobs = visible_jobs(request.user).select_related("created_by")
    page = CappedPaginator(jobs, PAGE_SIZE).get_page(request.GET.get("page"))
    for job in page.object_list:
        describe(job)
    context = {
        "page_obj": page,
        "paginator": page.paginator,
        "is_paginated": page.has_other_pages(),
        "jobs": page.object_list,
        "any_active": any(job.active for job in page.object_list),
        "sees_all": sees_all(request.user),
        "nav": "jobs",
    }
    template = "jobs/_job_table.html" if request.htmx else "jobs/job_list.html"
    return render(request, template, context)


@login_required
@require_safe
def job_detail(request, job_id):
    job = describe(_visible_job(request.user, job_id))
    context = {"job": job, "result_rows": _result_rows(job.result), "nav": "jobs"}
    if job.result is not None and not job.result_template and _result_rows(job.result) is None:
        context["result_json"] = json.dumps(job.result, indent=2, ensure_ascii=False, sort_keys=True)
    template = "jobs/_job_status.html" if request.htmx else "jobs/job_detail.html"
    return render(request, template, context)


@login_required
@require_POST
def job_cancel(request, job_id):
    """Cancel, then back to where the button was (the list or the job's page)."""
    job = _visible_job(request.user, job_id)
    try:
        job = services.job_cancel(job=job, actor=request.user)
    except services.AlreadyFinished as finished:
        messages.warning(request, str(finished))
    else:
        if job.status == Job.Status.CANCELLED:
            messages.success(request, "The job was cancelled before it started.")
        else:
            messages.success(request, "Cancelling: the job stops after the chunk it is working on.")
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        target = ""
    return redirect(target) if target else redirect("jobs:detail", job.pk)


def _visible_job(user, job_id) -> Job:
    job = visible_jobs(user).select_related("created_by").filter(pk=job_id).first()
    if job is None:
        raise Http404("No such job.")
    return job
