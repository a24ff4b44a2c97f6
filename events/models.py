"""The change events outbox: one row per changed attribute, written in the transaction of the change.

This app knows nothing of attributes: the attributes' history recorder (attributes/history.py) hands it plain
values. A row is inserted with `sequence` empty; the sequencer (`services.events_sequence`) numbers committed
rows afterwards, so the numbers follow the order in which events became visible (see its docstring).
"""

import uuid

from django.db import models


class Event(models.Model):
    """One change of one attribute (created, updated, renamed or deleted), as integrations read it."""

    class Type(models.TextChoices):
        CREATED = "attribute.created"
        UPDATED = "attribute.updated"
        DELETED = "attribute.deleted"
        RENAMED = "attribute.renamed"

    # Insertion order only (allocated before commit, so not a reading order); `sequence` is the reading order.
    id = models.BigAutoField(primary_key=True)
    sequence = models.BigIntegerField(null=True, blank=True, unique=True, help_text="Numbered after commit.")
    event_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    type = models.CharField(max_length=32, choices=Type.choices)
    occurred_at = models.DateTimeField()
    customer_id = models.BigIntegerField(help_text="Plain id: events outlive their customer.")
    attribute_id = models.BigIntegerField()
    attribute_name = models.CharField(max_length=150)
    attribute_value = models.CharField(max_length=150)
    previous_name = models.CharField(max_length=150, blank=True)
    previous_value = models.CharField(max_length=150, blank=True)
    actor_username = models.CharField(max_length=150, blank=True)
    channel = models.CharField(max_length=20, blank=True)
    token_name = models.CharField(max_length=100, blank=True)
    batch_id = models.UUIDField(null=True, blank=True, help_text="The bulk request or job the change came from.")

    class Meta:
        ordering = ["sequence"]
        default_permissions = ()
        indexes = [
            # The sequencer's work list: only rows still waiting for a number are in it, so it stays tiny.
            models.Index(fields=["id"], name="event_unsequenced_idx", condition=models.Q(sequence__isnull=True)),
            models.Index(fields=["customer_id", "sequence"], name="event_customer_sequence_idx"),
            models.Index(fields=["occurred_at"], name="event_occurred_idx"),  # pruning
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.attribute_name} (customer {self.customer_id}, #{self.sequence})"

    def as_dict(self) -> dict:
        """The event as the feed and webhooks publish it. A sensitive value (the attributes app's
        `sensitive.mask_records` sets `sensitive` and blanks the values first) is published as null, with
        `"sensitive": true`, to every reader and subscriber."""
        data = {
            "event_id": str(self.event_id),
            "type": self.type,
            "sequence": self.sequence,
            "occurred_at": self.occurred_at.isoformat(),
            "customer_id": self.customer_id,
            "data": {
                "attribute_id": self.attribute_id,
                "attribute_name": self.attribute_name,
                "attribute_value": self.attribute_value,
                "previous_name": self.previous_name,
                "previous_value": self.previous_value,
            },
            "actor": {"username": self.actor_username, "channel": self.channel, "token_name": self.token_name},
            "batch_id": str(self.batch_id) if self.batch_id else None,
        }
        if getattr(self, "sensitive", False):
            data["data"]["sensitive"] = True
        return data


class Sequencer(models.Model):
    """The one row (pk 1) holding the last sequence number handed out: numbers never go back, even when every
    event has been pruned. Its row lock is what makes one sequencer run at a time on PostgreSQL."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last = models.BigIntegerField(default=0)

    class Meta:
        default_permissions = ()

    def __str__(self) -> str:
        return f"last sequence {self.last}"
