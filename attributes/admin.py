"""Django admin for attributes. Saves and deletes go through `attributes.services`, like every other path.

A write the service refuses (a protected name, a rename onto a name the customer has, a missing permission) rolls
the whole admin request back and returns to the page with the service's reason, instead of a 500.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.forms.models import BaseInlineFormSet
from django.http import HttpResponseRedirect

from crm_project.paging import COUNT_CAP, CappedPaginator, prefix_q, search_terms
from customers.admin import CustomerAdmin
from customers.models import Customer

from . import selectors, sensitive, services
from .admin_rename import rename_across_customers
from .models import Attribute, AttributeDefinition
from .permissions import Action, has_permission, may_manage_registry, may_rename_all, may_see_customers


class ServiceRefused(Exception):
    """A service refused an admin write; `ServiceErrorsAdmin` rolls the request back and shows the reasons."""

    def __init__(self, reasons: list[str]):
        super().__init__("; ".join(reasons))
        self.reasons = reasons


@contextmanager
def refused_by_service() -> Iterator[None]:
    """Turn what the services raise for a refused write into ServiceRefused (and nothing else: Django's own 403s
    stay 403s)."""
    try:
        yield
    except ValidationError as error:
        raise ServiceRefused(error.messages) from error
    except PermissionDenied as error:
        raise ServiceRefused([str(error) or "You do not have permission to do that."]) from error
    except services.PreconditionFailed as error:
        raise ServiceRefused([str(error)]) from error
    except Attribute.DoesNotExist as error:
        raise ServiceRefused(["The attribute was deleted by someone else meanwhile."]) from error


class ServiceErrorsAdmin:
    """Every POST runs in one transaction; if a service refuses a write in it, nothing of the request is kept
    (log entries included) and the user is sent back to the same page with the reason."""

    def _refusable(self, view, request, *args, **kwargs):
        if request.method != "POST":
            return view(request, *args, **kwargs)
        try:
            with transaction.atomic():
                return view(request, *args, **kwargs)
        except ServiceRefused as refused:
            for reason in refused.reasons:
                self.message_user(request, f"Nothing was changed: {reason}", messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def changeform_view(self, request, *args, **kwargs):
        return self._refusable(super().changeform_view, request, *args, **kwargs)

    def delete_view(self, request, *args, **kwargs):
        return self._refusable(super().delete_view, request, *args, **kwargs)

    def changelist_view(self, request, *args, **kwargs):
        if request.POST.get("action") != "delete_selected":
            # Other actions (rename across customers) report their own refusals and manage their transactions.
            return super().changelist_view(request, *args, **kwargs)
        return self._refusable(super().changelist_view, request, *args, **kwargs)


class AttributeAdminForm(forms.ModelForm):
    confirm = forms.CharField(
        label="Confirm rename",
        required=False,
        help_text="Renaming a protected name away removes it like a deletion: type its current name to confirm.",
    )

    class Meta:
        model = Attribute
        fields = ["customer", "attribute_name", "attribute_value"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # No maxlength attribute: the browser would silently cut a longer value instead of showing the error.
        if "attribute_value" in self.fields:  # absent when the user may only view (every field read-only)
            self.fields["attribute_value"].widget.attrs.pop("maxlength", None)
            instance = self.instance
            self.sensitive = instance.pk is not None and sensitive.Presenter.is_hidden(
                value=instance.attribute_value,
                ciphertext=instance.value_ciphertext,
                name_sensitive=sensitive.name_is_sensitive(instance.attribute_name),
            )
            if self.sensitive:  # never in the page: typed anew, or kept when left empty
                self.initial["attribute_value"] = ""
                self.fields["attribute_value"].required = False
                self.fields[
                    "attribute_value"
                ].help_text = "Sensitive: the value is hidden. Type a new value to replace it; leave empty to keep it."

    def _get_validation_exclusions(self):
        exclude = super()._get_validation_exclusions()
        if self.instance.pk is not None:
            # The customer is read-only on change, yet (customer, name) must still be checked: a rename onto a
            # name the customer has is a form error here, before the service (which the database backs) refuses.
            exclude.discard("customer")
        return exclude

    def clean(self):
        cleaned = super().clean()
        if getattr(self, "sensitive", False) and not cleaned.get("attribute_value"):
            cleaned["attribute_value"] = sensitive.plain_value(self.instance)  # kept (re-encrypted if renamed)
        name, value = cleaned.get("attribute_name"), cleaned.get("attribute_value")
        if name is not None and value is not None:
            try:
                services.normalize_and_validate(name=name, value=value)
            except ValidationError as error:
                raise ValidationError(error.error_dict) from None
        return cleaned


class AttributePermissionsAdmin:
    """Admin access follows the four attribute permissions (there are no Django default ones)."""

    def has_view_permission(self, request, obj=None):
        return has_permission(request.user, Action.VIEW)

    def has_add_permission(self, request, obj=None):
        return has_permission(request.user, Action.CREATE)

    def has_change_permission(self, request, obj=None):
        return has_permission(request.user, Action.UPDATE)

    def has_delete_permission(self, request, obj=None):
        return has_permission(request.user, Action.DELETE)


def save_attribute(request, obj: Attribute, change: bool, confirm: str | None = None) -> Attribute:
    with refused_by_service():
        if change:
            original = Attribute.objects.get(pk=obj.pk)
            return services.attribute_update(
                attribute=original,
                name=obj.attribute_name,
                value=obj.attribute_value,
                actor=request.user,
                confirm=confirm,
            )
        outcome = services.attribute_upsert(
            customer=obj.customer, name=obj.attribute_name, value=obj.attribute_value, actor=request.user
        )
        return outcome.attribute


def delete_attribute(request, obj: Attribute) -> None:
    with refused_by_service():
        services.attribute_delete(attribute=obj, actor=request.user)


NAME_FILTER_CHOICES = 100
ATTRIBUTE_SEARCH_HELP = (
    "A number finds that attribute id or customer id; name=value finds that name with values starting with value; "
    "any other text finds names or values starting with it (case-sensitive). Only the first 10,000 matches are "
    "counted and paged."
)


def attribute_search(term: str) -> Q:
    """The admin search as a condition each part of which an index serves (see ATTRIBUTE_SEARCH_HELP)."""
    if term.isascii() and term.isdigit():
        number = int(term)
        return Q(attribute_id=number) | Q(customer_id=number) if number < 2**63 else Q(pk__in=[])
    name, equals, value = term.partition("=")
    if equals:  # the (attribute_name, attribute_value, customer) index: name equal, value a range within it
        return Q(attribute_name=name) & prefix_q("attribute_value", value)
    return prefix_q("attribute_name", term) | prefix_q("attribute_value", term)


class AttributeNameFilter(admin.SimpleListFilter):
    """Filter by name. The choices are the first NAME_FILTER_CHOICES names in use, read from the index one name at
    a time, not a DISTINCT over every row; any name can be filtered by with `?attribute_name=` or searched for."""

    title = "attribute name"
    parameter_name = "attribute_name"

    def lookups(self, request, model_admin):
        names = selectors.first_names(NAME_FILTER_CHOICES)
        if (chosen := self.value()) and chosen not in names:
            names.append(chosen)
        return [(name, name) for name in names]

    def queryset(self, request, queryset):
        return queryset.filter(attribute_name=self.value()) if self.value() else queryset


@admin.register(Attribute)
class AttributeAdmin(ServiceErrorsAdmin, AttributePermissionsAdmin, admin.ModelAdmin):
    form = AttributeAdminForm
    list_display = ["attribute_id", "customer", "attribute_name", "value_display", "last_modified"]
    list_display_links = ["attribute_id", "attribute_name"]
    list_filter = [AttributeNameFilter]
    # The search is attribute_search (indexed); search_fields only turns the admin's search box on.
    search_fields = ["attribute_name"]
    search_help_text = ATTRIBUTE_SEARCH_HELP
    list_select_related = ["customer"]
    list_per_page = 100
    paginator = CappedPaginator
    ordering = ["-attribute_id"]  # newest first, read backwards from the primary key: no sort of every row
    raw_id_fields = ["customer"]
    readonly_fields = ["created", "last_modified"]
    show_full_result_count = False
    actions = [rename_across_customers]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(name_sensitive=sensitive.sensitive_expression())

    @admin.display(description="attribute value", ordering="attribute_value")
    def value_display(self, obj) -> str:
        hidden = sensitive.Presenter.is_hidden(
            value=obj.attribute_value, ciphertext=obj.value_ciphertext, name_sensitive=obj.name_sensitive
        )
        return sensitive.MASK + " (sensitive)" if hidden else obj.attribute_value

    def get_search_results(self, request, queryset, search_term):
        for term in search_terms(search_term):
            queryset = queryset.filter(attribute_search(term))
        if search_term.strip():
            # The page is the newest of the first COUNT_CAP matches, as the count is: matches found through the
            # name and value indexes, then sorted. Ordered over every match, PostgreSQL walks the primary key
            # backwards and filters (it underestimates a prefix's matches): 2 s for `SF-00` at 10M rows, whose
            # 100,000 matches are the oldest rows; this way 30 ms.
            queryset = queryset.model.objects.annotate(name_sensitive=sensitive.sensitive_expression()).filter(
                pk__in=queryset.order_by().values("pk")[:COUNT_CAP]
            )
        return queryset, False

    def get_list_display(self, request):
        # Customer names are customer data: staff without customers.view_customer see the customer's id only.
        if may_see_customers(request.user):
            return self.list_display
        return [("customer_id" if f == "customer" else f) for f in self.list_display]

    def get_readonly_fields(self, request, obj=None):
        # Moving an attribute to another customer is no write any service offers: fixed once created, rather than
        # a form that accepts the change and silently keeps the old customer.
        if obj is None:
            return self.readonly_fields
        return [*self.readonly_fields, "customer" if may_see_customers(request.user) else "customer_id"]

    def get_exclude(self, request, obj=None):
        if obj is not None and not may_see_customers(request.user):  # read-only as customer_id: not in the form
            return [*(super().get_exclude(request, obj) or []), "customer"]
        return super().get_exclude(request, obj)

    def get_fields(self, request, obj=None):
        fields = self._fields_with_confirm(request, obj)
        if obj is not None and not may_see_customers(request.user):
            return [("customer_id" if f == "customer" else f) for f in fields]
        return fields

    def _fields_with_confirm(self, request, obj=None):
        fields = super().get_fields(request, obj)
        # The confirmation only means something when there is a name the user may rename away from.
        if obj is not None and self.has_change_permission(request, obj):
            return fields
        return [f for f in fields if f != "confirm"]

    def save_model(self, request, obj, form, change):
        saved = save_attribute(request, obj, change, confirm=form.cleaned_data.get("confirm") or None)
        obj.pk, obj.created, obj.last_modified = saved.pk, saved.created, saved.last_modified

    def delete_model(self, request, obj):
        delete_attribute(request, obj)

    def delete_queryset(self, request, queryset):
        for attribute in queryset.order_by("pk"):
            delete_attribute(request, attribute)

    def has_rename_all_permission(self, request):
        return may_rename_all(request.user)


# The customer's page edits at most this many of its attributes, the first by name: a customer of hundreds rendered
# a form per attribute (the bench's sweep: 200 attributes, 357 KB and over 300 ms). The rest are a search away.
INLINE_ATTRIBUTES = 50


class FirstAttributesFormSet(BaseInlineFormSet):
    """The customer's first INLINE_ATTRIBUTES attributes; `not_shown` counts the others (the template says so)."""

    not_shown = 0

    def get_queryset(self):
        if not hasattr(self, "_queryset"):
            queryset = super().get_queryset()  # the customer's, in the inline's order
            if self.instance.pk is not None:
                self.not_shown = max(0, queryset.count() - INLINE_ATTRIBUTES)
            self._queryset = queryset[:INLINE_ATTRIBUTES] if self.not_shown else queryset
        return self._queryset


