"""The Webhooks page: endpoints with their health, create (secret shown once), deliveries log, retry, test."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from attributes.permissions import require_webhooks

from . import selectors, services
from .forms import WebhookForm
from .models import Delivery, Webhook

DELIVERIES_SHOWN = 50


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def webhook_list(request):
    require_webhooks(request.user)
    form = WebhookForm(request.POST or None)
    new_secret = None
    if request.method == "POST" and form.is_valid():
        try:
            _, new_secret = services.webhook_create(actor=request.user, **form.cleaned_data)
            form = WebhookForm()
        except ValidationError as error:
            for field, errors in error.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
    webhooks = Webhook.objects.order_by("created")
    context = {"webhooks": webhooks, "form": form, "new_secret": new_secret, "nav": "webhooks"}
    return render(request, "webhooks/webhook_list.html", context, status=400 if form.errors else 200)


def _webhook(request, webhook_id) -> Webhook:
    require_webhooks(request.user)
    return get_object_or_404(Webhook, pk=webhook_id)


@login_required
@require_http_methods(["GET", "HEAD"])
def webhook_detail(request, webhook_id, new_secret: str | None = None):
    webhook = _webhook(request, webhook_id)
    deliveries = selectors.deliveries(webhook)[:DELIVERIES_SHOWN]
    context = {"webhook": webhook, "deliveries": deliveries, "new_secret": new_secret, "nav": "webhooks"}
    return render(request, "webhooks/webhook_detail.html", context)


@login_required
@require_POST
def webhook_action(request, webhook_id, action: str):
    """test, rotate (renders the new secret once), enable, disable, delete; then back to the page."""
    webhook = _webhook(request, webhook_id)
    if action == "test":
        delivery = services.webhook_test(actor=request.user, webhook=webhook)
        attempt = delivery.attempt_log.first()
        result = attempt.status_code or attempt.error
        level = messages.SUCCESS if delivery.status == Delivery.Status.SUCCEEDED else messages.ERROR
        messages.add_message(request, level, f"Test message sent: {result}.")
    elif action == "rotate":
        secret = services.webhook_rotate_secret(actor=request.user, webhook=webhook)
        webhook.refresh_from_db()
        deliveries = selectors.deliveries(webhook)[:DELIVERIES_SHOWN]
        context = {"webhook": webhook, "deliveries": deliveries, "new_secret": secret, "nav": "webhooks"}
        return render(request, "webhooks/webhook_detail.html", context)
    elif action in ("enable", "disable"):
        services.webhook_update(actor=request.user, webhook=webhook, enabled=action == "enable")
        messages.success(request, f"Webhook {action}d.")
    elif action == "delete":
        services.webhook_delete(actor=request.user, webhook=webhook)
        messages.success(request, f"Webhook {webhook} deleted.")
        return redirect("webhooks:list")
    return redirect("webhooks:detail", webhook_id=webhook.pk)


@login_required
@require_POST
def delivery_retry(request, webhook_id, delivery_id: int):
    webhook = _webhook(request, webhook_id)
    delivery = get_object_or_404(Delivery, webhook=webhook, pk=delivery_id)
    try:
        services.delivery_retry(actor=request.user, delivery=delivery)
        messages.success(request, "The delivery will be sent again shortly.")
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect("webhooks:detail", webhook_id=webhook.pk)
