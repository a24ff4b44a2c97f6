"""The project's URLs, plus stand-ins for the job pages ("jobs:detail", "jobs:list") until the jobs app routes them.

Starting an import redirects to the job's page; tests that start one use this URL conf
(`@pytest.mark.urls(...)`) and check the redirect without following it. Once the project routes a "jobs"
namespace itself, this is the project's URL conf unchanged.
"""

from django.http import HttpResponse
from django.urls import get_resolver, include, path

from crm_project.urls import handler404, handler500  # noqa: F401
from crm_project.urls import urlpatterns as project_urlpatterns

urlpatterns = list(project_urlpatterns)

if "jobs" not in get_resolver("crm_project.urls").namespace_dict:

    def _stand_in(request, job_id=None):
        return HttpResponse(f"job {job_id}", content_type="text/plain")

    job_pages = [path("<uuid:job_id>/", _stand_in, name="detail"), path("", _stand_in, name="list")]
    urlpatterns.append(path("jobs/", include((job_pages, "jobs"))))