class AttributeInline(AttributePermissionsAdmin, admin.TabularInline):
    model = Attribute
    form = AttributeAdminForm
    formset = FirstAttributesFormSet
    template = "admin/attributes/attribute_inline.html"
    fields = ["attribute_name", "attribute_value", "created", "last_modified"]
    readonly_fields = ["created", "last_modified"]
    extra = 0
    ordering = ["attribute_name"]


class CustomerWithAttributesAdmin(ServiceErrorsAdmin, CustomerAdmin):
    inlines = [AttributeInline]

    def save_formset(self, request, form, formset, change):
        if formset.model is not Attribute:
            return super().save_formset(request, form, formset, change)
        formset.save(commit=False)  # only sorts the forms into new, changed and deleted; writes nothing
        for obj in formset.deleted_objects:
            delete_attribute(request, obj)
        for obj, _changed_fields in formset.changed_objects:
            save_attribute(request, obj, change=True)
        for obj in formset.new_objects:
            obj.customer = form.instance
            save_attribute(request, obj, change=False)
        return None


@admin.register(AttributeDefinition)
class AttributeDefinitionAdmin(ServiceErrorsAdmin, admin.ModelAdmin):
    """The attribute registry. Changing it needs manage_attribute_registry; attribute viewers may read it.

    Saves and deletes go through `services.definition_*`, as the Registry page's do."""

    list_display = ["name", "value_type", "protected", "systems_display", "last_modified"]
    list_filter = ["value_type", "protected"]
    search_fields = ["name", "description", "dependent_systems"]
    readonly_fields = ["created", "last_modified"]

    @admin.display(description="Dependent systems")
    def systems_display(self, obj: AttributeDefinition) -> str:
        return ", ".join(obj.systems)

    def _manages(self, request) -> bool:
        return may_manage_registry(request.user)

    def has_view_permission(self, request, obj=None):
        return self._manages(request) or has_permission(request.user, Action.VIEW)

    def has_add_permission(self, request):
        return self._manages(request)

    def has_change_permission(self, request, obj=None):
        return self._manages(request)

    def has_delete_permission(self, request, obj=None):
        return self._manages(request)

    def save_model(self, request, obj, form, change):
        with refused_by_service():
            if change:
                services.definition_update(definition=obj, actor=request.user, **form.cleaned_data)
            else:
                saved = services.definition_create(actor=request.user, **form.cleaned_data)
                obj.pk, obj.created, obj.last_modified = saved.pk, saved.created, saved.last_modified

    def delete_model(self, request, obj):
        with refused_by_service():
            services.definition_delete(definition=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for definition in queryset.order_by("pk"):
            self.delete_model(request, definition)


admin.site.unregister(Customer)
admin.site.register(Customer, CustomerWithAttributesAdmin)
