"""What attributes contributes to the customer pages and API (registered in `AttributesConfig.ready()`).

The Attributes and History tabs, the attribute filter of the customer list (page, `GET /crm/customer/`),
and the list page's Import and Export CSV links. The filter itself is `filters.CustomerAttributeFilterSet`;
this module adds what the list page's filter row shows.
"""

from dataclasses import dataclass, field

from django.db.models import QuerySet
from django.http import HttpRequest, QueryDict

from customers.extensions import ApiFilter, CustomerTab, ListFilterState

from . import filters
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


@dataclass(frozen=True)
class Operator:
    """A choice of the filter row's operator select: the parameter it gives the value, or the attribute_exists
    value it sends instead (static/js/app.js renames the inputs; without JavaScript the row is "equals")."""

    code: str
    label: str
    param: str = ""
    exists: str = ""


OPERATOR_CHOICES = [
    *(Operator(op, filters.OPERATOR_LABELS[op], param=key) for key, op in filters.OPERATORS.items()),
    Operator("exists", "has attribute", exists="true"),
    Operator("missing", "lacks attribute", exists="false"),
]


@dataclass(frozen=True)
class Extra:
    """A condition from the URL that the one-row form does not show (e.g. `attribute=tier:gold`)."""

    param: str
    value: str
    label: str
    remove_query: str


@dataclass
class FilterRow:
    """What the filter row shows, and the FilterSet to apply (or the errors to show instead)."""

    name: str = ""
    op: str = "exact"
    value: str = ""
    filterset: filters.CustomerAttributeFilterSet | None = None
    errors: list[str] = field(default_factory=list)
    extras: list[Extra] = field(default_factory=list)

    @property
    def value_disabled(self) -> bool:
        return self.op in {"exists", "missing"}

    @property
    def value_param(self) -> str:
        """The value input's name: its operator's parameter (`attribute_value` while has/lacks is chosen)."""
        return next((key for key, op in filters.OPERATORS.items() if op == self.op), "attribute_value")

    @property
    def exists_value(self) -> str:
        return "false" if self.op == "missing" else "true"


def filter_row(params: QueryDict, *, allowed: bool, extra_params) -> FilterRow:
    """Read the filter row from the list page's query; `allowed` is whether the user may filter by attributes."""
    row = FilterRow(name=params.get("attribute_name", ""))
    primary = next((key for key in filters.OPERATORS if key in params), None)
    if primary:
        row.op, row.value = filters.OPERATORS[primary], params[primary]
    elif "attribute_exists" in params:
        row.op = "missing" if params["attribute_exists"].lower() == "false" else "exists"
    elif row.name:
        row.op = "exists"
    row.extras = _extras(params, primary)
    if not allowed and any(key in params for key in filters.CUSTOMER_PARAMS):
        # Filtering would reveal attribute values to someone who may not see them.
        row.errors = ["You need the view_customer_attribute permission to filter customers by attribute."]
        return row
    row.filterset = filters.CustomerAttributeFilterSet(params, extra_params=extra_params)
    if not row.filterset.is_valid():
        row.errors = [message for messages in row.filterset.errors.values() for message in messages]
    return row


def _extras(params: QueryDict, primary: str | None) -> list[Extra]:
    name = params.get("attribute_name", "")
    extras = []
    for key, values in params.lists():
        if key == "attribute":
            labels = [_pair_label(value) for value in values]
        elif (key in filters.OPERATORS and key != primary) or (key == "attribute_exists" and primary):
            labels = [f"{name} {_label(key, value)}" for value in values]
        else:
            continue
        for value, label in zip(values, labels, strict=True):
            rest = params.copy()
            rest.setlist(key, [v for v in values if v != value])
            rest.pop("page", None)
            extras.append(Extra(key, value, label, rest.urlencode()))
    return extras


def _label(key: str, value: str) -> str:
    if key == "attribute_exists":
        return "lacks attribute" if value.lower() == "false" else "has attribute"
    return f"{filters.OPERATOR_LABELS[filters.OPERATORS[key]]} {value}"


def _pair_label(raw: str) -> str:
    name, _, value = raw.partition(":")
    return f"{name} equals {value}"


class AttributeListFilter:
    """The customer list's attribute filter, under the API's parameter names."""

    params = filters.CUSTOMER_PARAMS
    api_parameters = CUSTOMER_SEARCH_PARAMS

    def for_page(self, request: HttpRequest, *, ignore: set[str]) -> ListFilterState:
        allowed = may_view(request.user)
        row = filter_row(filters.form_query(request.GET), allowed=allowed, extra_params=ignore)
        context = {"attribute_filter": row, "operator_choices": OPERATOR_CHOICES, "can_view_attributes": allowed}
        if allowed:
            context["attribute_names"] = filters.names_in_use()
        return ListFilterState(
            context=context,
            form_template="attributes/_customer_filter.html",
            notice_template="attributes/_customer_filter_notices.html",
            errors=row.errors,
            blocked_text="Correct the attribute filter to see customers.",
            narrow=lambda queryset: row.filterset.filter_queryset(queryset),
        )

    def for_api(self, request, queryset: QuerySet, *, ignore: set[str]) -> ApiFilter | None:
        filterset = filters.CustomerAttributeFilterSet(request.query_params, queryset=queryset, extra_params=ignore)
        filterset.validate()
        if not filterset.conditions:
            return None
        require(request.user, Action.VIEW)  # filtering by attribute reveals attribute values
        return ApiFilter(queryset=filterset.qs, count=filterset.count)


ATTRIBUTE_FILTER = AttributeListFilter()
