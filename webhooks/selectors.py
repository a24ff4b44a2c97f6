"""Reads of webhooks that more than one place needs (the page, the API)."""

from django.db.models import Prefetch, QuerySet

from .models import Attempt, Delivery, Webhook


def deliveries(webhook: Webhook) -> QuerySet[Delivery]:
    """The endpoint's deliveries, newest first, each with its attempts (two queries a page)."""
    return (
        Delivery.objects.filter(webhook=webhook)
        .order_by("-id")
        .prefetch_related(Prefetch("attempt_log", queryset=Attempt.objects.order_by("-id")))
    )


def delivery_with_attempts(delivery_id: int) -> Delivery:
    return Delivery.objects.prefetch_related("attempt_log").get(pk=delivery_id)
