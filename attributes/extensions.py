"""What attributes contributes to the customer pages and API (registered in `AttributesConfig.ready()`).

The Attributes and History tabs, the attribute filter of the customer list (page, `GET /crm/customer/`),
and the list page's Import and Export CSV links. The filter's logic stays in `filtering` and `search`.
"""

from django.db.models import QuerySet
from django.http import HttpRequest, QueryDict

from customers.extensions import ApiFilter, CustomerTab, ListFilterState

from . import filtering, search
from .api.views import CUSTOMER_SEARCH_PARAMS
from .permissions import Action, has_permission, require


def may_view(user) -> bool:
    return has_permission(user, Action.VIEW)


ATTRIBUTES_TAB = CustomerTab(
    name="attributes",
    label="Attributes",
    url_name="attributes:tab",
    permission=may_view,
    modal_template="attributes/_modal_shell.html",
)
HISTORY_TAB = CustomerTab(name="history", label="History", url_name="attributes:history", permission=may_view)

LIST_ACTIONS_TEMPLATE = "attributes/_customer_list_actions.html"
LIST_TOOLS_TEMPLATE = "attributes/_customer_list_export.html"


class AttributeListFilter:
    """The customer list's attribute filter, under the API's parameter names (see `filtering`)."""

    params = frozenset(search.CUSTOMER_PARAMS | filtering.UI_PARAMS)
    api_parameters = CUSTOMER_SEARCH_PARAMS

    def canonical_query(self, params: QueryDict) -> str | None:
        return filtering.canonical_query(params)

    def for_page(self, request: HttpRequest, *, ignore: set[str]) -> ListFilterState:
        # `filtering.from_query` knows the list page's own parameters already; `ignore` adds nothing yet.
        allowed = may_view(request.user)
        state = filtering.from_query(request.GET, allowed=allowed)
        context = {
            "attribute_filter": state,
            "operator_choices": filtering.OPERATOR_CHOICES,
            "can_view_attributes": allowed,
        }
        if allowed:
            context["attribute_names"] = filtering.names_in_use()
        return ListFilterState(
            context=context,
            form_template="attributes/_customer_filter.html",
            notice_template="attributes/_customer_filter_notices.html",
            errors=state.errors,
            blocked_text="Correct the attribute filter to see customers.",
            narrow=lambda queryset: search.filter_customers(queryset, state.conditions),
        )

    def for_api(self, request, queryset: QuerySet, *, ignore: set[str]) -> ApiFilter | None:
        conditions = search.parse(request.query_params, allowed=search.CUSTOMER_PARAMS, ignore=ignore)
        if not conditions:
            return None
        require(request.user, Action.VIEW)  # filtering by attribute reveals attribute values
        return ApiFilter(
            queryset=search.filter_customers(queryset, conditions),
            count=lambda: search.count_customers(queryset, conditions),
        )


ATTRIBUTE_FILTER = AttributeListFilter()
