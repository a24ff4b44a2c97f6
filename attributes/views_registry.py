"""The Registry page: the attribute names the organisation defines, what they mean, the values they take and
which systems depend on them. Only users with `attributes.manage_attribute_registry` see or change it.

The Attributes tab reads the registry too (`name_hints`: suggestions and expected formats in the Add/Edit modal).
"""

from django.contrib import messages
from django.db.models import Count, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import HttpResponseRedirect
from django.urls import reverse_lazy
from django.views.generic import CreateView, DeleteView, ListView, UpdateView

from crm_project.mixins import PermissionRequiredWithReasonMixin

from . import permissions, services
from .forms_registry import AttributeDefinitionForm
from .models import Attribute, AttributeDefinition


def with_usage(queryset):
    """Annotate each definition with `customer_count`, the customers that have the name, in the same query."""
    usage = (
        Attribute.objects.filter(attribute_name=OuterRef("name"))
        .order_by()
        .values("attribute_name")
        .annotate(n=Count("pk"))  # one attribute per name per customer, so attributes = customers
        .values("n")
    )
    return queryset.annotate(customer_count=Coalesce(Subquery(usage, output_field=IntegerField()), Value(0)))


def name_hints(definitions) -> dict[str, dict]:
    """What the Add/Edit modal tells the user about each defined name (embedded with `json_script`)."""
    return {
        d.name: {
            "description": d.description,
            "format": d.expected_format(),
            "example": d.example,
            "systems": d.systems,
            "protected": d.protected,
        }
        for d in definitions
    }


class RegistryPermissionMixin(PermissionRequiredWithReasonMixin):
    """Anonymous users go to the login page; signed-in users without the permission get a 403."""

    permission_required = permissions.REGISTRY  # names the permission in the 403 page

    def has_permission(self) -> bool:
        return permissions.may_manage_registry(self.request.user)


class RegistryListView(RegistryPermissionMixin, ListView):
    """Every definition with its description, expected format, dependants and how many customers use it."""

    template_name = "attributes/registry.html"
    context_object_name = "definitions"
    paginate_by = 100

    def get_queryset(self):
        return with_usage(AttributeDefinition.objects.order_by("name"))


class DefinitionFormMixin(RegistryPermissionMixin):
    model = AttributeDefinition
    form_class = AttributeDefinitionForm
    template_name = "attributes/registry_form.html"
    success_url = reverse_lazy("attribute_registry:list")
    verb = ""

    def form_valid(self, form):
        self.object = self.save(form)
        messages.success(self.request, f"Definition {self.object.name} {self.verb}.")
        return HttpResponseRedirect(self.get_success_url())

    def save(self, form) -> AttributeDefinition:
        raise NotImplementedError


class DefinitionCreateView(DefinitionFormMixin, CreateView):
    verb = "created"

    def save(self, form) -> AttributeDefinition:
        return services.definition_create(actor=self.request.user, **form.cleaned_data)

    def get_initial(self):
        # "Define this name" links from elsewhere may pass the name along.
        return {"name": self.request.GET.get("name", "").strip()}


class DefinitionUpdateView(DefinitionFormMixin, UpdateView):
    verb = "updated"

    def save(self, form) -> AttributeDefinition:
        return services.definition_update(definition=self.object, actor=self.request.user, **form.cleaned_data)


class DefinitionDeleteView(RegistryPermissionMixin, DeleteView):
    """Deleting a definition leaves customers' attributes alone; their values are simply no longer checked."""

    model = AttributeDefinition
    template_name = "attributes/registry_confirm_delete.html"
    success_url = reverse_lazy("attribute_registry:list")

    def get_queryset(self):
        return with_usage(AttributeDefinition.objects.all())

    def form_valid(self, form):
        services.definition_delete(definition=self.object, actor=self.request.user)
        messages.success(self.request, f"Definition {self.object.name} deleted.")
        return HttpResponseRedirect(self.get_success_url())
