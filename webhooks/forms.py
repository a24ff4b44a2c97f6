from django import forms

from crm_project.forms import BootstrapFormMixin

from .services import EVENT_TYPES


class WebhookForm(BootstrapFormMixin, forms.Form):
    """Parses the page's input; the service validates (URL safety) and saves."""

    url = forms.CharField(max_length=500, label="URL", help_text="https://… (receives signed POSTs).")
    description = forms.CharField(max_length=200, required=False)
    event_types = forms.MultipleChoiceField(
        choices=[("*", "Every type"), *[(t, t) for t in EVENT_TYPES]],
        initial=["*"],
        widget=forms.CheckboxSelectMultiple,
    )
    attribute_names = forms.CharField(
        required=False, max_length=2000, help_text="Glob patterns, comma-separated (billing_*); empty: every name."
    )

    def clean_attribute_names(self) -> list[str]:
        return [p.strip() for p in self.cleaned_data["attribute_names"].split(",") if p.strip()]
