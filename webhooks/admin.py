"""Webhooks in Django admin: the same services as the page and the API (the secret is never shown here)."""

from django.contrib import admin, messages

from attributes.permissions import may_manage_webhooks
from crm_project.paging import CappedPaginator

from . import services
from .models import Delivery, Webhook


@admin.register(Webhook)
class WebhookAdmin(admin.ModelAdmin):
    list_display = ["__str__", "url", "enabled", "health", "last_success", "disabled_reason"]
    fields = ["url", "description", "event_types", "attribute_names", "enabled", "disabled_reason"]
    readonly_fields = ["disabled_reason"]
    actions = ["rotate_secret"]

    def has_module_permission(self, request):
        return may_manage_webhooks(request.user)

    def has_view_permission(self, request, obj=None):
        return may_manage_webhooks(request.user)

    has_add_permission = has_change_permission = has_delete_permission = has_view_permission

    def save_model(self, request, obj, form, change):
        """Through the services: validated, permission-checked; a new endpoint's secret is shown once."""
        data = {name: form.cleaned_data[name] for name in services.UPDATABLE if name in form.cleaned_data}
        if change:
            services.webhook_update(actor=request.user, webhook=obj, **data)
            return
        webhook, secret = services.webhook_create(actor=request.user, **data)
        obj.pk = webhook.pk
        messages.warning(request, f"Signing secret (copy it now, it is not shown again): {secret}")

    def delete_model(self, request, obj):
        services.webhook_delete(actor=request.user, webhook=obj)

    @admin.action(description="Rotate the signing secret (the old one signs for 24 hours more)")
    def rotate_secret(self, request, queryset):
        for webhook in queryset:
            secret = services.webhook_rotate_secret(actor=request.user, webhook=webhook)
            messages.warning(request, f"New secret for {webhook} (shown once): {secret}")


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ["id", "webhook", "event_type", "sequence", "customer_id", "status", "attempts", "next_attempt_at"]
    list_filter = ["status"]
    # One delivery per event and webhook: millions of rows, so count and page at most 10,000 (as the events admin).
    paginator = CappedPaginator
    show_full_result_count = False

    def has_module_permission(self, request):
        return may_manage_webhooks(request.user)

    def has_view_permission(self, request, obj=None):
        return may_manage_webhooks(request.user)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
