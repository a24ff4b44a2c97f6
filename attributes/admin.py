"""Django admin for attributes. Saves and deletes go through `attributes.services`, like every other path."""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError

from customers.admin import CustomerAdmin
from customers.models import Customer

from . import services
from .admin_rename import may_rename_all, rename_across_customers
from .models import Attribute, AttributeDefinition
from .permissions import Action, has_permission


class AttributeAdminForm(forms.ModelForm):
    class Meta:
        model = Attribute
        fields = ["customer", "attribute_name", "attribute_value"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # No maxlength attribute: the browser would silently cut a longer value instead of showing the error.
        if "attribute_value" in self.fields:  # absent when the user may only view (every field read-only)
            self.fields["attribute_value"].widget.attrs.pop("maxlength", None)

    def clean(self):
        cleaned = super().clean()
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


def save_attribute(request, obj: Attribute, change: bool) -> Attribute:
    if change:
        original = Attribute.objects.get(pk=obj.pk)
        return services.attribute_update(
            attribute=original, name=obj.attribute_name, value=obj.attribute_value, actor=request.user
        )
    outcome = services.attribute_upsert(
        customer=obj.customer, name=obj.attribute_name, value=obj.attribute_value, actor=request.user
    )
    return outcome.attribute


@admin.register(Attribute)
class AttributeAdmin(AttributePermissionsAdmin, admin.ModelAdmin):
    form = AttributeAdminForm
    list_display = ["attribute_id", "customer", "attribute_name", "attribute_value", "last_modified"]
    list_display_links = ["attribute_id", "attribute_name"]
    list_filter = ["attribute_name"]
    search_fields = ["attribute_name", "attribute_value"]
    list_select_related = ["customer"]
    raw_id_fields = ["customer"]
    readonly_fields = ["created", "last_modified"]
    show_full_result_count = False
    actions = [rename_across_customers]

    def save_model(self, request, obj, form, change):
        saved = save_attribute(request, obj, change)
        obj.pk, obj.created, obj.last_modified = saved.pk, saved.created, saved.last_modified

    def delete_model(self, request, obj):
        services.attribute_delete(attribute=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for attribute in queryset:
            services.attribute_delete(attribute=attribute, actor=request.user)

    def has_rename_all_permission(self, request):
        return may_rename_all(request.user)


class AttributeInline(AttributePermissionsAdmin, admin.TabularInline):
    model = Attribute
    form = AttributeAdminForm
    fields = ["attribute_name", "attribute_value", "created", "last_modified"]
    readonly_fields = ["created", "last_modified"]
    extra = 0
    ordering = ["attribute_name"]


class CustomerWithAttributesAdmin(CustomerAdmin):
    inlines = [AttributeInline]

    def save_formset(self, request, form, formset, change):
        if formset.model is not Attribute:
            return super().save_formset(request, form, formset, change)
        formset.save(commit=False)  # only sorts the forms into new, changed and deleted; writes nothing
        for obj in formset.deleted_objects:
            services.attribute_delete(attribute=obj, actor=request.user)
        for obj, _changed_fields in formset.changed_objects:
            save_attribute(request, obj, change=True)
        for obj in formset.new_objects:
            obj.customer = form.instance
            save_attribute(request, obj, change=False)
        return None


@admin.register(AttributeDefinition)
class AttributeDefinitionAdmin(admin.ModelAdmin):
    """The attribute registry. Changing it needs manage_attribute_registry; attribute viewers may read it."""

    list_display = ["name", "value_type", "protected", "systems_display", "last_modified"]
    list_filter = ["value_type", "protected"]
    search_fields = ["name", "description", "dependent_systems"]
    readonly_fields = ["created", "last_modified"]

    @admin.display(description="Dependent systems")
    def systems_display(self, obj: AttributeDefinition) -> str:
        return ", ".join(obj.systems)

    def _manages(self, request) -> bool:
        return request.user.is_active and request.user.has_perm("attributes.manage_attribute_registry")

    def has_view_permission(self, request, obj=None):
        return self._manages(request) or has_permission(request.user, Action.VIEW)

    def has_add_permission(self, request):
        return self._manages(request)

    def has_change_permission(self, request, obj=None):
        return self._manages(request)

    def has_delete_permission(self, request, obj=None):
        return self._manages(request)


admin.site.unregister(Customer)
admin.site.register(Customer, CustomerWithAttributesAdmin)
