"""The project's URLs plus a stand-in for the job page ("jobs:detail", built by the jobs UI) while it is missing,
so the rename paths can redirect and link to it in these tests."""

from django.http import HttpResponse
from django.urls import include, path

from crm_project.urls import urlpatterns as project

urlpatterns = list(project)
if not any(getattr(pattern, "namespace", None) == "jobs" for pattern in project):
    jobs = ([path("<uuid:job_id>/", lambda request, job_id: HttpResponse(str(job_id)), name="detail")], "jobs")
    urlpatterns.append(path("jobs/", include(jobs)))
