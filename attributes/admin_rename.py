"""Admin action: rename or merge the selected attributes' names across all customers.

Django's intermediate-page pattern (like "Delete selected"): the action first renders a page asking for the
new name; that page posts back to the changelist with the same selection, and the action then starts one rename
job (`services.rename_start`) per distinct selected name; each message links to its job's page.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html

from . import selectors, services
from .forms import PREFER_CHOICES
from .models import Attribute
from .validators import NAME_MAX_LENGTH, validate_attribute_name

__all__ = ["rename_across_customers"]


class RenameAcrossCustomersForm(forms.Form):
    new_name = forms.CharField(
        label="New name",
        max_length=NAME_MAX_LENGTH,
        validators=[validate_attribute_name],
        help_text="Customers that already have this name keep one attribute: the two are merged.",
    )
    prefer = forms.ChoiceField(
        label="When a customer has both names with different values",
        choices=PREFER_CHOICES,
        required=False,
        initial="",
        widget=forms.RadioSelect,
    )
    confirm = forms.CharField(
        label="Confirm a protected name",
        max_length=NAME_MAX_LENGTH,
        required=False,
        help_text="Renaming a protected name removes it from every customer, like a delete: type it here to confirm.",
    )


@admin.action(
    description="Rename or merge the selected attributes' names across all customers",
    # One permission: Django offers an action when ANY of its permissions holds; this one checks them all.
    permissions=["rename_all"],
)
def rename_across_customers(modeladmin, request, queryset):
    names = sorted(set(queryset.order_by().values_list("attribute_name", flat=True).distinct()))
    form = RenameAcrossCustomersForm(request.POST if "apply" in request.POST else None)
    if form.is_bound and form.is_valid():
        new, prefer = form.cleaned_data["new_name"], form.cleaned_data["prefer"] or None
        confirm = form.cleaned_data["confirm"] or None
        for old in names:
            if old != new:  # selecting the target name too is how one merges several spellings into it
                _rename(modeladmin, request, old=old, new=new, prefer=prefer, confirm=confirm)
        return None  # back to the changelist, where the messages show
    customers = (
        Attribute.objects.filter(attribute_name__in=names)
        .values("attribute_name")
        .annotate(customers=Count("pk"))
        .order_by("attribute_name")
    )
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": "Rename or merge attribute names across all customers",
        "opts": modeladmin.model._meta,
        "form": form,
        "names": customers,
        "dependents": selectors.dependent_systems(*names),
        "selected": request.POST.getlist(helpers.ACTION_CHECKBOX_NAME),
        "select_across": request.POST.get("select_across", "0"),
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "action_name": "rename_across_customers",
    }
    return TemplateResponse(request, "admin/attributes/attribute/rename_across_customers.html", context)


def _rename(modeladmin, request, *, old: str, new: str, prefer: str | None, confirm: str | None) -> None:
    try:
        job = services.rename_start(old=old, new=new, prefer=prefer, actor=request.user, confirm=confirm)
    except (ValidationError, PermissionDenied) as error:
        text = "; ".join(error.messages) if isinstance(error, ValidationError) else str(error)
        modeladmin.message_user(request, f"{old} was not renamed: {text}", messages.ERROR)
        return
    modeladmin.message_user(
        request,
        format_html(
            'Renaming {} to {} across customers has started: <a href="{}">follow the job</a>.',
            old,
            new,
            reverse("jobs:detail", args=[job.pk]),
        ),
        messages.SUCCESS,
    )
