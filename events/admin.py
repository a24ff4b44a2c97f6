from django.contrib import admin

from .models import Event


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    """Read-only: events are facts about past writes."""

    list_display = ["sequence", "type", "customer_id", "attribute_name", "occurred_at", "channel", "actor_username"]
    list_filter = ["type", "channel"]
    search_fields = ["attribute_name"]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
