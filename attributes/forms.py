import re

from django import forms

from crm_project.forms import BootstrapFormMixin

from .validators import NAME_MAX_LENGTH, VALUE_MAX_LENGTH

# `Attribute.etag`: the only version a form ever shows.
ETAG = re.compile(r'"[0-9a-f]{24}"')
NEVER_MATCHES = '"not-a-version"'


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
