"""The customer list's own filters, its search box and status: the list page and the CSV export of it.

Lenient where the attribute filter is strict, as before: it applies whichever of them is valid, so a stale
status in a bookmark does not drop the search too, and leaves every other parameter to the filters that
other apps register (`extensions`).
"""

import django_filters
from django.db.models import Q, QuerySet

from crm_project.parsing import parse_id

from .models import Customer

MAX_CUSTOMER_ID = 2**31 - 1  # customer_id is an AutoField (32-bit integer on PostgreSQL)


class CustomerFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="Search", max_length=200)
    status = django_filters.ChoiceFilter(
        field_name="customer_status", choices=Customer.Status.choices, empty_label="Any status"
    )

    class Meta:
        model = Customer
        fields = []

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        """Name contains the text, ignoring case; or the customer id, when the text is one in ASCII digits."""
        condition = Q(customer_name__icontains=value)
        if (customer_id := parse_id(value)) is not None and customer_id <= MAX_CUSTOMER_ID:
            condition |= Q(customer_id=customer_id)
        return queryset.filter(condition)

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        self.form.is_valid()  # django-filter then applies the valid filters' values and skips the rest
        return super().filter_queryset(queryset)
