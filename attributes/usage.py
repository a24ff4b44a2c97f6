"""The usage audit: which attribute names are in use, how, and which look like accidental variants.

Three queries whatever the number of names: one aggregate per name, one for the most common values
(ranked per name in the database, so only the top few rows per name come back) and one for the registry.
"""

import difflib
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Count, F, Max, Window
from django.db.models.functions import RowNumber

from .models import Attribute, AttributeDefinition

TOP_VALUES = 5
SIMILARITY = 0.9  # difflib ratio on the normalized names at or above which two names are near-duplicates


@dataclass
class NameUsage:
    """One attribute name in use."""

    name: str
    customers: int
    distinct_values: int
    last_modified: datetime
    top_values: list[tuple[str, int]] = field(default_factory=list)  # (value, customers), most common first
    defined: bool = False
    description: str = ""


@dataclass
class UsageReport:
    names: list[NameUsage]  # every name in use, by name
    unused_definitions: list[AttributeDefinition]  # defined names no customer has
    undefined: list[str]  # names in use without a definition
    near_duplicates: list[list[str]]  # groups of two or more similar names (in use or defined), each sorted


def usage_report() -> UsageReport:
    """Every attribute name in use with its figures, the registry's unused and missing names, and near-duplicates."""
    rows = (
        Attribute.objects.order_by("attribute_name")
        .values("attribute_name")
        # One row per customer and name (unique constraint), so counting rows counts customers.
        .annotate(customers=Count("pk"), distinct_values=Count("attribute_value", distinct=True))
        .annotate(last_modified=Max("last_modified"))
    )
    names = {
        row["attribute_name"]: NameUsage(
            name=row["attribute_name"],
            customers=row["customers"],
            distinct_values=row["distinct_values"],
            last_modified=row["last_modified"],
        )
        for row in rows
    }
    for name, value, count in _top_values():
        names[name].top_values.append((value, count))
    definitions = {d.name: d for d in AttributeDefinition.objects.order_by("name")}
    for usage in names.values():
        if (definition := definitions.get(usage.name)) is not None:
            usage.defined, usage.description = True, definition.description
    return UsageReport(
        names=list(names.values()),
        unused_definitions=[d for name, d in definitions.items() if name not in names],
        undefined=[name for name, usage in names.items() if not usage.defined],
        near_duplicates=near_duplicates(set(names) | set(definitions)),
    )


def _top_values() -> list[tuple[str, str, int]]:
    """(name, value, customers) for the TOP_VALUES most common values of each name, most common first."""
    counted = (
        Attribute.objects.order_by()
        .values("attribute_name", "attribute_value")
        .annotate(count=Count("pk"))
        .annotate(
            rank=Window(
                RowNumber(),
                partition_by=[F("attribute_name")],
                order_by=[F("count").desc(), F("attribute_value").asc()],
            )
        )
    )
    # Filtering on a window makes Django wrap the grouped query in a subquery: the database does the ranking.
    top = counted.filter(rank__lte=TOP_VALUES).values_list("attribute_name", "attribute_value", "count", "rank")
    return [(name, value, count) for name, value, count, _rank in sorted(top, key=lambda r: (r[0], r[3]))]


def normalize(name: str) -> str:
    """The form two spellings of one name share: no underscores, no plural "s" (billing_methods -> billingmethod)."""
    flat = name.replace("_", "")
    return flat[:-1] if flat.endswith("s") and len(flat) > 1 else flat


def near_duplicates(names: set[str]) -> list[list[str]]:
    """Groups of names whose normalized forms are equal or at least SIMILARITY alike (transitively), sorted."""
    by_form: dict[str, list[str]] = {}
    for name in names:
        by_form.setdefault(normalize(name), []).append(name)
    forms = sorted(by_form, key=lambda f: (len(f), f))
    parent = {f: f for f in forms}

    def root(form: str) -> str:
        while parent[form] != form:
            parent[form] = parent[parent[form]]
            form = parent[form]
        return form

    # Sorted by length: ratio = 2 * matches / (len a + len b) >= SIMILARITY needs
    # len shorter >= len longer * SIMILARITY / (2 - SIMILARITY), so each form is compared only with the
    # slightly shorter ones before it rather than with every other name.
    for i, longer in enumerate(forms):
        matcher = difflib.SequenceMatcher(b=longer, autojunk=False)
        for shorter in reversed(forms[:i]):
            if len(shorter) < len(longer) * SIMILARITY / (2 - SIMILARITY):
                break
            matcher.set_seq1(shorter)
            if matcher.real_quick_ratio() >= SIMILARITY and matcher.quick_ratio() >= SIMILARITY:
                if matcher.ratio() >= SIMILARITY:
                    parent[root(shorter)] = root(longer)
    groups: dict[str, list[str]] = {}
    for form, members in by_form.items():
        groups.setdefault(root(form), []).extend(members)
    return sorted(sorted(group) for group in groups.values() if len(group) > 1)
