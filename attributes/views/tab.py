"""The Attributes tab: thin views that parse a form, call a service and render.

Every URL serves a full page, and an htmx fragment when htmx asks (the tab loaded in place, the modal
forms, the refreshed table). Without JavaScript the same URLs work with redirect-after-POST.
"""

import json

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.loader import render_to_string
from django.utils.functional import cached_property
from django.views.generic import TemplateView

from customers.models import Customer

from .. import permissions, selectors, sensitive, services
from ..forms import AttributeForm, VersionForm
from ..models import Attribute
from ..permissions import Action, AttributePermissionMixin

TABLE_TARGET = "attributes-table"
TAB_TARGET = "tab-area"


class CustomerAttributesView(AttributePermissionMixin, TemplateView):
    """Base for the tab's views: the customer from the URL, and the refreshed-table response."""

    @cached_property
    def customer(self) -> Customer:
        return get_object_or_404(Customer, pk=self.kwargs["customer_id"])

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(customer=self.customer, active_tab="attributes")  # `can`: permissions.context_processor
        return context

    def table_context(self) -> dict:
        attributes = selectors.attribute_rows(self.customer)
        being_renamed = selectors.names_being_renamed()  # one query; usually none
        return {
            "customer": self.customer,
            "attributes": attributes,
            "being_renamed": sorted({a.attribute_name for a in attributes} & set(being_renamed)),
        }

    def written(self, message: str, level: str = "success") -> HttpResponse:
        """After a write: the refreshed table for htmx (closing the modal), else a redirect to the tab."""
        getattr(messages, level)(self.request, message)
        if not self.request.htmx:
            return redirect("attributes:tab", self.customer.pk)
        html = render_to_string("attributes/_table.html", self.table_context(), request=self.request)
        html += render_to_string("includes/_messages_oob.html", request=self.request)
        response = HttpResponse(html)
        response["HX-Retarget"] = f"#{TABLE_TARGET}"
        response["HX-Reswap"] = "outerHTML"
        response["HX-Trigger"] = json.dumps({"attributesChanged": None})
        return response


class AttributeTabView(CustomerAttributesView):
    """The Attributes tab: the customer's attributes sorted by name."""

    action = Action.VIEW

    def get_template_names(self):
        if self.request.htmx and self.request.htmx.target == TAB_TARGET:
            return ["attributes/_tab.html"]
        if self.request.htmx and self.request.htmx.target == TABLE_TARGET:
            return ["attributes/_table.html"]
        return ["attributes/attributes_tab.html"]

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), **self.table_context()}


class AttributeFormView(CustomerAttributesView):
    """Shared by Add and Edit: the form as a modal fragment (htmx) or a page; POST calls the service."""

    def get_template_names(self):
        return ["attributes/_form_modal.html"] if self.request.htmx else ["attributes/attribute_form.html"]

    def get_context_data(self, **kwargs):
        """The registry for the name field: suggestions, the typed name's expected format, the rename warning."""
        context = super().get_context_data(**kwargs)
        hints = selectors.name_hints()  # one query for the suggestions and the hints
        typed = None
        if form := kwargs.get("form"):
            typed = form["attribute_name"].value()
            # The <datalist> of defined names, and the hint below the field that names the typed one's format.
            form.fields["attribute_name"].widget.attrs.update(
                {"list": "attribute-name-suggestions", "aria-describedby": "id_attribute_name_helptext name-hint"}
            )
        original = getattr(self, "attribute", None)  # Edit: the attribute as stored; Add has none
        context.update(
            name_hints=hints,
            registry_required=settings.ATTRIBUTES_REQUIRE_DEFINITION,
            typed_hint=hints.get((typed or "").strip()),
            original_hint=hints.get(original.attribute_name) if original is not None else None,
        )
        return context

    def get(self, request, *args, **kwargs):
        return self.render_to_response(self.get_context_data(form=self.initial_form()))

    def post(self, request, *args, **kwargs):
        form = AttributeForm(request.POST)
        status = 200
        if form.is_valid():
            try:
                return self.save(form)
            except ValidationError as error:
                form.add_service_error(error)
            except services.PreconditionFailed as stale:
                # Someone changed it since the modal opened: show theirs, never overwrite it silently.
                form = self.initial_form(stale.current)
                return self.render_to_response(self.get_context_data(form=form, stale=True))
            except PermissionDenied as error:
                # A refusal that depends on the data (Add of a name that exists, without update permission):
                # say why inside the form. htmx swaps only 2xx responses, so a bare 403 would leave the
                # modal silently unchanged; the plain page keeps the 403 status.
                form.add_error(None, str(error))
                status = 200 if request.htmx else 403
        return self.render_to_response(self.get_context_data(form=form), status=status)


