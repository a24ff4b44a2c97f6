from django.contrib import admin

from crm_project.paging import CappedPaginator

from .models import ApiToken


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Admins see and revoke every token; new tokens are made with `create_api_token` or the API tokens page."""

    list_display = ["name", "user", "key_hint", "created", "expires", "last_used"]
    list_filter = ["expires"]
    search_fields = ["name", "user__username", "key_hint"]
    readonly_fields = ["key_hint", "created", "last_used"]
    list_select_related = ["user"]
    list_per_page = 50
    paginator = CappedPaginator  # counts at most 10,000 tokens
    show_full_result_count = False

    def has_add_permission(self, request):
        return False
