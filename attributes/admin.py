"""Django admin for attributes. Saves and deletes go through `attributes.services`, like every other path."""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError

from customers.admin import CustomerAdmin
from customers.models import Customer

from . import services
from .models import Attribute
from .permissions import Action, has_permission


class AttributeAdminForm(forms.ModelForm):
    class Meta:
        model = Attribute
        fields = ["customer", "attribute_name", "attribute_value"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # No maxlength attribute: the browser would silently cut a longer value instead of showing the error.
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

    def save_model(self, request, obj, form, change):
        saved = save_attribute(request, obj, change)
        obj.pk, obj.created, obj.last_modified = saved.pk, saved.created, saved.last_modified

    def delete_model(self, request, obj):
        services.attribute_delete(attribute=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for attribute in queryset:
            services.attribute_delete(attribute=attribute, actor=request.user)


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


admin.site.unregister(Customer)
admin.site.register(Customer, CustomerWithAttributesAdmin)
