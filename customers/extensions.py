"""Where other apps plug into the customer pages and API, so customers imports none of them.

An app registers here from its `AppConfig.ready()` (NetBox's `ViewTab` and `registry`, in small):

- a `CustomerTab` on a customer's page: its label, URL name, who may see it, and any template its
  pages need on the overview page too (a modal shell the tab loads forms into);
- a `ListFilter` for the customer list page, `GET /crm/customer/` and the exports built on them: the query
  parameters it owns, how it narrows a queryset, and the templates that show its part of the list page;
- a template for a slot of the customer list page (`LIST_ACTIONS`: the header's buttons, `LIST_TOOLS`: the
  links beside the customer count), rendered with the page's context.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse

LIST_ACTIONS = "actions"
LIST_TOOLS = "tools"


@dataclass(frozen=True)
class CustomerTab:
    """A tab on the customer page after Overview. `name` is the `active_tab` its pages set."""

    name: str
    label: str
    url_name: str  # reversed with the customer's id
    permission: Callable[[Any], bool]  # user -> may see the tab
    modal_template: str = ""  # included in the customer page's modals block

    def url(self, customer) -> str:
        return reverse(self.url_name, args=[customer.pk])


@dataclass
class ListFilterState:
    """A list filter read from the list page's query string: what to show and how to narrow the list."""

    context: dict[str, Any]  # merged into the list page's context for the filter's templates
    form_template: str = ""  # inside the search form, after the search box and status
    notice_template: str = ""  # after the search form (conditions it cannot show, errors)
    errors: list[str] = field(default_factory=list)  # when not empty the list shows no customers
    blocked_text: str = ""  # the empty table's text while `errors` holds
    narrow: Callable[[QuerySet], QuerySet] = lambda queryset: queryset


@dataclass(frozen=True)
class ApiFilter:
    """A list filter applied to an API list: the narrowed queryset and a fast way to count it."""

    queryset: QuerySet
    count: Callable[[], int]


class ListFilter(Protocol):
    """A filter of the customer list that another app contributes (the attribute filter)."""

    params: frozenset[str]  # the query parameters it owns, on the list page and the API
    api_parameters: list  # drf-spectacular OpenApiParameters describing them

    def for_page(self, request: HttpRequest, *, ignore: set[str]) -> ListFilterState:
        """The filter's state on the list page; parameters in `ignore` belong to others."""

    def for_api(self, request, queryset: QuerySet, *, ignore: set[str]) -> ApiFilter | None:
        """The filtered API queryset, None when none of its parameters is given.

        Raises ValidationError naming a bad (or unknown, not in `ignore`) parameter and PermissionDenied
        when the user may not filter by it.
        """


_tabs: list[CustomerTab] = []
_list_filters: list[ListFilter] = []
_list_templates: dict[str, list[str]] = {LIST_ACTIONS: [], LIST_TOOLS: []}


def register_tab(tab: CustomerTab) -> None:
    if all(existing.name != tab.name for existing in _tabs):  # ready() may run twice in tests
        _tabs.append(tab)


def register_list_filter(list_filter: ListFilter) -> None:
    if list_filter not in _list_filters:
        _list_filters.append(list_filter)


def register_list_template(slot: str, template_name: str) -> None:
    if template_name not in _list_templates[slot]:
        _list_templates[slot].append(template_name)


def tabs() -> list[CustomerTab]:
    return list(_tabs)


def visible_tabs(user) -> list[CustomerTab]:
    return [tab for tab in _tabs if tab.permission(user)]


def list_filters() -> list[ListFilter]:
    return list(_list_filters)


def list_templates(slot: str) -> list[str]:
    return list(_list_templates[slot])


def others_params(list_filter: ListFilter, own: Iterable[str] = ()) -> set[str]:
    """The parameters a filter must leave to others: the caller's `own` and every other filter's."""
    params = set(own)
    for other in _list_filters:
        if other is not list_filter:
            params |= other.params
    return params


def api_parameters() -> list:
    return [parameter for list_filter in _list_filters for parameter in list_filter.api_parameters]
