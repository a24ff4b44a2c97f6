"""The forms of the attribute pages. The rules live in the models and the services, which report errors back
to these forms; the forms only parse, and render through `crm_project.forms.BootstrapFormMixin`.
"""

import re

from django import forms
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat

from crm_project.forms import BootstrapFormMixin

from . import csvio
from .models import AttributeDefinition
from .validators import NAME_MAX_LENGTH, VALUE_MAX_LENGTH, validate_attribute_name

# `Attribute.etag`: the only version a form ever shows.
ETAG = re.compile(r'"[0-9a-f]{24}"')
NEVER_MATCHES = '"not-a-version"'
MAX_UPLOAD_BYTES = 5 * 1024 * 1024  # the import page's limit; larger files go through import_attributes
PREFER_CHOICES = [
    ("", "Neither: refuse if a customer has both names with different values"),
    ("old", "The old name's value wins"),
    ("new", "The new name's value wins"),
]


def version_if_match(version: str | None) -> list[str] | None:
    """The form's hidden version as If-Match. Anything but a real ETag (`*`, a weak or made-up tag) is stale:
    it must not skip the check, so it becomes a tag that matches no attribute and the user sees the current one."""
    if not version:
        return None
    return [version] if ETAG.fullmatch(version) else [NEVER_MATCHES]


class AttributeForm(BootstrapFormMixin, forms.Form):
    """Parses the Add/Edit modal. The rules live in the model and the service, which report errors back here.

    No `max_length` on the value field on purpose: it would render `maxlength="150"` and the browser would
    silently cut a pasted longer value. The user sees the live count go over and gets the error instead.
    """

    attribute_name = forms.CharField(
        label="Attribute Name",
        help_text="Lowercase with underscores, e.g. external_crm_id",
        widget=forms.TextInput(
            attrs={
                "autocomplete": "off",
                "spellcheck": "false",
                "autocapitalize": "none",
                "placeholder": "external_crm_id",
            }
        ),
    )
    attribute_value = forms.CharField(
        label="Attribute Value",
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "placeholder": "SF-12345", "data-char-limit": VALUE_MAX_LENGTH}
        ),
    )

    # The ETag of the attribute the Edit form showed; a stale one means someone else changed it meanwhile.
    version = forms.CharField(required=False, widget=forms.HiddenInput)
    # Renaming a protected name away removes it like a deletion: the Edit form asks for its name, as Delete does.
    confirm = forms.CharField(
        required=False,
        label="Type the current name to confirm",
        strip=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "none"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["attribute_name"].widget.attrs["data-max-length"] = NAME_MAX_LENGTH
        self.fields["attribute_value"].widget.attrs["aria-describedby"] = "id_attribute_value_count"

    def if_match(self) -> list[str] | None:
        return version_if_match(self.cleaned_data.get("version"))

    def add_service_error(self, error) -> None:
        """Show a service's ValidationError next to the fields it names (or above the form)."""
        if hasattr(error, "error_dict"):
            for field, errors in error.error_dict.items():
                self.add_error(field if field in self.fields else None, errors)
        else:
            self.add_error(None, error)


class VersionForm(forms.Form):
    """The Delete confirmation carries the version it showed, like the Edit form."""

    version = forms.CharField(required=False, widget=forms.HiddenInput)

    def if_match(self) -> list[str] | None:
        return version_if_match(self.cleaned_data.get("version") if self.is_valid() else self.data.get("version"))


NAME_INPUT_ATTRS = {"class": "font-monospace", "autocomplete": "off", "spellcheck": "false", "autocapitalize": "none"}


class RenameForm(BootstrapFormMixin, forms.Form):
    marks_required_fields = False  # both names are required; the radio group is optional

    old_name = forms.CharField(
        label="Current name",
        max_length=NAME_MAX_LENGTH,
        validators=[validate_attribute_name],
        widget=forms.TextInput(attrs={"list": "attribute-names", **NAME_INPUT_ATTRS}),
    )
    new_name = forms.CharField(
        label="New name",
        max_length=NAME_MAX_LENGTH,
        validators=[validate_attribute_name],
        help_text="When a customer already has this name, the two attributes are merged into it.",
        widget=forms.TextInput(attrs=NAME_INPUT_ATTRS),
    )
    prefer = forms.ChoiceField(
        label="When a customer has both names with different values",
        choices=PREFER_CHOICES,
        required=False,
        widget=forms.RadioSelect,
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("old_name") and cleaned.get("old_name") == cleaned.get("new_name"):
            self.add_error("new_name", "The new name is the same as the current one.")
        return cleaned


class ImportForm(BootstrapFormMixin, forms.Form):
    """The uploaded CSV, decoded to text; the size and encoding are checked here, the rows by the service."""

    marks_required_fields = False  # its only field

    file = forms.FileField(
        label="CSV file",
        help_text="Columns customer_id, attribute_name, attribute_value (others, e.g. from an export, are ignored). "
        f"At most {filesizeformat(MAX_UPLOAD_BYTES)}.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )

    def clean_file(self) -> str:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise ValidationError(
                f"The file is {filesizeformat(upload.size)}; the limit here is {filesizeformat(MAX_UPLOAD_BYTES)}. "
                "Import larger files with: python manage.py import_attributes FILE"
            )
        try:
            return csvio.decode_upload(upload.read()).getvalue()
        except csvio.CsvFormatError as error:
            raise ValidationError(str(error)) from None


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
            "sensitive",
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
