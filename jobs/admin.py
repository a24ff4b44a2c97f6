from django.contrib import admin
from django.template.defaultfilters import filesizeformat

from crm_project.paging import CappedPaginator

from . import engine
from .models import Job

PAYLOAD_SHOWN = 2000


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
    # An import's payload is its whole CSV (up to 5 MB): the page shows its start, and lists never read it.
    exclude = ["payload"]
    readonly_fields = ["payload_start"]

    def get_queryset(self, request):
        return super().get_queryset(request).defer("payload")

    @admin.display(description="payload")
    def payload_start(self, job: Job) -> str:
        payload = job.payload
        if len(payload) <= PAYLOAD_SHOWN:
            return payload
        size = filesizeformat(len(payload))
        return f"{payload[:PAYLOAD_SHOWN]}\n… (the first {PAYLOAD_SHOWN:,} characters of {size})"

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
