"""Shared form plumbing: Bootstrap markup for every form field, rendered by one template."""

from django import forms
from django.forms.renderers import TemplatesSetting


class BootstrapFormRenderer(TemplatesSetting):
    """Renders `{{ field.as_field_group }}` with Bootstrap's label, widget, help text and errors.

    TemplatesSetting so the project's templates (templates/includes/) are found; Django's own widget
    templates come from the `django.forms` app.
    """

    field_template_name = "includes/_field.html"


class BootstrapFormMixin:
    """Give every widget Bootstrap's classes; templates render each field with `{{ field.as_field_group }}`.

    `marks_required_fields`: mark required fields with an asterisk (off for forms whose every field
    is required, where the mark says nothing).
    """

    default_renderer = BootstrapFormRenderer
    marks_required_fields = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            css = "form-select" if isinstance(widget, forms.Select) else "form-control"
            if isinstance(widget, (forms.CheckboxInput, forms.RadioSelect)):
                css = "form-check-input"
            if isinstance(widget, forms.RadioSelect):  # and CheckboxSelectMultiple: one .form-check per choice
                widget.template_name = "includes/widgets/_checks.html"
            widget.attrs["class"] = f"{widget.attrs.get('class', '')} {css}".strip()

    def full_clean(self):
        super().full_clean()
        for name in self.errors:
            if name in self.fields:
                widget = self.fields[name].widget
                widget.attrs["class"] = f"{widget.attrs.get('class', '')} is-invalid".strip()
                widget.attrs["aria-invalid"] = "true"
