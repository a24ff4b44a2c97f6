"""The Registry page: the attribute names the organisation defines, what they mean, the values they take and
which systems depend on them. Only users with `attributes.manage_attribute_registry` see or change it.

The Attributes tab reads the registry too (`selectors.name_hints`: suggestions and expected formats in the
Add/Edit dialog).
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.urls import reverse, reverse_lazy
from django.views.generic import CreateView, DeleteView, ListView, UpdateView

from crm_project.mixins import PermissionRequiredWithReasonMixin
from crm_project.paging import CappedPaginator

from .. import permissions, selectors, services
from ..forms import AttributeDefinitionForm
from ..models import AttributeDefinition


class RegistryPermissionMixin(PermissionRequiredWithReasonMixin):
    """Anonymous users go to the login page; signed-in users without the permission get a 403."""

    permission_required = permissions.REGISTRY  # names the permission in the 403 page
    extra_context = {"nav": "registry"}

    def has_permission(self) -> bool:
        return permissions.may_manage_registry(self.request.user)


class RegistryListView(RegistryPermissionMixin, ListView):
    """Every definition with its description, expected format, dependants and how many customers use it."""

    template_name = "attributes/registry.html"
    context_object_name = "definitions"
    paginate_by = 100

    def get_queryset(self):
        return selectors.definitions_with_usage()


class DefinitionFormMixin(RegistryPermissionMixin):
    model = AttributeDefinition
    form_class = AttributeDefinitionForm
    template_name = "attributes/registry_form.html"
    success_url = reverse_lazy("attributes:registry")
    verb = ""

    def form_valid(self, form):
        try:
            self.object = self.save(form)
        except ValidationError as error:  # the service's own checks (keys for a sensitive name, …)
            by_field = error.error_dict if hasattr(error, "error_dict") else {None: error.error_list}
            for field, errors in by_field.items():
                form.add_error(field if field in form.fields else None, errors)
            return self.form_invalid(form)
        messages.success(self.request, f"Definition {self.object.name} {self.verb}.")
        if getattr(self.object, "job", None) is not None:
            verb = "Encrypting" if self.object.sensitive else "Decrypting"
            messages.info(self.request, f"{verb} the stored values of {self.object.name} in the background.")
            return HttpResponseRedirect(reverse("jobs:detail", args=[self.object.job.pk]))
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


class RevealLogView(RegistryPermissionMixin, ListView):
    """Every read of a sensitive value (Reveal clicks, API reads, exports), newest first."""

    template_name = "attributes/reveal_log.html"
    context_object_name = "reveals"
    paginate_by = 100
    paginator_class = CappedPaginator

    def get_queryset(self):
        return selectors.reveal_log()


class DefinitionDeleteView(RegistryPermissionMixin, DeleteView):
    """Deleting a definition leaves customers' attributes alone; their values are simply no longer checked."""

    model = AttributeDefinition
    template_name = "attributes/registry_confirm_delete.html"
    success_url = reverse_lazy("attributes:registry")

    def get_queryset(self):
        return selectors.definitions_with_usage(AttributeDefinition.objects.all())

    def form_valid(self, form):
        try:
            services.definition_delete(definition=self.object, actor=self.request.user)
        except ValidationError as error:  # a sensitive name: unmark it first
            messages.error(self.request, " ".join(error.messages))
            return HttpResponseRedirect(self.get_success_url())
        messages.success(self.request, f"Definition {self.object.name} deleted.")
        return HttpResponseRedirect(self.get_success_url())
