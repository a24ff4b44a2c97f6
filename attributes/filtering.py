"""The customer list's attribute filter: the web form's operator choice <-> the API's query parameters.

The filter's state lives in the URL under the API's own parameter names (`attribute_name`,
`attribute_value__startswith`, `attribute_exists`, …), so a filtered list can be bookmarked and shared, and
the same URL works against `GET /crm/customer/`. A plain HTML form cannot choose a parameter's name from a
select, so it submits the UI-only `filter_op` and `filter_value`; `canonical_query` turns those into the API
names and the view redirects there. Parsing and querying stay in `attributes.search`.
"""

from dataclasses import dataclass, field

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import QueryDict

from . import search
from .models import Attribute

UI_PARAMS = {"filter_op", "filter_value"}
LIST_PARAMS = {"q", "status", "page"}
NAMES_CACHE_KEY = "attributes:names-in-use"
NAMES_CACHE_SECONDS = 60
NAMES_SHOWN = 1000

# UI operator -> the API parameter it becomes, and the fixed value of the value-less ones.
_VALUE_PARAMS = {op: key for key, op in search.OPERATORS.items()}
OPERATOR_CHOICES = [
    *((op, search.OPERATOR_LABELS[op]) for op in _VALUE_PARAMS),
    ("exists", "has attribute"),
    ("missing", "lacks attribute"),
]
_EXISTS_VALUES = {"exists": "true", "missing": "false"}
_FILTER_PARAMS = ("attribute_name", *search.OPERATORS, "attribute_exists", "attribute")


def names_in_use() -> list[str]:
    """The distinct attribute names in use, for the name input's suggestions: one query a minute at most."""

    def fetch() -> list[str]:
        names = Attribute.objects.order_by().values_list("attribute_name", flat=True).distinct()
        return sorted(names)[:NAMES_SHOWN]

    return cache.get_or_set(NAMES_CACHE_KEY, fetch, NAMES_CACHE_SECONDS)


def canonical_query(params: QueryDict) -> str | None:
    """For a submitted filter form, the same query under the API's parameter names; None if already canonical."""
    if not UI_PARAMS & set(params):
        return None
    query = params.copy()
    op = query.pop("filter_op", [""])[-1]
    value = query.pop("filter_value", [""])[-1].strip()
    for key in ("q", "status"):
        if not query.get(key):  # left empty in the form: keep the shared URL short
            query.pop(key, None)
    query.pop("page", None)
    name = query.get("attribute_name", "").strip()
    if not name and not value:
        query.pop("attribute_name", None)  # an empty filter row: no attribute filter
    elif op in _EXISTS_VALUES:
        query["attribute_exists"] = _EXISTS_VALUES[op]
    else:
        # An unknown op is kept under its own name so search.parse names it, instead of guessing.
        query[_VALUE_PARAMS.get(op, f"attribute_value__{op}")] = value  # replaces a hidden extra of that name
    return query.urlencode()


@dataclass(frozen=True)
class Extra:
    """A condition from the URL that the one-row form does not show (e.g. `attribute=tier:gold`)."""

    param: str
    value: str
    label: str
    remove_query: str


@dataclass
class AttributeFilter:
    """What the filter form shows, and the conditions to apply (or the error to show instead)."""

    name: str = ""
    op: str = "exact"
    value: str = ""
    conditions: list[search.Condition] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    extras: list[Extra] = field(default_factory=list)

    @property
    def active(self) -> bool:
        return bool(self.conditions or self.errors)

    @property
    def value_disabled(self) -> bool:
        return self.op in _EXISTS_VALUES


def from_query(params: QueryDict, *, allowed: bool = True) -> AttributeFilter:
    """Read the filter from a canonical query string; `allowed` is whether the user may filter by attributes."""
    state = AttributeFilter(name=params.get("attribute_name", ""))
    primary = next((key for key in search.OPERATORS if key in params), None)
    if primary:
        state.op, state.value = search.OPERATORS[primary], params[primary]
    elif "attribute_exists" in params:
        state.op = "missing" if params["attribute_exists"].lower() == "false" else "exists"
    elif state.name:
        state.op = "exists"
    state.extras = _extras(params, primary)
    if not allowed and any(key in params for key in _FILTER_PARAMS):
        # Filtering would reveal attribute values to someone who may not see them.
        state.errors = ["You need the view_customer_attribute permission to filter customers by attribute."]
        return state
    try:
        state.conditions = search.parse(params, allowed=search.CUSTOMER_PARAMS, ignore=LIST_PARAMS | UI_PARAMS)
    except ValidationError as error:
        state.errors = [message for messages in error.message_dict.values() for message in messages]
    return state


def _extras(params: QueryDict, primary: str | None) -> list[Extra]:
    name = params.get("attribute_name", "")
    extras = []
    for key, values in params.lists():
        if key == "attribute":
            labels = [_pair_label(value) for value in values]
        elif (key in search.OPERATORS and key != primary) or (key == "attribute_exists" and primary):
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
    return f"{search.OPERATOR_LABELS[search.OPERATORS[key]]} {value}"


def _pair_label(raw: str) -> str:
    name, _, value = raw.partition(":")
    return f"{name} equals {value}"
