"""The REST side of jobs: the 202 answer that starts one. The job endpoints (`/crm/job/…`) build on it."""

from rest_framework import status
from rest_framework.response import Response

from .models import Job


def job_url(job: Job) -> str:
    return f"/crm/job/{job.pk}"


def accepted(job: Job) -> Response:
    """`202 Accepted` for a started job: where to follow it, in the body and the `Location` header."""
    url = job_url(job)
    return Response(
        {"job_id": str(job.pk), "status": job.status, "url": url},
        status=status.HTTP_202_ACCEPTED,
        headers={"Location": url},
    )
