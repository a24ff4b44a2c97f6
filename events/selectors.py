"""Reading the change feed."""

from django.db.models import QuerySet

from .models import Event


def events_after(after: int) -> QuerySet[Event]:
    """Numbered events after sequence `after`, in sequence order (run `services.events_sequence` first)."""
    return Event.objects.filter(sequence__isnull=False, sequence__gt=after).order_by("sequence")
