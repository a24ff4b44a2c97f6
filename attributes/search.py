"""Find customers (and attributes) by attribute: one parser and one query builder for the API and the UI.

Query parameters:
    attribute_name=N                    customers that have N (alone), or the name the operators below test
    attribute_value=V                   N equals V
    attribute_value__in=A,B             N is one of A, B
    attribute_value__startswith=P       N starts with P
    attribute_value__icontains=S        N contains S, ignoring case
    attribute_exists=true|false         customers that have / lack N
    attribute=N:V                       N equals V; repeatable, every condition must hold (AND)

Unknown parameters and operators are errors, never ignored. Every condition becomes an indexed
`customer_id IN (SELECT customer_id FROM attribute WHERE attribute_name = … AND attribute_value …)`:
a correlated EXISTS would make SQLite scan every customer.
"""

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from .models import Attribute
from .validators import NAME_RE

OPERATORS = {
    "attribute_value": "exact",
    "attribute_value__in": "in",
    "attribute_value__startswith": "startswith",
    "attribute_value__icontains": "icontains",
}
OPERATOR_LABELS = {"exact": "equals", "in": "is one of", "startswith": "starts with", "icontains": "contains"}
CUSTOMER_PARAMS = {"attribute_name", "attribute_exists", "attribute", *OPERATORS}
ATTRIBUTE_PARAMS = {"attribute_name", *OPERATORS}
MAX_IN_VALUES = 100


@dataclass(frozen=True)
class Condition:
    name: str
    op: str  # exact, in, startswith, icontains, exists, missing
    value: str | tuple[str, ...] | None = None

    def lookup(self) -> dict:
        lookup = {"attribute_name": self.name}
        if self.op in {"exact", "in", "startswith", "icontains"}:
            lookup["attribute_value" if self.op == "exact" else f"attribute_value__{self.op}"] = self.value
        return lookup


def _name(param: str, raw: str) -> str:
    name = raw.strip()
    if not NAME_RE.match(name):
        raise ValidationError({param: f"“{raw}” is not a valid attribute name (lowercase snake_case)."})
    return name


def _single(params, key: str) -> str:
    values = params.getlist(key)
    if len(values) > 1:
        raise ValidationError({key: "Give this parameter once (use attribute=name:value to combine conditions)."})
    return values[0]


def parse(params, *, allowed: set[str], ignore: set[str] = frozenset()) -> list[Condition]:
    """Turn query parameters into conditions; raise ValidationError naming any bad parameter."""
    unknown = sorted(set(params) - allowed - set(ignore))
    if unknown:
        errors = {}
        for key in unknown:
            if key.startswith("attribute_value__"):
                op = key.removeprefix("attribute_value__")
                known = ", ".join(k.removeprefix("attribute_value__") for k in OPERATORS if "__" in k)
                errors[key] = f"Unknown operator “{op}”: use attribute_value (exact) or attribute_value__ with {known}."
            else:
                errors[key] = f"Unknown filter parameter “{key}”."
        raise ValidationError(errors)

    conditions: list[Condition] = []
    name = _name("attribute_name", _single(params, "attribute_name")) if "attribute_name" in params else None
    value_ops = [key for key in OPERATORS if key in params]
    if (value_ops or "attribute_exists" in params) and name is None:
        raise ValidationError({"attribute_name": "Give attribute_name with attribute_value… or attribute_exists."})
    for key in value_ops:
        raw = _single(params, key)
        op = OPERATORS[key]
        if op == "in":
            values = tuple(v for v in raw.split(",") if v != "")
            if not values or len(values) > MAX_IN_VALUES:
                raise ValidationError({key: f"Give 1 to {MAX_IN_VALUES} comma-separated values."})
            conditions.append(Condition(name, op, values))
        else:
            if raw == "":
                raise ValidationError({key: "Give a value."})
            conditions.append(Condition(name, op, raw))
    if "attribute_exists" in params:
        raw = _single(params, "attribute_exists").lower()
        if raw not in {"true", "false"}:
            raise ValidationError({"attribute_exists": "Use true or false."})
        if raw == "false" and value_ops:
            raise ValidationError({"attribute_exists": "attribute_exists=false cannot be combined with a value."})
        conditions.append(Condition(name, "exists" if raw == "true" else "missing"))
    elif name is not None and not value_ops:
        conditions.append(Condition(name, "exists"))
    for raw in params.getlist("attribute"):
        attr_name, sep, value = raw.partition(":")
        if not sep or value == "":
            raise ValidationError({"attribute": f"“{raw}”: use attribute=name:value."})
        conditions.append(Condition(_name("attribute", attr_name), "exact", value))
    return conditions


def filter_customers(queryset: QuerySet, conditions: list[Condition]) -> QuerySet:
    """Customers meeting every condition."""
    for condition in conditions:
        matching = Attribute.objects.filter(**condition.lookup()).values("customer_id")
        if condition.op == "missing":
            queryset = queryset.exclude(customer_id__in=matching)
        else:
            queryset = queryset.filter(customer_id__in=matching)
    return queryset


def count_customers(queryset: QuerySet, conditions: list[Condition]) -> int:
    """How many customers `filter_customers(queryset, conditions)` finds.

    For the common single positive condition on all customers this counts the matching attribute rows
    directly: one name per customer makes them the same number, and it is an index-only scan (6 ms instead
    of 83 ms for 48,000 matches at 1M rows on PostgreSQL).
    """
    if len(conditions) == 1 and conditions[0].op != "missing" and not queryset.query.where:
        return Attribute.objects.filter(**conditions[0].lookup()).count()
    return filter_customers(queryset, conditions).count()


def filter_attributes(queryset: QuerySet, conditions: list[Condition]) -> QuerySet:
    """Attributes meeting every condition (across customers)."""
    for condition in conditions:
        queryset = queryset.filter(**condition.lookup())
    return queryset
