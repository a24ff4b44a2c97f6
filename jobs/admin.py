from django.contrib import admin

from crm_project.paging import CappedPaginator

from . import engine
from .models import Job


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    """Jobs, read-only: a job changes only through its worker and a cancel (the Jobs page or the API)."""

    list_display = ["kind_label", "status", "progress", "created_by", "created"]
    list_filter = ["status", "kind"]
    search_fields = ["job_id", "kind", "created_by__username"]
    list_select_related = ["created_by"]
    date_hierarchy = "created"
    list_per_page = 50
    paginator = CappedPaginator  # counts at most 10,000 jobs
    show_full_result_count = False

    @admin.display(description="kind", ordering="kind")
    def kind_label(self, job: Job) -> str:
        kind = engine.kinds().get(job.kind)
        return kind.label if kind else job.kind

    @admin.display(description="done/total")
    def progress(self, job: Job) -> str:
        return f"{job.done}/{job.total if job.total is not None else '?'}"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
