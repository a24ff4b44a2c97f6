from django.contrib import admin
from django.db.models import Max, Q

from attributes.history import CHANNELS
from crm_project.paging import CappedPaginator, search_terms

from .models import Event

# A name search reads at most this many of the newest events: there is no index on the name (every write inserts an
# event, and another index would cost each of them), and a name no event has would otherwise read the whole table.
NAME_SEARCH_WINDOW = 100_000
EVENT_SEARCH_HELP = (
    f"A number finds that customer's events and the event with that sequence number; a name finds its events among "
    f"the newest {NAME_SEARCH_WINDOW:,} numbered. Only the first 10,000 matches are counted and paged."
)


class ChannelFilter(admin.SimpleListFilter):
    """By the channel of the write, offered from the channels there are: Django's own filter of a plain text field
    reads every event's channel (`SELECT DISTINCT`) on each page view, 0.15 s at 1.37M events."""

    title = "channel"
    parameter_name = "channel"

    def lookups(self, request, model_admin):
        return [(channel, channel) for channel in CHANNELS]

    def queryset(self, request, queryset):
        return queryset.filter(channel=self.value()) if self.value() else queryset


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    """Read-only: events are facts about past writes. Newest first, counted and paged up to 10,000 rows, and searched
    through indexes only, so the page stays fast with millions of events (the bench's sweep)."""

    list_display = ["sequence", "type", "customer_id", "attribute_name", "occurred_at", "channel", "actor_username"]
    list_filter = ["type", ChannelFilter]
    search_fields = ["attribute_name"]  # turns the search box on; the search is get_search_results
    search_help_text = EVENT_SEARCH_HELP
    ordering = ["-sequence"]  # the sequence's unique index, read backwards
    paginator = CappedPaginator
    show_full_result_count = False

    def get_search_results(self, request, queryset, search_term):
        terms = search_terms(search_term)
        if any(not (term.isascii() and term.isdigit()) for term in terms):
            # Name terms read the newest NAME_SEARCH_WINDOW numbered events: where that window starts, read once.
            newest = Event.objects.aggregate(last=Max("sequence"))["last"] or 0
        for term in terms:
            if term.isascii() and term.isdigit():
                number = int(term)
                match = Q(customer_id=number) | Q(sequence=number) if number < 2**63 else Q(pk__in=[])
            else:
                # Numbered events only (the sequencer numbers new ones within seconds): an OR with `sequence IS NULL`
                # made PostgreSQL scan the whole table instead of the range of the sequence's index.
                match = Q(attribute_name=term, sequence__gt=newest - NAME_SEARCH_WINDOW)
            queryset = queryset.filter(match)
        return queryset, False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
