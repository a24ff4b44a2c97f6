"""The change feed's filters (one FilterSet for the API and any page that lists events)."""

import django_filters
from django import forms

from .models import Event


class EventFilterSet(django_filters.FilterSet):
    customer_id = django_filters.NumberFilter(field_name="customer_id", min_value=1, max_value=2**63 - 1)
    type = django_filters.ChoiceFilter(field_name="type", choices=Event.Type.choices)
    attribute_name = django_filters.CharFilter(field_name="attribute_name", max_length=150)

    class Meta:
        model = Event
        fields = ["customer_id", "type", "attribute_name"]

    @property
    def form(self) -> forms.Form:
        form = super().form
        form.fields["customer_id"].widget = forms.TextInput()
        return form
