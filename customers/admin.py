from django.contrib import admin

from crm_project.paging import CappedPaginator

from .models import Customer


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = [
        "customer_id",
        "customer_name",
        "customer_account_type",
        "customer_status",
        "email",
        "last_modified",
    ]
    list_display_links = ["customer_id", "customer_name"]
    list_filter = ["customer_status", "customer_account_type"]
    search_fields = ["=customer_id", "customer_name", "email", "phone"]
    readonly_fields = ["created", "last_modified"]
    list_per_page = 50
    paginator = CappedPaginator  # counts (and pages through) at most 10,000 customers
    show_full_result_count = False
