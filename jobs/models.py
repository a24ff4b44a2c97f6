"""A background job: our own record of work that runs outside the request, whatever engine carries it.

The engine (django-tasks with its database backend) only delivers "run job X" to a worker. This table owns
the state a user and the sweeper need: status, progress, the checkpoint a resumed run starts from, the
result, and the lease that says which worker runs it until when. A lost or duplicated engine message
therefore never loses a job or runs it twice: the lease decides.
"""

import uuid

from django.conf import settings
from django.db import models


class Job(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"
        CANCELLED = "cancelled"

    ACTIVE = (Status.QUEUED, Status.RUNNING)

    job_id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=64, help_text="What the job does, e.g. attributes.rename.")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    params = models.JSONField(default=dict, blank=True, help_text="The job's arguments.")
    payload = models.TextField(blank=True, help_text="A large input, e.g. the CSV text of an import.")
    checkpoint = models.JSONField(default=dict, blank=True, help_text="Where a resumed run continues.")
    done = models.BigIntegerField(default=0)
    total = models.BigIntegerField(null=True, blank=True)
    result = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="jobs"
    )
    created = models.DateTimeField(auto_now_add=True)
    started = models.DateTimeField(null=True, blank=True)
    finished = models.DateTimeField(null=True, blank=True)
    cancel_requested = models.BooleanField(default=False)
    # The lease: the worker running the job, until when. Renewed at every committed chunk; a worker whose
    # lease ran out (it died, or stalled) can no longer commit, and the sweeper queues the job again.
    lease_owner = models.CharField(max_length=64, blank=True)
    lease_expires = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0, help_text="Runs started, including resumed ones.")
    queued_at = models.DateTimeField(auto_now_add=True, help_text="When it was last handed to the engine.")
    task_id = models.UUIDField(null=True, blank=True, help_text="The engine's message for the latest hand-over.")
    request_id = models.CharField(max_length=64, blank=True, help_text="The request that started it; its runs log it.")

    class Meta:
        ordering = ["-created"]
        indexes = [
            models.Index(fields=["created_by", "-created"], name="job_owner_created_idx"),
            models.Index(fields=["status", "lease_expires"], name="job_status_lease_idx"),
            models.Index(fields=["kind", "-created"], name="job_kind_created_idx"),  # periodic kinds' runs
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.job_id} ({self.status})"

    @property
    def active(self) -> bool:
        return self.status in self.ACTIVE

    @property
    def percent(self) -> int | None:
        if not self.total:
            return 100 if self.status == self.Status.SUCCEEDED else None
        return min(100, self.done * 100 // self.total)
