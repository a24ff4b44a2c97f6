"""Webhook endpoints and their deliveries: each change event pushed, signed, to every subscribed endpoint."""

import fnmatch
import uuid

from django.conf import settings
from django.db import models


class Webhook(models.Model):
    """An endpoint that receives change events (Standard Webhooks: signed POSTs, at least once).

    `cursor` is the last event sequence the dispatcher has turned into deliveries for it; events before the
    endpoint was created are not sent (a replay sends them on request).
    """

    webhook_id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    url = models.CharField("URL", max_length=500, help_text="https://… (checked by the service, again at delivery)")
    description = models.CharField(max_length=200, blank=True)
    event_types = models.JSONField(default=list, help_text='["attribute.updated", …] or ["*"] for every type.')
    attribute_names = models.JSONField(default=list, blank=True, help_text='Glob patterns ("billing_*"); [] = all.')
    enabled = models.BooleanField(default=True)
    disabled_reason = models.CharField(max_length=300, blank=True, help_text="Why delivery stopped, if it did.")
    # The signing secret is needed in clear to sign (HMAC); it is shown once, never logged or served again.
    secret = models.CharField(max_length=100, editable=False)
    previous_secret = models.CharField(max_length=100, blank=True, editable=False)
    previous_secret_expires = models.DateTimeField(null=True, blank=True, editable=False)
    cursor = models.BigIntegerField(default=0, editable=False)
    failing_since = models.DateTimeField(null=True, blank=True, help_text="First failure since the last success.")
    last_success = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)
    last_modified = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created"]
        default_permissions = ()

    def __str__(self) -> str:
        return self.description or self.url

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("webhooks:detail", args=[self.webhook_id])

    def wants(self, event_type: str, attribute_name: str) -> bool:
        """Whether an event of this type about this name is for this endpoint."""
        if "*" not in self.event_types and event_type not in self.event_types:
            return False
        return not self.attribute_names or any(fnmatch.fnmatchcase(attribute_name, p) for p in self.attribute_names)

    @property
    def health(self) -> str:
        if not self.enabled:
            return "disabled"
        return "failing" if self.failing_since else "healthy"


class Delivery(models.Model):
    """One message for one endpoint (an event, or a test), with its retry state; `attempts` logs every try."""

    class Status(models.TextChoices):
        PENDING = "pending"
        SUCCEEDED = "succeeded"
        FAILED = "failed"  # every retry used, or the endpoint gone (410)

    id = models.BigAutoField(primary_key=True)
    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    event = models.ForeignKey("events.Event", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    message_id = models.UUIDField(help_text="webhook-id: the event id (receivers deduplicate on it).")
    event_type = models.CharField(max_length=32)
    sequence = models.BigIntegerField(null=True, blank=True)
    customer_id = models.BigIntegerField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        default_permissions = ()
        indexes = [
            # The dispatcher's queue: an endpoint's pending deliveries in event order.
            models.Index(
                fields=["webhook", "sequence"],
                name="delivery_pending_idx",
                condition=models.Q(status="pending"),
            ),
            models.Index(fields=["webhook", "-id"], name="delivery_webhook_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.message_id} to {self.webhook_id} ({self.status})"


class Attempt(models.Model):
    """One HTTP request of a delivery: when, the answer's status code (None: no answer), how long, what went wrong."""

    id = models.BigAutoField(primary_key=True)
    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    at = models.DateTimeField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField()
    error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-id"]
        default_permissions = ()

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.status_code or self.error}"