class AttributeCreateView(AttributeFormView):
    action = Action.CREATE
    extra_context = {"mode": "create"}

    def initial_form(self, current=None) -> AttributeForm:
        return AttributeForm()

    def save(self, form: AttributeForm) -> HttpResponse:
        try:
            outcome = services.attribute_upsert(
                customer=self.customer,
                name=form.cleaned_data["attribute_name"],
                value=form.cleaned_data["attribute_value"],
                actor=self.request.user,
            )
        except PermissionDenied as error:
            # The view already required create permission, so this is a name the customer has already.
            name = form.cleaned_data["attribute_name"].strip()
            raise PermissionDenied(f"This customer already has an attribute named “{name}”. {error}") from None
        name = outcome.attribute.attribute_name
        verb = {"created": "created", "updated": "updated", "unchanged": "left unchanged"}[outcome.result]
        return self.written(f"Attribute {name} {verb}.")


class AttributeObjectMixin:
    """Edit and Delete act on one attribute, which must belong to the customer in the URL."""

    @cached_property
    def attribute(self) -> Attribute:
        return get_object_or_404(Attribute, pk=self.kwargs["attribute_id"], customer_id=self.customer.pk)

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "attribute": self.attribute}


class AttributeUpdateView(AttributeObjectMixin, AttributeFormView):
    action = Action.UPDATE
    extra_context = {"mode": "update"}

    def initial_form(self, current: Attribute | None = None) -> AttributeForm:
        attribute = current or self.attribute
        if current is not None:
            self.__dict__["attribute"] = current  # the page now shows the stored version
        hidden = sensitive.Presenter.is_hidden(
            value=attribute.attribute_value,
            ciphertext=attribute.value_ciphertext,
            name_sensitive=sensitive.name_is_sensitive(attribute.attribute_name),
        )
        return AttributeForm(
            initial={
                "attribute_name": attribute.attribute_name,
                # A sensitive value is never put in the form: the editor types the new one.
                "attribute_value": "" if hidden else attribute.attribute_value,
                "version": attribute.etag,
            }
        )

    def save(self, form: AttributeForm) -> HttpResponse:
        try:
            attribute = services.attribute_update(
                attribute=self.attribute,
                name=form.cleaned_data["attribute_name"],
                value=form.cleaned_data["attribute_value"],
                actor=self.request.user,
                if_match=form.if_match(),
                confirm=form.cleaned_data.get("confirm") or None,
            )
        except Attribute.DoesNotExist:
            return self.written(f"Attribute {self.attribute.attribute_name} was deleted by someone else.", "warning")
        return self.written(f"Attribute {attribute.attribute_name} updated.")


class AttributeRevealView(AttributeObjectMixin, CustomerAttributesView):
    """POST: the plain value of one sensitive attribute, for `view_sensitive_customer_attribute` only, recorded in
    the reveal log. htmx swaps it into the table, where app.js hides it again after REVEAL_SECONDS; without
    JavaScript it is a page of its own."""

    action = Action.VIEW
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        if not permissions.may_view_sensitive(request.user):
            raise PermissionDenied("You need the view_sensitive_customer_attribute permission to reveal values.")
        presenter = sensitive.Presenter(request.user, "ui")
        value, _hidden = presenter.value(
            customer_id=self.attribute.customer_id,
            name=self.attribute.attribute_name,
            value=self.attribute.attribute_value,
            ciphertext=self.attribute.value_ciphertext,
            name_sensitive=sensitive.name_is_sensitive(self.attribute.attribute_name),
        )
        presenter.flush()
        context = self.get_context_data(value=value, seconds=settings.ATTRIBUTES_REVEAL_SECONDS)
        template = "attributes/_revealed.html" if request.htmx else "attributes/revealed.html"
        response = self.response_class(
            request=request, template=[template], context=context, using=self.template_engine
        )
        response["Cache-Control"] = "no-store"
        return response


class AttributeDeleteView(AttributeObjectMixin, CustomerAttributesView):
    action = Action.DELETE

    def get_template_names(self):
        return ["attributes/_delete_modal.html"] if self.request.htmx else ["attributes/attribute_confirm_delete.html"]

    def get_context_data(self, **kwargs):
        kwargs.setdefault("version_form", VersionForm(initial={"version": self.attribute.etag}))
        name = self.attribute.attribute_name
        kwargs["definition"] = selectors.definitions_for([name]).get(name)  # protected? dependent systems?
        return super().get_context_data(**kwargs)

    def post(self, request, *args, **kwargs):
        name = self.attribute.attribute_name
        try:
            services.attribute_delete(
                attribute=self.attribute,
                actor=request.user,
                if_match=VersionForm(request.POST).if_match(),
                confirm=request.POST.get("confirm"),
            )
        except Attribute.DoesNotExist:
            return self.written(f"Attribute {name} was already deleted by someone else.", "warning")
        except ValidationError as error:  # a protected name without its typed confirmation
            return self.render_to_response(self.get_context_data(confirm_errors=error.messages))
        except services.PreconditionFailed as stale:
            # Changed since the dialog opened: show the current value and ask again.
            self.__dict__["attribute"] = stale.current
            return self.render_to_response(self.get_context_data(stale=True))
        return self.written(f"Attribute {name} deleted.")
