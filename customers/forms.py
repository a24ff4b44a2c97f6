from django import forms
from django.db.models import Q, QuerySet

from crm_project.forms import BootstrapFormMixin
from crm_project.parsing import parse_id

from .models import Customer

MAX_CUSTOMER_ID = 2**31 - 1  # customer_id is an AutoField (32-bit integer on PostgreSQL)


class CustomerForm(BootstrapFormMixin, forms.ModelForm):
    class Meta:
        model = Customer
        fields = ["customer_name", "customer_account_type", "customer_status", "email", "phone", "notes"]
        widgets = {"notes": forms.Textarea(attrs={"rows": 4})}


class CustomerFilterForm(forms.Form):
    """The customer list's search box and status filter; the state lives in the query string."""

    q = forms.CharField(required=False, label="Search", max_length=200)
    status = forms.ChoiceField(required=False, choices=[("", "Any status"), *Customer.Status.choices])

    def filter(self, queryset: QuerySet) -> QuerySet:
        """The customers matching the search and status; used by the list and its CSV export."""
        if not self.is_bound:
            return queryset
        # Apply whichever filters are valid: a stale status in a bookmark must not drop the search too.
        self.is_valid()
        if query := self.cleaned_data.get("q", "").strip():
            condition = Q(customer_name__icontains=query)
            if (customer_id := parse_id(query)) is not None and customer_id <= MAX_CUSTOMER_ID:
                condition |= Q(customer_id=customer_id)
            queryset = queryset.filter(condition)
        if status := self.cleaned_data.get("status"):
            queryset = queryset.filter(customer_status=status)
        return queryset
