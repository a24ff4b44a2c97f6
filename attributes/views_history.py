"""The History view of the Attributes tab: every change, newest first, with one-click restore."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect

from . import services
from .models import Attribute
from .permissions import Action, may_restore
from .views import CustomerAttributesView

PAGE_SIZE = 50
HISTORY_FIELDS = [
    "history_id", "history_date", "history_type", "attribute_id", "attribute_name", "attribute_value",
    "previous_name", "previous_value", "operation", "channel", "actor_name", "token_name",
]  # fmt: skip


def restorable(record, current: dict[str, str], user) -> bool:
    """Restorable when the name is gone or now holds another value, and the user may make that write."""
    if current.get(record.attribute_name) == record.attribute_value:
        return False
    return may_restore(user, exists=record.attribute_name in current)


class AttributeHistoryView(CustomerAttributesView):
    """The customer's attribute changes, newest first, paged; a full page, or the tab area for htmx."""

    action = Action.VIEW

    def get_template_names(self):
        if self.request.htmx and self.request.htmx.target == "tab-area":
            return ["attributes/_history_tab.html"]
        return ["attributes/history.html"]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        records = (
            Attribute.history.filter(customer_id=self.customer.pk)
            .order_by("-history_date", "-history_id")
            .only(*HISTORY_FIELDS)
        )
        page = Paginator(records, PAGE_SIZE).get_page(self.request.GET.get("page"))
        current = dict(self.customer.attributes.values_list("attribute_name", "attribute_value"))
        rows = [{"record": r, "restorable": restorable(r, current, self.request.user)} for r in page]
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
