"""`/crm/job/…`, each path with or without a trailing slash (no redirect), like the attribute endpoints."""

from django.urls import re_path

from .api import JobViewSet

# Anything up to the next slash: the view answers a JSON 404 for what is not a UUID.
JOB_ID = r"(?P<job_id>[^/]+)"

urlpatterns = [
    re_path(r"^job/?$", JobViewSet.as_view({"get": "list"}), name="job"),
    re_path(rf"^job/{JOB_ID}/cancel/?$", JobViewSet.as_view({"post": "cancel"}), name="job-cancel"),
    re_path(rf"^job/{JOB_ID}/?$", JobViewSet.as_view({"get": "retrieve"}), name="job-detail"),
]
