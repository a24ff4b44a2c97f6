"""Change event tests: real rows, real HTTP, the same write paths as the history tests."""

from events.models import Event
from events.services import events_sequence


def feed_events(**filters) -> list[Event]:
    """Every event (numbered first, as the feed does), in sequence order."""
    while events_sequence():
        pass
    return list(Event.objects.filter(**filters).order_by("sequence"))


def summary(event: Event) -> tuple:
    return (event.type, event.attribute_name, event.attribute_value, event.previous_name, event.previous_value)
