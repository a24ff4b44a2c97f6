"""The Registry page's form. The rules of a definition live in `AttributeDefinition.clean` (attributes/registry.py)."""

from django import forms

from crm_project.forms import BootstrapFormMixin

from .models import AttributeDefinition


class AttributeDefinitionForm(BootstrapFormMixin, forms.ModelForm):
    class Meta:
        model = AttributeDefinition
        fields = [
            "name",
            "description",
            "value_type",
            "choices",
            "pattern",
            "example",
            "dependent_systems",
            "protected",
        ]
        labels = {"value_type": "Expected type", "dependent_systems": "Dependent systems"}
        help_texts = {
            "name": "Lowercase with underscores, as customers' attributes use it, e.g. billing_account_id.",
            "example": "Shown to users as they type; it must fit the expected type.",
            # Patterns run on RE2 (attributes/registry.py), so matching never backtracks.
            "pattern": "For “regular expression”: the whole value must match it. RE2 syntax, up to 200 characters: "
            "no backreferences, lookahead or lookbehind.",
        }
        widgets = {
            "name": forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "none"}),
            "description": forms.Textarea(attrs={"rows": 3}),
            "choices": forms.Textarea(attrs={"rows": 4, "spellcheck": "false"}),
            "pattern": forms.TextInput(attrs={"spellcheck": "false", "class": "font-monospace"}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            # Renaming the definition alone would silently free every customer's attribute of that name from it.
            self.fields["name"].disabled = True
            self.fields["name"].help_text = "Fixed once defined, so customers' attributes of this name keep its rules."
