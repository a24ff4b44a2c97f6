"""Formatting shared by every template."""

from django import template
from django.utils import timezone

register = template.Library()


@register.filter
def timestamp(value) -> str:
    """The specification's timestamp, "2025-01-04 10:30:00", in the configured time zone.

    Same output as |date:"Y-m-d H:i:s", several times faster (the date filter interprets its format string
    character by character; a 200-row Attributes table spent a quarter of its render time there).
    """
    if not value:
        return ""
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S")
