"""The REST side of jobs: the 202 answer that starts one, and `/crm/job/…` to follow, list and cancel them.

Visibility is jobs.permissions': another user's job is a 404, as is an id that is not a UUID.
"""

import re
import uuid

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers, status, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from crm_project.api import ERRORS, HeaderLimitOffsetPagination, SpecDateTimeField

from . import services
from .models import Job
from .permissions import visible_jobs

UUID_PATTERN = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE)
LIST_PARAMS = {"status", "kind", "limit", "offset", "format"}


class JobAcceptedSerializer(serializers.Serializer):
    """The body of `accepted()`: the 202 of every endpoint that starts a job."""

    job_id = serializers.UUIDField()
    status = serializers.ChoiceField(choices=[Job.Status.QUEUED])
    url = serializers.CharField(help_text="Where to follow the job: GET it for progress and result (also `Location`).")


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


JOB_ID = OpenApiParameter("job_id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="The job's id.")
NOT_FOUND = {404: OpenApiResponse(description="No such job, or not one of yours.")}


class ProgressSerializer(serializers.Serializer):
    done = serializers.IntegerField(help_text="Items done so far; never goes back.")
    total = serializers.IntegerField(allow_null=True, help_text="Items in all; null until the job knows.")


class JobSerializer(serializers.Serializer):
    job_id = serializers.UUIDField()
    kind = serializers.CharField(help_text="What the job does, e.g. `attributes.rename`.")
    status = serializers.ChoiceField(choices=Job.Status.choices)
    progress = serializers.SerializerMethodField()
    result = serializers.JSONField(
        allow_null=True, help_text="What the job did (so far, for a cancelled one); its shape depends on `kind`."
    )
    error = serializers.CharField(allow_null=True, help_text="Why it failed; null unless it failed.")
    created = SpecDateTimeField()
    started = SpecDateTimeField(allow_null=True, help_text="Null until a worker starts it.")
    finished = SpecDateTimeField(allow_null=True, help_text="Null while queued or running.")

    @staticmethod
    @extend_schema_field(ProgressSerializer)
    def get_progress(job: Job) -> dict:
        return {"done": job.done, "total": job.total}

    def to_representation(self, job: Job) -> dict:
        data = super().to_representation(job)
        data["error"] = job.error or None
        return data


class JobViewSet(viewsets.GenericViewSet):
    """The caller's jobs (everyone's with view_all_jobs): list, follow, cancel."""

    serializer_class = JobSerializer
    permission_classes = [IsAuthenticated]  # which jobs: jobs.permissions, per object
    pagination_class = HeaderLimitOffsetPagination

    def get_queryset(self):
        return visible_jobs(self.request.user)

    def get_object(self) -> Job:
        raw = self.kwargs["job_id"]
        if not UUID_PATTERN.fullmatch(raw):
            raise Http404("No such job.")
        job = self.get_queryset().filter(pk=uuid.UUID(raw)).first()
        if job is None:
            raise Http404("No such job.")
        return job

    def handle_exception(self, exc):
        if isinstance(exc, services.AlreadyFinished):
            return Response({"detail": str(exc), "job": JobSerializer(exc.job).data}, status=status.HTTP_409_CONFLICT)
        return super().handle_exception(exc)

    @extend_schema(
        operation_id="job_list",
        summary="List your jobs",
        description="Any signed-in user: the jobs they started, newest first (every user's with the "
        '`view_all_jobs` permission), in pages of at most 1000 (`Link: <…>; rel="next"`, `X-Total-Count`). '
        "Unknown parameters are a 400.",
        parameters=[
            OpenApiParameter("status", str, enum=Job.Status.values, description="Only jobs in this status."),
            OpenApiParameter("kind", OpenApiTypes.STR, description="Only jobs of this kind, e.g. `attributes.rename`."),
            OpenApiParameter("limit", int, description="Page size, 1 to 1000 (default 1000)."),
            OpenApiParameter("offset", int, description="Number of jobs to skip."),
        ],
        responses={200: JobSerializer(many=True), **ERRORS},
    )
    def list(self, request, *args, **kwargs):
        jobs = self.get_queryset()
        params = request.query_params
        errors = {key: [f"Unknown filter parameter “{key}”."] for key in sorted(set(params) - LIST_PARAMS)}
        for key in ("status", "kind") & params.keys():
            values = params.getlist(key)
            if len(values) > 1:
                errors[key] = ["Give this parameter once."]
            elif key == "status" and values[0] not in Job.Status.values:
                errors[key] = [f"Must be one of: {', '.join(Job.Status.values)}."]
            elif key == "kind" and not 0 < len(values[0]) <= 64:
                errors[key] = ["Must be 1 to 64 characters."]
            else:
                jobs = jobs.filter(**{key: values[0]})
        if errors:
            raise ValidationError(errors)
        page = self.paginate_queryset(jobs)
        return self.get_paginated_response(JobSerializer(page, many=True).data)

    @extend_schema(
        operation_id="job_retrieve",
        summary="Follow a job",
        description="Its status, progress, and once it has ended its result or error. Your own jobs, or anyone's "
        "with `view_all_jobs`; any other id is a 404.",
        parameters=[JOB_ID],
        responses={200: JobSerializer, **ERRORS, **NOT_FOUND},
    )
    def retrieve(self, request, *args, **kwargs):
        return Response(JobSerializer(self.get_object()).data)

    @extend_schema(
        operation_id="job_cancel",
        summary="Cancel a job",
        description="Who may see the job may cancel it. A queued job is cancelled at once; a running one stops "
        "at its next chunk boundary (follow the job: its `status` becomes `cancelled` and `result` says what was "
        "done). 409 when the job has already ended.",
        parameters=[JOB_ID],
        request=None,
        responses={
            200: OpenApiResponse(JobSerializer, description="Cancelled, or the cancel is on its way to the worker."),
            **ERRORS,
            **NOT_FOUND,
            409: OpenApiResponse(description="The job has already ended; nothing changed."),
        },
    )
    def cancel(self, request, *args, **kwargs):
        job = services.job_cancel(job=self.get_object(), actor=request.user)
        return Response(JobSerializer(job).data)
