"""The History view of the Attributes tab: every change, newest first, with one-click restore."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect

from .. import selectors, services
from ..models import Attribute
from ..permissions import Action
from .tab import CustomerAttributesView


class AttributeHistoryView(CustomerAttributesView):
    """The customer's attribute changes, newest first, paged; a full page, or the tab area for htmx."""

    action = Action.VIEW

    def get_template_names(self):
        if self.request.htmx and self.request.htmx.target == "tab-area":
            return ["attributes/_history_tab.html"]
        return ["attributes/history.html"]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        page, rows = selectors.history_page(self.customer, self.request.GET.get("page"), self.request.user)
        context.update(page_obj=page, rows=rows, active_tab="history")
        return context


class AttributeRestoreView(CustomerAttributesView):
    """POST: bring back the name and value of one history row through the normal write path."""

    action = Action.CREATE
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        try:
            outcome = services.attribute_restore(
                history_id=self.kwargs["history_id"], customer_id=self.customer.pk, actor=request.user
            )
        except Attribute.history.model.DoesNotExist:
            raise Http404("No such history entry for this customer.") from None
        except ValidationError as error:
            messages.error(request, "Could not restore: " + " ".join(error.messages))
        except PermissionDenied as error:
            messages.error(request, f"Could not restore: {error}")
        else:
            attribute = outcome.attribute
            messages.success(request, f"Restored {attribute.attribute_name} = “{attribute.attribute_value}”.")
        return redirect("attributes:history", self.customer.pk)
